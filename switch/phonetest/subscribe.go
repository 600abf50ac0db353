package phonetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/emiago/sipgo/sip"

	"switchboard/switch/presence"
)

// Subscription is a test phone's subscription to an event package on the
// switch (message-summary for MWI). NOTIFYs for it arrive on Notifies.
type Subscription struct {
	phone    *Phone
	event    string
	callID   string
	fromTag  string
	from     sip.Uri
	mu       sync.Mutex
	toTag    string
	target   sip.Uri // the switch's Contact, once the SUBSCRIBE is answered
	notifies chan *sip.Request
}

// notifyState holds the phone's subscriptions and its unsolicited NOTIFYs.
type notifyState struct {
	mu          sync.Mutex
	subs        map[string]*Subscription // Call-ID → subscription
	unsolicited chan *sip.Request
	reject      int // answer NOTIFYs with this status instead of 200
}

func (p *Phone) setupNotify() {
	p.notify.subs = map[string]*Subscription{}
	p.notify.unsolicited = make(chan *sip.Request, 64)
	p.srv.OnNotify(p.onNotify)
}

// onNotify answers a NOTIFY and hands it to its subscription, or to
// Unsolicited when it belongs to none (out-of-dialog MWI).
func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	if c := p.findDialog(req); c != nil {
		c.onNotify(req, tx) // a transfer's progress, in the call's dialog
		return
	}
	p.notify.mu.Lock()
	sub := p.notify.subs[req.CallID().Value()]
	code := p.notify.reject
	p.notify.mu.Unlock()
	if code == 0 {
		code = 200
	}
	if sub != nil {
		tag, _ := req.To().Params.Get("tag")
		if tag != sub.fromTag {
			sub = nil
			code = 481
		}
	} else if req.To() != nil && req.To().Params.Has("tag") {
		code = 481 // in-dialog, but not a dialog of ours
	}
	reason := map[int]string{200: "OK", 481: "Call/Transaction Does Not Exist"}[code]
	if reason == "" {
		reason = "Rejected"
	}
	tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	if code >= 300 {
		return
	}
	ch := p.notify.unsolicited
	if sub != nil {
		ch = sub.notifies
	}
	select {
	case ch <- req:
	default: // nobody reads: the test does not care
	}
}

// RejectNotifies makes the phone answer every NOTIFY with code (481: "I
// forgot that subscription"); 0 goes back to 200.
func (p *Phone) RejectNotifies(code int) {
	p.notify.mu.Lock()
	p.notify.reject = code
	p.notify.mu.Unlock()
}

// Unsolicited delivers the NOTIFYs that belong to no subscription of the phone.
func (p *Phone) Unsolicited() <-chan *sip.Request { return p.notify.unsolicited }

// bodyTypes is what a phone accepts for each event package.
var bodyTypes = map[string]string{
	presence.EventMWI:      presence.ContentTypeMWI,
	presence.EventDialog:   presence.ContentTypeDialog,
	presence.EventPresence: presence.ContentTypePIDF,
}

// Subscribe subscribes to event ("message-summary", "dialog", "presence") for user (an
// extension; "" for the phone's own) for expires seconds (-1: no Expires
// header), answering the digest challenge. It returns the subscription
// and the final response; a non-2xx answer leaves no subscription.
func (p *Phone) Subscribe(ctx context.Context, event, user string, expires int) (*Subscription, *sip.Response, error) {
	target := p.serverURI()
	target.User = user
	sub := &Subscription{phone: p, event: event, callID: sip.GenerateTagN(16) + "@phonetest",
		fromTag: sip.GenerateTagN(10), notifies: make(chan *sip.Request, 16),
		from: sip.Uri{Scheme: "sip", User: p.opts.User, Host: target.Host}}
	p.notify.mu.Lock()
	p.notify.subs[sub.callID] = sub
	p.notify.mu.Unlock()
	req := sip.NewRequest(sip.SUBSCRIBE, target)
	req.AppendHeader(&sip.FromHeader{Address: sub.from, Params: sip.HeaderParams{{K: "tag", V: sub.fromTag}}})
	to := target
	to.UriParams = nil
	req.AppendHeader(&sip.ToHeader{Address: to})
	res, err := sub.send(ctx, req, expires)
	if err != nil || res.StatusCode >= 300 {
		sub.forget()
		return nil, res, err
	}
	sub.mu.Lock()
	sub.toTag, _ = res.To().Params.Get("tag")
	if c := res.Contact(); c != nil {
		sub.target = c.Address
	} else {
		sub.target = target
	}
	sub.mu.Unlock()
	return sub, res, nil
}

// send fills in the rest of a SUBSCRIBE and sends it with credentials.
func (s *Subscription) send(ctx context.Context, req *sip.Request, expires int) (*sip.Response, error) {
	p := s.phone
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: p.nextCSeq(), MethodName: sip.SUBSCRIBE})
	req.AppendHeader(&sip.ContactHeader{Address: p.Contact()})
	req.AppendHeader(sip.NewHeader("Event", s.event))
	if ct, ok := bodyTypes[s.event]; ok {
		req.AppendHeader(sip.NewHeader("Accept", ct))
	}
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	req.SetTransport(p.opts.Transport)
	return p.Authed(ctx, req)
}

// Refresh sends an in-dialog SUBSCRIBE with expires seconds (0 ends the subscription).
func (s *Subscription) Refresh(ctx context.Context, expires int) (*sip.Response, error) {
	s.mu.Lock()
	target, toTag := s.target, s.toTag
	s.mu.Unlock()
	req := sip.NewRequest(sip.SUBSCRIBE, target)
	req.AppendHeader(&sip.FromHeader{Address: s.from, Params: sip.HeaderParams{{K: "tag", V: s.fromTag}}})
	to := s.phone.serverURI()
	to.UriParams = nil
	req.AppendHeader(&sip.ToHeader{Address: to, Params: sip.HeaderParams{{K: "tag", V: toTag}}})
	// The switch's Contact names its own transport; send the way we subscribed.
	req.SetDestination(s.phone.opts.Server)
	return s.send(ctx, req, expires)
}

// Unsubscribe ends the subscription (Expires: 0); the final NOTIFY still
// arrives on Notifies.
func (s *Subscription) Unsubscribe(ctx context.Context) (*sip.Response, error) {
	return s.Refresh(ctx, 0)
}

// Notifies delivers the subscription's NOTIFYs, answered 200.
func (s *Subscription) Notifies() <-chan *sip.Request { return s.notifies }

// Next waits for the subscription's next NOTIFY.
func (s *Subscription) Next(ctx context.Context) (*sip.Request, error) {
	select {
	case n := <-s.notifies:
		return n, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no NOTIFY: %w", ctx.Err())
	}
}

func (s *Subscription) forget() {
	s.phone.notify.mu.Lock()
	delete(s.phone.notify.subs, s.callID)
	s.phone.notify.mu.Unlock()
}

// MWI reads the message-summary of a NOTIFY: the counts and whether the
// lamp should be on, checking the headers a phone relies on.
func MWI(req *sip.Request) (presence.Summary, bool, error) {
	if err := checkNotify(req, presence.EventMWI, presence.ContentTypeMWI); err != nil {
		return presence.Summary{}, false, err
	}
	return presence.ParseSummary(req.Body())
}

// BLF reads the dialog-info document of a NOTIFY, checking the headers a
// BLF key relies on.
func BLF(req *sip.Request) (presence.DialogInfo, error) {
	if err := checkNotify(req, presence.EventDialog, presence.ContentTypeDialog); err != nil {
		return presence.DialogInfo{}, err
	}
	return presence.ParseDialogInfo(req.Body())
}

// Presence reads the PIDF document of a NOTIFY.
func Presence(req *sip.Request) (presence.PIDF, error) {
	if err := checkNotify(req, presence.EventPresence, presence.ContentTypePIDF); err != nil {
		return presence.PIDF{}, err
	}
	return presence.ParsePIDF(req.Body())
}

func checkNotify(req *sip.Request, event, ctype string) error {
	if h := req.GetHeader("Event"); h == nil || h.Value() != event {
		return errors.New("NOTIFY without Event: " + event)
	}
	if h := req.GetHeader("Content-Type"); h == nil || h.Value() != ctype {
		return errors.New("NOTIFY without Content-Type: " + ctype)
	}
	return nil
}

// SubscriptionState is a NOTIFY's Subscription-State ("active;expires=3600"), or "".
func SubscriptionState(req *sip.Request) string {
	if h := req.GetHeader("Subscription-State"); h != nil {
		return h.Value()
	}
	return ""
}
