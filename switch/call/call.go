package call

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/media/webrtc"
	"switchboard/store"
	"switchboard/switch/event"
	"switchboard/switch/route"
	"switchboard/switch/siptext"
)

// side names a leg's place in a call.
type side int

const (
	callerSide side = iota
	calleeSide
)

// leg is one SIP dialog of a call and its media endpoint.
type leg struct {
	call   *Call
	side   side
	device string
	server *sipgo.DialogServerSession // the caller's leg (we are UAS)
	client *sipgo.DialogClientSession // a callee's leg (we are UAC)
	ep     *media.Endpoint
	web    *webrtc.Leg       // a browser's media through the gateway; nil for a desk phone (webrtc.go)
	local  media.SessionDesc // what we last offered/answered on this leg
	sdpVer atomic.Uint64
	held   bool                    // the phone put the call on hold (sendonly/inactive)
	ack    atomic.Pointer[ackWait] // a re-INVITE's 2xx being repeated until its ACK (reinvite_ack.go)
	late   lateOffer               // the caller sent no SDP: our offer went in the 200 (late_offer.go)

	outside bool // a forward to a number or SIP address, not a phone of ours: it may not transfer
}

// Call is one call. Its fields belong to the goroutine running run.
type Call struct {
	m      *Manager
	log    *slog.Logger
	id     string
	req    *sip.Request
	tx     sip.ServerTransaction
	a, b   *leg
	rec    store.CallRecord
	inbox  chan func() bool // work from SIP handlers, run by the owner; true = the session was refreshed
	ended  chan struct{}
	bridge func()    // undoes the media bridge
	music  func()    // stops music on hold to the party that was put on hold
	digits chan byte // the caller's key presses (RFC 4733, SIP INFO) for applications

	from        party     // who the callees are called for
	answered    bool      // the caller's leg is answered: after a transfer nothing answers it again
	next        *transfer // a transfer a party asked for, taken by talk
	sentRinging bool      // 180 relayed to the caller (or, after a transfer, ringing published)
	early       *leg      // the ringing callee whose early media the caller hears (early.go)

	device string // the calling device, counted against maxCallsPerDevice

	snapMu sync.Mutex
	snap   Snapshot
}

// maxCallsPerDevice is how many calls one device may have started and not
// yet ended: more than any phone's lines, far fewer than the RTP ports one
// set of credentials (a webphone's secret) could otherwise take.
const maxCallsPerDevice = 16

func (m *Manager) newCall(req *sip.Request, tx sip.ServerTransaction, device string) *Call {
	id := req.CallID().Value()
	c := &Call{m: m, id: id, req: req, tx: tx, inbox: make(chan func() bool), ended: make(chan struct{}), digits: make(chan byte, 32),
		log: m.log.With("call", id, "from", device, "to", req.Recipient.User)}
	now := time.Now()
	c.rec = store.CallRecord{ID: id, Direction: store.Internal, Caller: device, CallerDevice: device,
		Callee: req.Recipient.User, Start: now}
	c.rec.Caller = route.ExtOf(device)
	if from := req.From(); from != nil {
		c.rec.CallerName = siptext.DisplayPlain(from.DisplayName)
	}
	c.from = party{device: device, number: c.rec.Caller, name: c.rec.CallerName, dialled: c.rec.Callee}
	c.snap = Snapshot{ID: id, From: c.rec.Caller, To: c.rec.Callee, Start: now}
	c.device = device
	m.mu.Lock()
	if _, dup := m.calls[id]; dup {
		m.mu.Unlock()
		respond(tx, req, 482, "Loop Detected")
		return nil
	}
	if m.perDevice[device] >= maxCallsPerDevice {
		m.mu.Unlock()
		c.log.Warn("call refused: too many calls from this device", "calls", maxCallsPerDevice)
		respond(tx, req, 403, "Too Many Calls")
		return nil
	}
	m.calls[id] = c
	m.perDevice[device]++
	m.mu.Unlock()
	return c
}

func (c *Call) snapshot() Snapshot {
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	return c.snap
}

func (c *Call) publish(k event.Kind, device string) {
	c.m.deps.Bus.Publish(event.Event{Kind: k, CallID: c.id, From: c.from.device, FromName: c.from.name,
		To: c.from.dialled, Device: device})
}

// party is who a call's callees are called for: the caller and what it
// dialled, or after a transfer the transferee and the transfer target.
type party struct {
	device  string // the waiting party's device (an outside number for a leg to one)
	number  string // shown to the called phones
	name    string
	dialled string
}

// run carries the call from INVITE to its record.
func (c *Call) run() {
	defer c.finish()
	c.publish(event.CallStarted, "")
	plan, err := route.Route(route.Input{CallerDevice: c.rec.CallerDevice, Dialled: c.rec.Callee},
		c.m.deps.Directory, c.m.cfg.Routing, time.Now())
	if err != nil {
		c.log.Error("route", "err", err)
		c.fail(500, "Server Internal Error", store.Failed, "routing error")
		return
	}
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("call", "plan", plan.String())
	}
	switch plan.Kind {
	case route.NotFound:
		c.fail(404, "Not Found", store.Failed, "404 not found")
		return
	case route.Unavailable:
		c.fail(480, "Temporarily Unavailable", store.Failed, "480 "+plan.Reason)
		return
	}
	if !c.acceptCaller() {
		return
	}
	if plan.Kind == route.Feature {
		c.runFeature(plan)
		return
	}
	if c.runSteps(plan) {
		c.converse()
	}
}

// acceptCaller parses the caller's offer and sets up leg A.
func (c *Call) acceptCaller() bool {
	a := &leg{call: c, side: callerSide, device: c.rec.CallerDevice}
	if len(c.req.Body()) == 0 {
		return c.acceptLateOffer(a)
	}
	offer, err := c.fromPhone(a, c.req.Body())
	if err != nil {
		a.closeMedia()
		c.fail(488, "Not Acceptable Here", store.Failed, "488 bad or missing SDP offer")
		return false
	}
	codec, err := media.Negotiate(offer, c.m.cfg.Codecs)
	if err != nil {
		a.closeMedia()
		c.fail(488, "Not Acceptable Here", store.Failed, "488 no common codec")
		return false
	}
	ep, err := c.m.deps.Media.NewEndpoint()
	if err != nil {
		a.closeMedia()
		c.log.Error("media for caller", "err", err)
		c.fail(503, "Service Unavailable", store.Failed, "503 no media ports")
		return false
	}
	a.ep = ep
	a.local = media.SessionDesc{Addr: c.m.deps.Media.AdvertiseAddr(), Port: ep.LocalPort(), Codecs: []media.Codec{codec}, DTMFPT: dtmfFor(offer),
		Direction: answerDirection(offer.Direction), Ptime: 20}
	ep.SetRemote(addrPort(offer), codec, offer.DTMFPT)
	a.held = onHold(offer)
	return c.readInvite(a)
}

// readInvite makes leg A the server side of the caller's dialog.
func (c *Call) readInvite(a *leg) bool {
	srv, err := c.m.dialogUA(c.req.Transport()).ReadInvite(c.req, c.tx)
	if err != nil {
		c.log.Warn("read invite", "err", err)
		a.closeMedia()
		return false
	}
	a.server = srv
	c.a = a
	c.m.addLeg(srv.ID, a)
	srv.Respond(100, "Trying", nil)
	return true
}

// answer confirms the winning callee and answers the caller.
func (c *Call) answer(b *leg) bool {
	c.b = b
	c.m.addLeg(b.client.ID, b)
	if err := b.client.Ack(c.m.ctx); err != nil {
		c.log.Warn("ack callee", "err", err)
	}
	if c.answered {
		return c.answerTransfer(b)
	}
	c.rec.AnsweredBy = b.device
	c.rec.Answer = time.Now()
	c.snapMu.Lock()
	c.snap.AnsweredBy, c.snap.Answer = b.device, c.rec.Answer
	c.snapMu.Unlock()
	c.applyHold()
	headers := c.sessionTimerHeaders()
	res := sip.NewSDPResponseFromRequest(c.a.server.InviteRequest, c.a.nextSDP())
	for _, h := range headers {
		res.AppendHeader(h)
	}
	res.AppendHeader(sip.NewHeader("Allow", allowed)) // phones look for REFER here before offering transfer
	if err := c.a.server.WriteResponse(res); err != nil {
		// No ACK from the caller (or it hung up meanwhile): end the callee's leg too.
		c.log.Warn("answer caller", "err", err)
		c.rec.Cause = "no ACK from caller"
		c.rec.Disposition = store.Failed
		c.b.bye(c.m.ctx)
		return false
	}
	c.answered = true
	c.rec.Disposition = store.Answered
	c.publish(event.CallAnswered, b.device)
	c.log.Debug("call answered", "device", b.device)
	return true
}

// talk waits for the call to end and hangs up the other side, or returns
// a transfer a party asked for that is under way.
func (c *Call) talk() *transfer {
	watch := time.NewTicker(time.Second)
	defer watch.Stop()
	maxDur := time.NewTimer(c.m.cfg.MaxDuration)
	defer maxDur.Stop()
	lastRefresh := time.Now()
	for {
		select {
		case <-c.a.done():
			c.rec.Cause = c.hangupCause(c.a)
			c.b.bye(c.m.ctx)
			return nil
		case <-c.b.done():
			c.rec.Cause = c.hangupCause(c.b)
			c.a.bye(c.m.ctx)
			return nil
		case f := <-c.inbox:
			if f() {
				lastRefresh = time.Now()
			}
			if t := c.next; t != nil {
				c.next = nil
				return t
			}
		case <-watch.C:
			if cause := c.checkAlive(lastRefresh); cause != "" {
				c.log.Warn("ending call", "cause", cause)
				c.rec.Cause = cause
				c.byeBoth()
				return nil
			}
		case <-maxDur.C:
			c.rec.Cause = "maximum duration"
			c.byeBoth()
			return nil
		case <-c.m.ctx.Done():
			c.rec.Cause = "switch shut down"
			c.byeBoth()
			return nil
		}
	}
}

// checkAlive finds a vanished peer: no RTP at all for MediaTimeout while
// neither side holds, or a session timer that ran out (RFC 4028).
func (c *Call) checkAlive(lastRefresh time.Time) string {
	now := time.Now()
	if !c.a.held && !c.b.held {
		last := latest(c.a.ep.Stats().LastReceived, c.b.ep.Stats().LastReceived, c.rec.Answer, c.transferredAt())
		if now.Sub(last) > c.m.cfg.MediaTimeout {
			return "media timeout"
		}
	}
	if se := c.sessionExpires(); se > 0 && now.Sub(lastRefresh) > se+32*time.Second {
		return "session timer expired"
	}
	return ""
}

func (c *Call) byeBoth() {
	c.a.bye(c.m.ctx)
	c.b.bye(c.m.ctx)
}

// hangupCause says who hung up: the caller or the callee, or after a
// transfer (when those words mislead) the device.
func (c *Call) hangupCause(l *leg) string {
	switch {
	case len(c.rec.Transfers) > 0:
		return l.device + " hung up"
	case l.side == callerSide:
		return "caller hung up"
	}
	return "callee hung up"
}

// fail answers the caller with a final error and records why; after a
// transfer (the caller's leg long answered) it hangs the waiting party up.
func (c *Call) fail(code int, reason string, d store.Disposition, cause string) {
	if c.answered {
		c.setResult(d, cause)
		c.a.bye(c.m.ctx)
		return
	}
	c.rec.Disposition, c.rec.Cause = d, cause
	if c.a != nil && c.a.server != nil {
		c.a.server.Respond(code, reason, nil)
		return
	}
	respond(c.tx, c.req, code, reason)
}

// finish releases everything the call holds and writes its record.
func (c *Call) finish() {
	close(c.ended)
	if c.music != nil {
		c.music()
	}
	if c.bridge != nil {
		c.bridge()
	}
	for _, l := range []*leg{c.a, c.b} {
		if l != nil {
			l.release()
		}
	}
	c.m.mu.Lock()
	delete(c.m.calls, c.id)
	if c.m.perDevice[c.device]--; c.m.perDevice[c.device] <= 0 {
		delete(c.m.perDevice, c.device)
	}
	c.m.mu.Unlock()
	c.rec.End = time.Now()
	if c.rec.Disposition == "" {
		c.rec.Disposition = store.Failed
	}
	if err := c.m.deps.Records.SaveCall(c.rec); err != nil {
		c.log.Error("save call record", "err", err)
	}
	c.publish(event.CallEnded, c.answeredBy())
	// The one Info line of a call.
	c.log.Info("call ended", "disposition", c.rec.Disposition, "answered_by", c.rec.AnsweredBy,
		"cause", c.rec.Cause, "duration", c.rec.Duration().Round(time.Second))
}

// nextSDP renders our current description for the leg with a new version,
// as its phone speaks it (toPhone).
func (l *leg) nextSDP() []byte {
	return l.toPhone(media.BuildSDP(l.local, sessionID(l), l.sdpVer.Add(1)))
}

func sessionID(l *leg) uint64 {
	return uint64(l.local.Port)<<16 | uint64(l.side)
}

// dtmfFor is the telephone-event payload type to use with a peer: theirs, or 0 (none).
func dtmfFor(d media.SessionDesc) uint8 { return d.DTMFPT }

// answerDirection mirrors an offer's direction (RFC 3264 §6.1).
func answerDirection(d media.Direction) media.Direction {
	switch d {
	case media.SendOnly:
		return media.RecvOnly
	case media.RecvOnly:
		return media.SendOnly
	case media.Inactive:
		return media.Inactive
	}
	return media.SendRecv
}

// onHold reports whether an offer puts the call on hold (RFC 3264 §8.4, and
// the old c=0.0.0.0 form).
func onHold(d media.SessionDesc) bool {
	return d.Direction == media.SendOnly || d.Direction == media.Inactive || !d.Addr.IsValid() || d.Addr.IsUnspecified()
}

// sessionExpires is the session timer interval agreed with the caller, or 0
// (also once the caller's leg left by a transfer).
func (c *Call) sessionExpires() time.Duration {
	if c.a != nil && c.a.server == nil {
		return 0
	}
	h := c.req.GetHeader("Session-Expires")
	if h == nil {
		return 0
	}
	v := h.Value()
	for i, r := range v {
		if r == ';' || r == ' ' {
			v = v[:i]
			break
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 90 {
		return 0
	}
	return time.Duration(min(n, int(c.m.cfg.SessionTimer/time.Second))) * time.Second
}

// sessionTimerHeaders answers a caller that asked for session timers: the
// caller refreshes (re-INVITE/UPDATE), we tear down if it stops.
func (c *Call) sessionTimerHeaders() []sip.Header {
	se := c.sessionExpires()
	if se == 0 {
		return nil
	}
	return []sip.Header{
		sip.NewHeader("Session-Expires", strconv.Itoa(int(se/time.Second))+";refresher=uac"),
		sip.NewHeader("Require", "timer"),
	}
}

func latest(ts ...time.Time) time.Time {
	var t time.Time
	for _, x := range ts {
		if x.After(t) {
			t = x
		}
	}
	return t
}

func addrPort(d media.SessionDesc) netip.AddrPort {
	return netip.AddrPortFrom(d.Addr, uint16(d.Port))
}
