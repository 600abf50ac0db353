package call

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
)

// byeGrace is how long a transferor's phone may take to hang up by itself
// after the last NOTIFY (most do at once) before the switch hangs it up.
const byeGrace = time.Second

// referSub is the implicit subscription a REFER creates (RFC 3515 §2.4.4):
// NOTIFYs in the transferor's dialog whose message/sipfrag body is the
// status of the transfer, "100 Trying" first, then the final one that ends
// it. One goroutine sends them in order, so the call never waits for a phone.
type referSub struct {
	l     *leg
	id    uint32 // the REFER's CSeq: the Event's id (RFC 3515 §2.4.6)
	frags chan sipfrag
	done  chan struct{}
}

type sipfrag struct {
	code   int
	reason string
	final  bool
}

// subscribe starts the subscription of a REFER accepted on l, with its 100 Trying.
func (m *Manager) subscribe(l *leg, referCSeq uint32) *referSub {
	s := &referSub{l: l, id: referCSeq, frags: make(chan sipfrag, 2), done: make(chan struct{})}
	s.frags <- sipfrag{code: 100, reason: "Trying"}
	m.wg.Go(func() { s.run(m.ctx) })
	return s
}

// final queues the last NOTIFY; it must be called once.
func (s *referSub) final(code int, reason string) {
	s.frags <- sipfrag{code: code, reason: reason, final: true}
	close(s.frags)
}

func (s *referSub) run(ctx context.Context) {
	defer close(s.done)
	for f := range s.frags {
		if err := s.notify(ctx, f); err != nil {
			s.l.call.log.Debug("refer notify", "device", s.l.device, "status", f.code, "err", err)
		}
	}
}

func (s *referSub) notify(ctx context.Context, f sipfrag) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.NOTIFY, s.l.remoteTarget())
	req.AppendHeader(sip.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(s.id), 10)))
	state := "active;expires=60"
	if f.final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody(fmt.Appendf(nil, "SIP/2.0 %d %s\r\n", f.code, f.reason))
	res, err := s.l.do(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// leave ends the transferor's part once its transfer is under way: the
// last NOTIFY says 200 OK (the switch took the call on; the target's own
// rules decide what happens next) and the leg is hung up, after a moment
// for a phone that hangs up by itself.
func (m *Manager) leave(by *leg, sub *referSub, phone bool) {
	defer by.release()
	if sub != nil {
		sub.final(200, "OK")
		<-sub.done
	}
	if phone {
		select {
		case <-by.done():
			return
		case <-time.After(byeGrace):
		case <-m.ctx.Done():
		}
	}
	by.bye(m.ctx)
}
