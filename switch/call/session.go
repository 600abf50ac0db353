package call

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/store"
	"switchboard/switch/event"
	"switchboard/switch/ivr"
)

// Voicemail runs the voicemail applications on a caller's leg the switch
// answered (switch/voicemail implements it).
type Voicemail interface {
	Deposit(ctx context.Context, s ivr.Session, ext string) error
	Access(ctx context.Context, s ivr.Session, ext string, needPIN bool) error
	RecordGreeting(ctx context.Context, s ivr.Session, ext string) error
}

// session is ivr.Session on the caller's leg.
type session struct {
	c      *Call
	caller ivr.Caller
}

func (s *session) Caller() ivr.Caller { return s.caller }

func (s *session) Play(ctx context.Context, interrupt bool, clips ...[]byte) (byte, error) {
	clip := media.Clips(clips...)
	stop := s.c.a.ep.Play(clip)
	defer stop()
	var digits <-chan byte
	if interrupt {
		digits = s.c.digits
	}
	select {
	case <-clip.Done():
		return 0, nil
	case d := <-digits:
		return d, nil
	case <-ctx.Done():
		return 0, ivr.ErrHangup
	}
}

func (s *session) ReadDigit(ctx context.Context, timeout time.Duration) (byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case d := <-s.c.digits:
		return d, nil
	case <-t.C:
		return 0, nil
	case <-ctx.Done():
		return 0, ivr.ErrHangup
	}
}

func (s *session) Record(ctx context.Context, max time.Duration, stop string) ([]byte, error) {
	r := s.c.a.ep.Record(max)
	for {
		select {
		case <-r.Done():
			return r.Audio(), nil
		case d := <-s.c.digits:
			if strings.IndexByte(stop, d) >= 0 {
				r.Stop()
				return r.Audio(), nil
			}
		case <-ctx.Done():
			r.Stop()
			return r.Audio(), ivr.ErrHangup
		}
	}
}

// pushDigit queues a key press for the application; a full queue drops it
// (nobody types 32 keys ahead of a menu).
func (c *Call) pushDigit(d byte) {
	select {
	case c.digits <- d:
	default:
	}
}

// handleInfo reads DTMF sent as SIP INFO by the caller's phone.
func (c *Call) handleInfo(l *leg, req *sip.Request) {
	if l != c.a {
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if d, ok := infoDigit(ct, req.Body()); ok {
		c.pushDigit(d)
	}
}

// serveApp answers the caller with the switch's own media and runs app on
// the leg until it returns or the caller hangs up; the call's goroutine
// keeps serving in-dialog requests meanwhile.
func (c *Call) serveApp(name string, app func(ctx context.Context, s ivr.Session) error) {
	c.stopMusic()
	c.a.ep.OnDTMF(c.pushDigit)
	if !c.answerSelf(name) {
		return
	}
	ctx, cancel := context.WithCancel(c.m.ctx)
	defer cancel()
	done := make(chan error, 1)
	s := &session{c: c, caller: ivr.Caller{Device: c.from.device, Number: c.from.number, Name: c.from.name, Dialed: c.from.dialled, CallID: c.id}}
	go func() { done <- app(ctx, s) }()
	maxDur := time.NewTimer(c.m.cfg.MaxDuration)
	defer maxDur.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && err != ivr.ErrHangup {
				c.log.Warn(name, "err", err)
			}
			if c.a.gone() {
				c.rec.Cause = c.hangupCause(c.a)
				return
			}
			c.rec.Cause = name + " finished"
			c.a.bye(c.m.ctx)
			return
		case <-c.a.done():
			cancel()
			<-done
			c.rec.Cause = c.hangupCause(c.a)
			return
		case f := <-c.inbox:
			f()
		case <-maxDur.C:
			cancel()
			<-done
			c.rec.Cause = "maximum duration"
			c.a.bye(c.m.ctx)
			return
		}
	}
}

// answerSelf answers the caller with the switch itself as the far end (a
// transferee is answered already: the transfer records who took it).
func (c *Call) answerSelf(name string) bool {
	if c.answered {
		c.rec.Transfers[len(c.rec.Transfers)-1].AnsweredBy = name
		return true
	}
	c.rec.AnsweredBy = name
	c.rec.Answer = time.Now()
	c.snapMu.Lock()
	c.snap.AnsweredBy, c.snap.Answer = name, c.rec.Answer
	c.snapMu.Unlock()
	res := sip.NewSDPResponseFromRequest(c.a.server.InviteRequest, c.a.nextSDP())
	for _, h := range c.sessionTimerHeaders() {
		res.AppendHeader(h)
	}
	if err := c.a.server.WriteResponse(res); err != nil {
		c.log.Warn("answer caller", "err", err)
		c.rec.Disposition, c.rec.Cause = store.Failed, "no ACK from caller"
		return false
	}
	c.answered = true
	if c.rec.Disposition == "" {
		c.rec.Disposition = store.Answered
	}
	c.publish(event.CallAnswered, "") // the switch answered: the caller is on a call
	return true
}
