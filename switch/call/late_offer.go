package call

import (
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/store"
)

// Late offer (RFC 3261 §13.2.1): an INVITE without SDP. The switch makes
// the offer in its 200 to the caller, and the caller's ACK carries the
// answer. Until then the caller's endpoint has no remote and sends
// nothing; as the offer is in the 200, there is no early media for such a
// caller (a 183 with an offer would need reliable provisionals).

// lateOffer is a caller leg's pending offer: set until its ACK answered it.
type lateOffer struct{ pending atomic.Bool }

// acceptLateOffer sets up leg A for an INVITE without SDP: our offer has
// every codec the switch speaks.
func (c *Call) acceptLateOffer(a *leg) bool {
	ep, err := c.m.deps.Media.NewEndpoint()
	if err != nil {
		c.log.Error("media for caller", "err", err)
		c.fail(503, "Service Unavailable", store.Failed, "503 no media ports")
		return false
	}
	a.ep = ep
	a.local = media.SessionDesc{Addr: c.m.deps.Media.AdvertiseAddr(), Port: ep.LocalPort(), Codecs: c.m.cfg.Codecs,
		DTMFPT: 101, Direction: media.SendRecv, Ptime: 20}
	a.late.pending.Store(true)
	return c.readInvite(a)
}

// answerLateOffer reads the answer in the caller's ACK into its endpoint;
// false when the leg waits for none. It runs before the ACK confirms the
// dialog, so the call goroutine (blocked in its 200 until then) sees the
// result.
func (l *leg) answerLateOffer(ack *sip.Request) bool {
	if !l.late.pending.CompareAndSwap(true, false) {
		return false
	}
	ans, err := media.ParseSDP(ack.Body())
	if err != nil {
		l.call.log.Warn("late offer: no usable answer in the ACK", "err", err)
		return true
	}
	codec, err := media.Negotiate(ans, l.local.Codecs)
	if err != nil {
		l.call.log.Warn("late offer: no common codec in the ACK's answer")
		return true
	}
	l.local.Codecs = []media.Codec{codec}
	l.local.DTMFPT = dtmfFor(ans)
	l.ep.SetRemote(addrPort(ans), codec, ans.DTMFPT)
	return true
}
