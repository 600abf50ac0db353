package call

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/event"
	"switchboard/switch/route"
	"switchboard/switch/siptext"
)

// branch is one INVITE to one registered contact of a callee's device, or
// to an outside destination.
type branch struct {
	leg     *leg
	binding store.Binding
	toUser  string // the Request-URI's user shown in To
	code    int    // final status when it failed
}

type branchDone struct {
	b   *branch
	err error
}

// errLostRace marks a branch that answered after another one (or after the
// caller gave up); it was hung up again.
var errLostRace = errors.New("answered too late")

// outcome is how a step that did not connect ended.
type outcome struct {
	code   int
	reason string
	disp   store.Disposition
	cause  string
	final  bool // the caller cancelled or the switch stops: no further step
}

var noAnswer = outcome{code: 480, reason: "Temporarily Unavailable", disp: store.Missed, cause: "no answer"}

// ringRound is one ringing step. claimed is taken once: by the first branch
// to answer, or by the end of the step (timeout, the caller's CANCEL).
type ringRound struct {
	claimed atomic.Bool
	step    route.Step
}

// ring forks an INVITE to every target of a step and returns the leg that
// answered first, or nil and how the step ended. The first answer and the
// end of ringing race for the round's claim; whichever takes it decides.
// Losing branches CANCEL or hang up by themselves in the background.
func (c *Call) ring(step route.Step, targets []*branch) (winner *leg, _ outcome) {
	if len(targets) == 0 {
		return nil, outcome{code: 480, reason: "Temporarily Unavailable", disp: store.Missed, cause: "no phone registered"}
	}
	round := &ringRound{step: step}
	ringCtx, stopRinging := context.WithTimeout(c.m.ctx, step.RingTime)
	defer stopRinging() // every branch still ringing sends its CANCEL
	results := make(chan branchDone, len(targets))
	provisional := make(chan ringing, 4*len(targets))
	defer func() {
		if c.early != nil && c.early != winner {
			c.stopEarlyMedia()
		}
	}()
	pending := 0
	for _, br := range targets {
		if err := c.invite(ringCtx, round, br, provisional, results); err != nil {
			c.log.Warn("invite callee", "target", br.leg.device, "err", err)
			br.code = 503
			continue
		}
		pending++
	}
	for pending > 0 {
		select {
		case p := <-provisional:
			if p.early != nil && c.startEarlyMedia(p.b.leg, p.early) {
				c.sentRinging = true
			}
			if !c.sentRinging {
				c.sentRinging = true
				if !c.answered { // a transferee hears music instead
					c.a.server.Respond(180, "Ringing", nil)
				}
			}
		case d := <-results:
			pending--
			if d.err == nil {
				return d.b.leg, outcome{}
			}
			if d.b.leg == c.early {
				c.stopEarlyMedia()
			}
			d.b.code = failureCode(d.err)
			c.log.Debug("callee did not take the call", "target", d.b.leg.device, "contact", d.b.binding.Contact, "err", d.err)
		case <-c.a.done():
			if !round.claimed.CompareAndSwap(false, true) {
				return awaitWinner(results), outcome{} // answered at this instant; answer() finds the caller gone
			}
			cause := "caller cancelled"
			if c.answered {
				cause = c.hangupCause(c.a)
			}
			return nil, outcome{disp: store.Cancelled, cause: cause, final: true}
		case <-ringCtx.Done():
			if !round.claimed.CompareAndSwap(false, true) {
				return awaitWinner(results), outcome{}
			}
			if c.m.ctx.Err() != nil {
				return nil, outcome{code: 503, reason: "Service Unavailable", disp: store.Failed, cause: "switch shut down", final: true}
			}
			return nil, noAnswer
		}
	}
	round.claimed.Store(true)
	return nil, finalFailure(targets)
}

// awaitWinner returns the branch that claimed the call; its result is on its way.
func awaitWinner(results <-chan branchDone) *leg {
	for d := range results {
		if d.err == nil {
			return d.b.leg
		}
	}
	return nil
}

// invite starts one branch: a media endpoint, our offer, the INVITE, and a
// goroutine that waits for its answer and either claims the call or cleans
// up after itself.
func (c *Call) invite(ringCtx context.Context, round *ringRound, br *branch, provisional chan<- ringing, results chan<- branchDone) error {
	ep, err := c.m.deps.Media.NewEndpoint()
	if err != nil {
		return err
	}
	l := br.leg
	l.ep = ep
	if auth.IsWebSocket(br.binding.Transport) {
		if c.m.deps.WebRTC == nil {
			ep.Close()
			return errNoWebRTC
		}
		if l.web, err = c.m.deps.WebRTC.NewLeg(); err != nil {
			ep.Close()
			return err
		}
	}
	l.local = media.SessionDesc{Addr: c.m.deps.Media.AdvertiseAddr(), Port: ep.LocalPort(), Codecs: c.offerCodecs(), DTMFPT: 101, Direction: media.SendRecv, Ptime: 20}
	req, err := c.newCalleeInvite(br, round.step, l.nextSDP())
	if err != nil {
		l.closeMedia()
		return err
	}
	d, err := c.m.dialogUA(br.binding.Transport).WriteInvite(c.m.ctx, req)
	if err != nil {
		l.closeMedia()
		return err
	}
	l.client = d
	c.m.wg.Go(func() {
		rang := false // this branch's phone rings: BLF keys watching it blink
		err := d.WaitAnswer(ringCtx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
			if r.StatusCode == 180 || r.StatusCode == 183 {
				if !rang {
					rang = true
					c.publish(event.CallRinging, l.device)
				}
				p := ringing{b: br}
				if r.StatusCode == 183 && len(r.Body()) > 0 && l.web == nil {
					p.early = r.Body() // a browser's would need the gateway's answer handling: not relayed
				}
				select {
				case provisional <- p:
				default:
				}
			}
			return nil
		}})
		answered := err == nil
		if answered {
			err = c.acceptAnswer(l)
		}
		if err == nil && round.claimed.CompareAndSwap(false, true) {
			results <- branchDone{b: br} // the call owns this leg now
			return
		}
		if answered {
			if err == nil {
				err = errLostRace
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.m.ctx), 5*time.Second)
			d.Ack(ctx)
			d.Bye(ctx)
			cancel()
		}
		d.Close()
		l.closeMedia()
		if rang {
			c.publish(event.CallRingStopped, l.device)
		}
		results <- branchDone{b: br, err: err}
	})
	return nil
}

// acceptAnswer reads a callee's SDP answer into its endpoint.
func (c *Call) acceptAnswer(l *leg) error {
	ans, err := c.fromPhone(l, l.client.InviteResponse.Body())
	if err != nil {
		return err
	}
	codec, err := media.Negotiate(ans, c.m.cfg.Codecs)
	if err != nil {
		return err
	}
	l.local.Codecs = []media.Codec{codec}
	if ans.DTMFPT == 0 {
		l.local.DTMFPT = 0
	}
	l.ep.SetRemote(addrPort(ans), codec, ans.DTMFPT)
	return nil
}

// offerCodecs puts the caller's codec first so no transcoding is needed when
// the callee can do it.
func (c *Call) offerCodecs() []media.Codec {
	first := c.a.local.Codecs[0]
	out := []media.Codec{first}
	for _, k := range c.m.cfg.Codecs {
		if k != first {
			out = append(out, k)
		}
	}
	return out
}

// newCalleeInvite builds the INVITE for one target: to where the phone
// really is (its registration's source), showing the caller's identity or,
// when the step says so, the number the caller dialled.
func (c *Call) newCalleeInvite(br *branch, step route.Step, sdp []byte) (*sip.Request, error) {
	var target sip.Uri
	if err := sip.ParseUri(br.binding.Contact, &target); err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, target)
	host, port, _ := net.SplitHostPort(c.m.deps.UDP.ContactHDR.Address.HostPort())
	p, _ := strconv.Atoi(port)
	fromUser, display := c.from.number, c.from.name
	if step.ShowCalled {
		fromUser = c.from.dialled
		if display == "" {
			display = c.from.number
		}
	}
	from := &sip.FromHeader{DisplayName: siptext.DisplayQuoted(display),
		Address: sip.Uri{Scheme: "sip", User: siptext.User(fromUser), Host: host, Port: p},
		Params:  sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	toUser := br.toUser
	if toUser == "" {
		toUser = c.from.dialled
	}
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: siptext.User(toUser), Host: host, Port: p}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	req.SetBody(sdp)
	req.SetDestination(br.binding.Source)
	req.SetTransport(br.binding.Transport)
	return req, nil
}

// failureCode is the SIP status a failed branch ended with.
func failureCode(err error) int {
	var e *sipgo.ErrDialogResponse
	if errors.As(err, &e) {
		return e.Res.StatusCode
	}
	return 408
}

// finalFailure picks how a step ends when every branch failed: busy beats
// decline beats unavailable (RFC 3261 §16.7 in spirit).
func finalFailure(all []*branch) outcome {
	has := map[int]bool{}
	for _, br := range all {
		has[br.code] = true
	}
	switch {
	case has[486] || has[600]:
		return outcome{code: 486, reason: "Busy Here", disp: store.Busy, cause: "486 Busy Here"}
	case has[603]:
		return outcome{code: 603, reason: "Decline", disp: store.Failed, cause: "603 Decline"}
	}
	return outcome{code: 480, reason: "Temporarily Unavailable", disp: store.Missed, cause: "480 Temporarily Unavailable"}
}
