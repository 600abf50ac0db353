package call

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/store"
	"switchboard/switch/event"
	"switchboard/switch/route"
)

// branch is one INVITE to one registered contact of a callee's device.
type branch struct {
	leg     *leg
	binding store.Binding
	code    int // final status when it failed
}

type branchDone struct {
	b   *branch
	err error
}

// errLostRace marks a branch that answered after another one (or after the
// caller gave up); it was hung up again.
var errLostRace = errors.New("answered too late")

// ring forks an INVITE to every registered contact of the plan's devices
// and returns the leg that answered first, or nil after answering the
// caller with the reason nobody did. The first answer and the end of
// ringing (timeout, caller's CANCEL) race for c.claimed; whichever takes it
// decides. Losing branches CANCEL or hang up by themselves in the background.
func (c *Call) ring(plan route.Plan) *leg {
	var targets []*branch
	for _, id := range plan.Devices {
		for _, bd := range c.m.deps.Locator.Lookup(id) {
			targets = append(targets, &branch{binding: bd, leg: &leg{call: c, side: calleeSide, device: id}})
		}
	}
	if len(targets) == 0 {
		c.fail(480, "Temporarily Unavailable", store.Missed, "480 no phone registered")
		return nil
	}
	ringCtx, stopRinging := context.WithTimeout(c.m.ctx, plan.RingTime)
	defer stopRinging() // every branch still ringing sends its CANCEL
	results := make(chan branchDone, len(targets))
	provisional := make(chan *branch, 4*len(targets))
	pending := 0
	for _, br := range targets {
		if err := c.invite(ringCtx, br, provisional, results); err != nil {
			c.log.Warn("invite callee", "device", br.leg.device, "err", err)
			br.code = 503
			continue
		}
		pending++
	}
	sentRinging := false
	for pending > 0 {
		select {
		case br := <-provisional:
			if !sentRinging {
				sentRinging = true
				c.a.server.Respond(180, "Ringing", nil)
				c.publish(event.CallRinging, br.leg.device)
			}
		case d := <-results:
			pending--
			if d.err == nil {
				return d.b.leg
			}
			d.b.code = failureCode(d.err)
			c.log.Debug("callee did not take the call", "device", d.b.leg.device, "contact", d.b.binding.Contact, "err", d.err)
		case <-c.a.server.Context().Done():
			if !c.claimed.CompareAndSwap(false, true) {
				return awaitWinner(results) // answered at this instant; answer() finds the caller gone
			}
			c.rec.Disposition, c.rec.Cause = store.Cancelled, "caller cancelled"
			return nil
		case <-ringCtx.Done():
			if !c.claimed.CompareAndSwap(false, true) {
				return awaitWinner(results)
			}
			if c.m.ctx.Err() != nil {
				c.fail(503, "Service Unavailable", store.Failed, "switch shut down")
			} else {
				c.fail(480, "Temporarily Unavailable", store.Missed, "no answer")
			}
			return nil
		}
	}
	c.claimed.Store(true)
	code, reason, disp := finalFailure(targets)
	c.fail(code, reason, disp, strconv.Itoa(code)+" "+reason)
	return nil
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
func (c *Call) invite(ringCtx context.Context, br *branch, provisional chan<- *branch, results chan<- branchDone) error {
	ep, err := c.m.deps.Media.NewEndpoint()
	if err != nil {
		return err
	}
	l := br.leg
	l.ep = ep
	l.local = media.SessionDesc{Addr: c.m.deps.Media.AdvertiseAddr(), Port: ep.LocalPort(), Codecs: c.offerCodecs(), DTMFPT: 101, Direction: media.SendRecv, Ptime: 20}
	req, err := c.newCalleeInvite(br.binding, l.nextSDP())
	if err != nil {
		ep.Close()
		return err
	}
	d, err := c.m.dialogUA(br.binding.Transport).WriteInvite(c.m.ctx, req)
	if err != nil {
		ep.Close()
		return err
	}
	l.client = d
	c.m.wg.Go(func() {
		err := d.WaitAnswer(ringCtx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
			if r.StatusCode == 180 || r.StatusCode == 183 {
				select {
				case provisional <- br:
				default:
				}
			}
			return nil
		}})
		answered := err == nil
		if answered {
			err = c.acceptAnswer(l)
		}
		if err == nil && c.claimed.CompareAndSwap(false, true) {
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
		ep.Close()
		results <- branchDone{b: br, err: err}
	})
	return nil
}

// acceptAnswer reads a callee's SDP answer into its endpoint.
func (c *Call) acceptAnswer(l *leg) error {
	ans, err := media.ParseSDP(l.client.InviteResponse.Body())
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

// newCalleeInvite builds the INVITE for one contact: to where the phone
// really is (its registration's source), showing the caller's identity.
func (c *Call) newCalleeInvite(b store.Binding, sdp []byte) (*sip.Request, error) {
	var target sip.Uri
	if err := sip.ParseUri(b.Contact, &target); err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, target)
	host, port, _ := net.SplitHostPort(c.m.deps.UDP.ContactHDR.Address.HostPort())
	p, _ := strconv.Atoi(port)
	from := &sip.FromHeader{DisplayName: c.rec.CallerName,
		Address: sip.Uri{Scheme: "sip", User: c.rec.Caller, Host: host, Port: p},
		Params:  sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: c.rec.Callee, Host: host, Port: p}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO"))
	req.SetBody(sdp)
	req.SetDestination(b.Source)
	req.SetTransport(b.Transport)
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

// finalFailure picks what the caller hears when every branch failed:
// busy beats decline beats unavailable (RFC 3261 §16.7 in spirit).
func finalFailure(all []*branch) (int, string, store.Disposition) {
	has := map[int]bool{}
	for _, br := range all {
		has[br.code] = true
	}
	switch {
	case has[486] || has[600]:
		return 486, "Busy Here", store.Busy
	case has[603]:
		return 603, "Decline", store.Failed
	}
	return 480, "Temporarily Unavailable", store.Missed
}
