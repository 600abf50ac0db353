package call

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/media"
)

// handleInDialog answers a request inside an existing call: re-INVITE and
// UPDATE (hold, resume, codec change, session refresh) and INFO. It is
// matched by dialog, never challenged again, and the work is done by the
// call's own goroutine.
func (m *Manager) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	l := m.findLeg(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if req.Method == sip.INFO {
		// DTMF over SIP INFO (application/dtmf-relay) is read by voicemail and
		// menus; between two phones the RTP events carry the digits.
		l.call.handleInfo(l, req)
		respond(tx, req, 200, "OK")
		return
	}
	// The owner takes this only once the call is confirmed; the CSeq is checked
	// there, so an ACK overtaken by this request still matches its INVITE.
	c := l.call
	answer := make(chan *sip.Response, 1)
	run := func() bool {
		if l != c.a && l != c.b {
			// A transferor's leg after the hand-over: it is no longer in the call.
			answer <- sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil)
			return false
		}
		if err := l.readRequest(req, tx); err != nil {
			answer <- sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
			return false
		}
		answer <- c.handleOffer(l, req)
		return true
	}
	select {
	case c.inbox <- run:
		if req.Method == sip.INVITE {
			m.respondReinvite(l, req, tx, <-answer)
		} else {
			tx.Respond(<-answer)
		}
	case <-c.ended:
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
	case <-time.After(2 * time.Second):
		// The call is still being set up: ask the phone to try again (RFC 3261 §14.1).
		respond(tx, req, 491, "Request Pending")
	}
}

// readRequest checks the request's CSeq against the dialog.
func (l *leg) readRequest(req *sip.Request, tx sip.ServerTransaction) error {
	if l.server != nil {
		return l.server.ReadRequest(req, tx)
	}
	return l.client.ReadRequest(req, tx)
}

// handleOffer applies a re-INVITE or UPDATE from leg l and builds the answer.
func (c *Call) handleOffer(l *leg, req *sip.Request) *sip.Response {
	if len(req.Body()) == 0 {
		// A refresh without an offer: UPDATE gets a bare 200, re-INVITE our current description.
		if req.Method == sip.UPDATE {
			return c.withContact(l, sip.NewResponseFromRequest(req, 200, "OK", nil), req)
		}
		return c.withContact(l, sip.NewSDPResponseFromRequest(req, l.nextSDP()), req)
	}
	offer, err := c.fromPhone(l, req.Body())
	if err != nil {
		return sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
	}
	prefer := append([]media.Codec{l.local.Codecs[0]}, c.m.cfg.Codecs...)
	codec, err := media.Negotiate(offer, prefer)
	if err != nil {
		return sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
	}
	l.local.Codecs = []media.Codec{codec}
	l.local.DTMFPT = offer.DTMFPT
	l.local.Direction = answerDirection(offer.Direction)
	held := onHold(offer)
	if !held {
		l.ep.SetRemote(addrPort(offer), codec, offer.DTMFPT)
	}
	if held != l.held {
		l.held = held
		c.applyHold()
		c.log.Debug("hold changed", "device", l.device, "held", held)
	}
	return c.withContact(l, sip.NewSDPResponseFromRequest(req, l.nextSDP()), req)
}

// setBridged connects the two legs' media, or separates them.
func (c *Call) setBridged(on bool) {
	switch {
	case on && c.bridge == nil:
		c.bridge = media.Bridge(c.a.ep, c.b.ep)
	case !on && c.bridge != nil:
		c.bridge()
		c.bridge = nil
	}
}

// applyHold puts the media where the hold state says: both talking →
// bridged; one side held → the other side hears music on hold; both held →
// nothing flows.
func (c *Call) applyHold() {
	if c.b == nil {
		return // the switch itself is the far end (voicemail, menus): nothing to re-bridge
	}
	c.stopMusic()
	switch {
	case !c.a.held && !c.b.held:
		c.setBridged(true)
	case c.a.held && c.b.held:
		c.setBridged(false)
	case c.a.held:
		c.setBridged(false)
		c.music = c.b.ep.Play(c.m.music.source())
	default:
		c.setBridged(false)
		c.music = c.a.ep.Play(c.m.music.source())
	}
}

func (c *Call) withContact(l *leg, res *sip.Response, req *sip.Request) *sip.Response {
	ua := c.m.dialogUA(req.Transport())
	res.AppendHeader(sip.HeaderClone(&ua.ContactHDR))
	if l == c.a {
		for _, h := range c.sessionTimerHeaders() {
			res.AppendHeader(h)
		}
	}
	return res
}
