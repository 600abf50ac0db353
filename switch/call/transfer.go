package call

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
	"switchboard/switch/event"
	"switchboard/switch/route"
)

// Blind transfer. A party of an answered call (by REFER from its phone, or
// the web UI through Manager.Transfer) names a target; the other party —
// the transferee — keeps its leg and media endpoint, hears music on hold,
// and the target's plan runs for it exactly as for a new call to that
// extension (answering rules, forwarding, voicemail). The transferor leaves
// as soon as the target is routed: the call goes on without it.

// transfer is one blind transfer a party asked for, routed and under way.
type transfer struct {
	by     *leg       // the transferor: leaves the call
	target string     // what it asked for
	plan   route.Plan // the target's plan
	sub    *referSub  // the REFER's implicit subscription; nil without one
	phone  bool       // asked for by the transferor's phone (it may hang up by itself)
}

// TransferError is why a transfer cannot be made; Code is the SIP status
// that says so (in a REFER's NOTIFY, or its response).
type TransferError struct {
	Code   int
	Reason string
}

func (e *TransferError) Error() string { return fmt.Sprintf("transfer: %d %s", e.Code, e.Reason) }

var (
	// ErrNoCall: no live call has that id.
	ErrNoCall = &TransferError{481, "Call/Transaction Does Not Exist"}
	// ErrNotParty: the device is not talking in that call.
	ErrNotParty = &TransferError{403, "Forbidden"}
	// ErrNotConnected: the call is not between two parties now (it rings,
	// is in voicemail or is being transferred).
	ErrNotConnected = &TransferError{491, "Request Pending"}
	// ErrTargetNotFound: no extension has that number.
	ErrTargetNotFound = &TransferError{404, "Not Found"}
	// ErrTargetUnavailable: the extension cannot take calls (disabled user).
	ErrTargetUnavailable = &TransferError{480, "Temporarily Unavailable"}
	// ErrTargetFeature: a feature code is not a place to send a caller.
	ErrTargetFeature = &TransferError{403, "Forbidden"}
	errRouting       = &TransferError{500, "Server Internal Error"}
)

// Transfer moves the call callID away from device, one of its two talking
// parties, to the extension target, as a blind transfer: device's phone is
// hung up and the other party waits for target. Routing errors (no such
// extension) come back at once and leave the call as it was.
func (m *Manager) Transfer(callID, device, target string) error {
	m.mu.Lock()
	c := m.calls[callID]
	m.mu.Unlock()
	if c == nil {
		return ErrNoCall
	}
	result := make(chan error, 1)
	run := func() bool {
		l := c.party(device)
		if l == nil {
			result <- ErrNotParty
			return false
		}
		result <- c.askTransfer(l, target, nil, false)
		return false
	}
	select {
	case c.inbox <- run:
		return <-result
	case <-c.ended:
		return ErrNoCall
	case <-time.After(2 * time.Second):
		return ErrNotConnected
	}
}

// party is the talking leg of device, or nil.
func (c *Call) party(device string) *leg {
	for _, l := range []*leg{c.a, c.b} {
		if l != nil && l.device == device {
			return l
		}
	}
	return nil
}

// askTransfer routes a transfer that by asked for. The call's own goroutine
// runs it while the parties talk (or in voicemail, where it is refused). A
// target that cannot be reached ends the subscription with why and leaves
// the call as it was; otherwise talk returns the transfer to hand over.
func (c *Call) askTransfer(by *leg, target string, sub *referSub, phone bool) error {
	plan, err := c.routeTransfer(by, target)
	if err != nil {
		c.log.Info("transfer refused", "by", by.device, "target", target, "err", err)
		if sub != nil {
			sub.final(err.Code, err.Reason)
		}
		return err
	}
	c.next = &transfer{by: by, target: target, plan: plan, sub: sub, phone: phone}
	return nil
}

// routeTransfer is the target's plan, as for a call the transferor made.
func (c *Call) routeTransfer(by *leg, target string) (route.Plan, *TransferError) {
	if c.b == nil || (by != c.a && by != c.b) || by.outside {
		return route.Plan{}, ErrNotConnected
	}
	plan, err := route.Route(route.Input{CallerDevice: by.device, Dialled: target}, c.m.deps.Directory, c.m.cfg.Routing, time.Now())
	switch {
	case err != nil:
		c.log.Error("route transfer", "err", err)
		return plan, errRouting
	case plan.Kind == route.NotFound:
		return plan, ErrTargetNotFound
	case plan.Kind == route.Unavailable:
		return plan, ErrTargetUnavailable
	case plan.Kind == route.Feature:
		return plan, ErrTargetFeature
	}
	return plan, nil
}

// converse runs an answered call until it ends, following its transfers:
// each one hands the call over and runs the target's plan for the party
// that stays.
func (c *Call) converse() {
	for {
		t := c.talk()
		if t == nil {
			return
		}
		c.handOver(t)
		if !c.runSteps(t.plan) {
			return
		}
	}
}

// handOver takes the transferor out of the call. The other party becomes
// the waiting party (leg A) and hears music on hold until the target
// answers; the transferor is told and hung up in the background.
func (c *Call) handOver(t *transfer) {
	stay := c.a
	if t.by == c.a {
		stay = c.b
	}
	c.setBridged(false)
	c.stopMusic()
	c.a, c.b = stay, nil
	now := time.Now()
	c.rec.Transfers = append(c.rec.Transfers, store.Transfer{By: t.by.device, To: t.target, At: now})
	c.from = c.transferee(stay, t.target)
	c.sentRinging = false
	c.snapMu.Lock()
	c.snap.From, c.snap.To, c.snap.AnsweredBy, c.snap.Answer = c.from.number, t.target, "", time.Time{}
	c.snapMu.Unlock()
	if !stay.held {
		c.music = stay.ep.Play(c.m.music.source())
	}
	c.log.Info("call transferred", "by", t.by.device, "target", t.target, "transferee", stay.device, "plan", t.plan.String())
	c.publish(event.CallTransferred, t.by.device)
	by, sub, phone := t.by, t.sub, t.phone
	c.m.wg.Go(func() { c.m.leave(by, sub, phone) })
}

// transferee is who the target's phones are called for: the party that
// stays, shown by its extension and name.
func (c *Call) transferee(l *leg, target string) party {
	p := party{device: l.device, number: route.ExtOf(l.device), dialled: target}
	switch {
	case l.outside:
		p.number = outsideUser(l.device)
	case l.side == callerSide:
		p.name = c.rec.CallerName
	default:
		if u, err := c.m.deps.Directory.User(p.number); err == nil {
			p.name = u.Name()
		}
	}
	return p
}

// outsideUser is who an outside leg's party is shown as to our phones: the
// number it was forwarded to, or the user part of its SIP address.
func outsideUser(target string) string {
	var u sip.Uri
	if !strings.HasPrefix(target, "sip") || sip.ParseUri(target, &u) != nil {
		return target
	}
	return cmp.Or(u.User, u.Host)
}

// answerTransfer connects the transferee with the target's phone that answered.
func (c *Call) answerTransfer(b *leg) bool {
	t := &c.rec.Transfers[len(c.rec.Transfers)-1]
	t.AnsweredBy, t.Result = b.device, store.Answered
	now := time.Now()
	c.snapMu.Lock()
	c.snap.AnsweredBy, c.snap.Answer = b.device, now
	c.snapMu.Unlock()
	c.applyHold() // bridges (the music stops) unless someone holds
	c.publish(event.CallAnswered, b.device)
	c.log.Debug("transfer answered", "device", b.device)
	return true
}

// setResult records how reaching a callee ended: as the call's disposition,
// or after a transfer as the transfer's result (the call stays answered).
func (c *Call) setResult(d store.Disposition, cause string) {
	if n := len(c.rec.Transfers); n > 0 {
		c.rec.Transfers[n-1].Result = d
	} else {
		c.rec.Disposition = d
	}
	c.rec.Cause = cause
}

// answeredBy is who took the call last: its answerer, or after a transfer the target's.
func (c *Call) answeredBy() string {
	if n := len(c.rec.Transfers); n > 0 {
		return c.rec.Transfers[n-1].AnsweredBy
	}
	return c.rec.AnsweredBy
}

// transferredAt is when the call was last handed over, or zero.
func (c *Call) transferredAt() time.Time {
	if n := len(c.rec.Transfers); n > 0 {
		return c.rec.Transfers[n-1].At
	}
	return time.Time{}
}

// stopMusic ends the music on hold the call plays to a party, if any.
func (c *Call) stopMusic() {
	if c.music != nil {
		c.music()
		c.music = nil
	}
}
