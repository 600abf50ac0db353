package call

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/store"
	"switchboard/switch/ivr"
	"switchboard/switch/route"
)

// runSteps carries out an answering plan: each step in turn until one
// connects the caller; when none does, the caller hears "not available"
// and the call ends with the last step's status. It reports whether a
// callee answered (the parties are bridged and should talk).
func (c *Call) runSteps(plan route.Plan) bool {
	last := noAnswer
	for _, st := range plan.Steps {
		switch {
		case st.Rings():
			winner, out := c.ring(st, c.targets(st))
			if winner != nil {
				return c.answer(winner)
			}
			if out.final {
				c.settle(out)
				return false
			}
			last = out
		case st.Action == store.ActVoicemail:
			if c.m.deps.Voicemail == nil {
				continue
			}
			c.setResult(store.Voicemail, "")
			c.serveApp("voicemail", func(ctx context.Context, s ivr.Session) error {
				return c.m.deps.Voicemail.Deposit(ctx, s, st.Ext)
			})
			return false
		case st.Action == store.ActForwardService:
			// Auto attendants and queues arrive with their own issue; until
			// then the step is skipped (and the UI does not offer it).
			c.log.Warn("answering rule forwards to a service that does not exist yet", "target", st.Target)
		case st.Action == store.ActDisconnect:
			c.notAvailable(last)
			return false
		}
	}
	c.notAvailable(last)
	return false
}

// targets are the branches a ringing step forks to: every registered
// contact of its devices, or the outside destination.
func (c *Call) targets(st route.Step) []*branch {
	var out []*branch
	switch st.Action {
	case store.ActForwardNumber:
		if c.m.cfg.Gateway == "" {
			c.log.Warn("forward to an outside number needs a gateway (serve --gateway)", "number", st.Target)
			return nil
		}
		gw, err := resolve(c.m.ctx, c.m.cfg.Gateway, 5060)
		if err != nil {
			c.log.Warn("gateway", "err", err)
			return nil
		}
		b := store.Binding{Contact: "sip:" + st.Target + "@" + gw.String(), Source: gw.String(), Transport: "UDP"}
		out = append(out, &branch{binding: b, toUser: st.Target, leg: &leg{call: c, side: calleeSide, device: st.Target, outside: true}})
	case store.ActForwardSIP:
		b, user, err := sipTarget(c.m.ctx, st.Target)
		if err != nil {
			c.log.Warn("forward to SIP address", "target", st.Target, "err", err)
			return nil
		}
		out = append(out, &branch{binding: b, toUser: user, leg: &leg{call: c, side: calleeSide, device: st.Target, outside: true}})
	default:
		for _, id := range st.Devices {
			for _, bd := range c.m.deps.Locator.Lookup(id) {
				out = append(out, &branch{binding: bd, leg: &leg{call: c, side: calleeSide, device: id}})
			}
		}
	}
	return out
}

// sipTarget reads "sip:user@host[:port][;transport=tcp]" into where to send.
func sipTarget(ctx context.Context, target string) (store.Binding, string, error) {
	var u sip.Uri
	if err := sip.ParseUri(target, &u); err != nil {
		return store.Binding{}, "", err
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	dst, err := resolve(ctx, net.JoinHostPort(u.Host, strconv.Itoa(port)), 5060)
	if err != nil {
		return store.Binding{}, "", err
	}
	transport := "UDP"
	if t, ok := u.UriParams.Get("transport"); ok && strings.EqualFold(t, "tcp") {
		transport = "TCP"
	}
	return store.Binding{Contact: target, Source: dst.String(), Transport: transport}, u.User, nil
}

// resolve turns host[:port] into an address, looking the name up if it is one.
func resolve(ctx context.Context, hostport string, defaultPort int) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, strconv.Itoa(defaultPort)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return netip.AddrPort{}, fmt.Errorf("bad port in %q", hostport)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, uint16(p)), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("cannot resolve %q: %v", host, err)
	}
	return netip.AddrPortFrom(addrs[0], uint16(p)), nil
}

// settle ends a call whose caller is gone or that the switch gave up on.
func (c *Call) settle(out outcome) {
	if out.disp == store.Cancelled {
		c.setResult(out.disp, out.cause)
		return
	}
	c.fail(out.code, out.reason, out.disp, out.cause)
}

// notAvailable plays the "not available" message to the caller as early
// media (183 with our SDP), then ends the call with the status the last
// step ended with — so phones still show busy or unavailable. A transferee
// (already answered) hears it, then is hung up.
func (c *Call) notAvailable(last outcome) {
	c.stopMusic()
	msg := c.m.cfg.NotAvailable
	if msg == nil {
		msg, _ = prompts.Get("not_available")
	}
	if len(msg) > 0 && c.earlyMedia() {
		clip := media.Clip(msg)
		stop := c.a.ep.Play(clip)
		select {
		case <-clip.Done():
		case <-c.a.done():
		case <-c.m.ctx.Done():
		}
		stop()
	}
	if c.a.gone() {
		cause := "caller hung up during the message"
		if c.answered {
			cause = c.hangupCause(c.a) + " during the message"
		}
		c.setResult(store.Cancelled, cause)
		return
	}
	c.fail(last.code, last.reason, last.disp, last.cause)
}

// earlyMedia opens the caller's leg to the switch's audio before an answer:
// a 183 with our SDP. An answered leg needs nothing.
func (c *Call) earlyMedia() bool {
	if c.answered {
		return true
	}
	if c.a.late.pending.Load() {
		return false // our SDP would be an offer, which a 183 cannot carry reliably
	}
	hdr := sip.NewHeader("Content-Type", "application/sdp")
	return c.a.server.Respond(183, "Session Progress", c.a.nextSDP(), hdr) == nil
}
