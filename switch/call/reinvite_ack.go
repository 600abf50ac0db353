package call

import (
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A 2xx to a re-INVITE is the switch's to repeat until the phone's ACK
// arrives (RFC 3261 §13.3.1.4; the transaction does not, RFC 6026): over
// UDP a lost 200 would otherwise leave the phone retransmitting a
// re-INVITE the transaction layer absorbs, and the phone tears the call
// down. The initial INVITE's 200 is repeated by sipgo's dialog session.

// ackWait is a re-INVITE whose 2xx waits for its ACK.
type ackWait struct {
	cseq uint32
	done chan struct{}
	once sync.Once
}

func (w *ackWait) acked() { w.once.Do(func() { close(w.done) }) }

// respondReinvite sends a re-INVITE's answer and, for a 2xx over UDP,
// repeats it at T1, 2·T1, … up to T2 apart until the ACK, the call's end
// or 64·T1.
func (m *Manager) respondReinvite(l *leg, req *sip.Request, tx sip.ServerTransaction, res *sip.Response) {
	if !res.IsSuccess() || !strings.EqualFold(req.Transport(), "UDP") {
		tx.Respond(res)
		return
	}
	w := &ackWait{cseq: req.CSeq().SeqNo, done: make(chan struct{})}
	l.ack.Store(w) // before the 200 goes out: its ACK may come back at once
	if tx.Respond(res) != nil {
		l.ack.CompareAndSwap(w, nil)
		return
	}
	ended := l.call.ended
	m.wg.Go(func() {
		defer l.ack.CompareAndSwap(w, nil)
		interval := sip.T1
		giveUp := time.NewTimer(64 * sip.T1)
		defer giveUp.Stop()
		for {
			t := time.NewTimer(interval)
			select {
			case <-t.C:
				if tx.Respond(res) != nil {
					return
				}
				interval = min(2*interval, sip.T2)
				continue
			case <-w.done:
			case <-ended:
			case <-giveUp.C:
			case <-m.ctx.Done():
			}
			t.Stop()
			return
		}
	})
}

// ackReinvite takes an ACK for a re-INVITE's 2xx; false when it is not one.
func (l *leg) ackReinvite(req *sip.Request) bool {
	w := l.ack.Load()
	if w == nil || req.CSeq() == nil || req.CSeq().SeqNo != w.cseq {
		return false
	}
	w.acked()
	return true
}
