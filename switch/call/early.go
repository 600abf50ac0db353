package call

import (
	"github.com/emiago/sipgo/sip"

	"switchboard/media"
)

// ringing is a callee's provisional answer: its phone rings and, with the
// SDP of a 183, sends early media (its own ringback, an announcement).
type ringing struct {
	b     *branch
	early []byte // the 183's SDP; nil for a plain 180 or 183
}

// startEarlyMedia lets the caller hear a ringing callee's early media: the
// first callee whose 183 carries SDP is bridged to the caller, and the
// caller gets a 183 with our SDP. If that callee answers, the bridge stays
// (answer finds it in place); if another answers or the step ends, it goes
// (stopEarlyMedia). False when nothing changed.
func (c *Call) startEarlyMedia(l *leg, sdp []byte) bool {
	if c.early != nil || c.answered || c.bridge != nil || c.a.late.pending.Load() {
		return false
	}
	desc, err := media.ParseSDP(sdp)
	if err != nil || desc.Port == 0 {
		return false
	}
	codec, err := media.Negotiate(desc, c.m.cfg.Codecs)
	if err != nil {
		return false
	}
	l.ep.SetRemote(addrPort(desc), codec, desc.DTMFPT)
	c.bridge = media.Bridge(c.a.ep, l.ep)
	c.early = l
	hdr := sip.NewHeader("Content-Type", "application/sdp")
	if err := c.a.server.Respond(183, "Session Progress", c.a.nextSDP(), hdr); err != nil {
		c.stopEarlyMedia()
		return false
	}
	c.log.Debug("early media", "device", l.device)
	return true
}

// stopEarlyMedia ends the early media bridge.
func (c *Call) stopEarlyMedia() {
	if c.bridge != nil {
		c.bridge()
		c.bridge = nil
	}
	c.early = nil
}
