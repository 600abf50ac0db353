package call

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// allowed is what the switch accepts inside a call, for Allow headers.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER"

// HandleRefer answers REFER (RFC 3515): a blind transfer asked for by a
// phone talking in a call. Arriving inside the call's dialog is its
// authorisation (the phone authenticated its INVITE, or the switch called
// it); a REFER outside any call gets 481. Attended transfer (Refer-To with
// Replaces) is not supported and says so.
func (m *Manager) HandleRefer(req *sip.Request, tx sip.ServerTransaction) {
	l := m.findLeg(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	target, err := referTo(req)
	if err != nil {
		respond(tx, req, 400, "Bad Request: "+err.Error())
		return
	}
	if target.replaces {
		respond(tx, req, 501, "Attended Transfer Not Supported")
		return
	}
	c := l.call
	done := make(chan struct{})
	run := func() bool {
		defer close(done)
		if err := l.readRequest(req, tx); err != nil {
			respond(tx, req, 500, "Server Internal Error")
			return false
		}
		switch {
		case l != c.a && l != c.b: // a transferor's leg after its hand-over
			respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return false
		case c.b == nil || l.outside: // the switch is the far end, or an outside party asks
			respond(tx, req, 403, "Forbidden")
			return false
		}
		// 202 before the first NOTIFY: both leave from this goroutine.
		var sub *referSub
		if wantsSubscription(req) {
			respond(tx, req, 202, "Accepted")
			sub = m.subscribe(l, req.CSeq().SeqNo)
		} else {
			respond(tx, req, 202, "Accepted", sip.NewHeader("Refer-Sub", "false"))
		}
		c.askTransfer(l, target.user, sub, true)
		return false
	}
	select {
	case c.inbox <- run:
		<-done
	case <-c.ended:
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
	case <-time.After(2 * time.Second):
		// Ringing, or a transfer already under way: try again later.
		respond(tx, req, 491, "Request Pending")
	}
}

// wantsSubscription is false when the REFER says "Refer-Sub: false"
// (RFC 4488): the phone wants no NOTIFYs about the transfer.
func wantsSubscription(req *sip.Request) bool {
	h := req.GetHeader("Refer-Sub")
	if h == nil {
		return true
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	return !strings.EqualFold(strings.TrimSpace(v), "false")
}
