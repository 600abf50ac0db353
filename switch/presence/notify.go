package presence

import (
	"context"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
	"switchboard/switch/event"
)

// Changed tells every phone of ext that its mailbox changed: a NOTIFY on
// each subscription to it, and an unsolicited one to each registered
// contact of its devices that holds no subscription. It returns at once;
// the NOTIFYs go out in the background. Voicemail calls it after every
// change of a box.
func (s *Service) Changed(ext string) {
	for _, sub := range s.watching(ext, EventMWI) {
		s.kick(sub)
	}
	for _, d := range s.devicesOf(ext) {
		if s.subscribed(d.ID, EventMWI) {
			continue
		}
		for _, b := range s.deps.Locator.Lookup(d.ID) {
			s.tellUnsolicited(ext, d.ID, b)
		}
	}
}

// registered tells a phone that just registered about waiting messages,
// so a rebooted phone's lamp comes back on.
func (s *Service) registered(e event.Event) {
	if s.subscribed(e.Device, EventMWI) {
		return
	}
	d, err := s.deps.Directory.Device(e.Device)
	if err != nil {
		return
	}
	sum, err := s.summary(d.Ext)
	if err != nil || !sum.Waiting() {
		return
	}
	s.tellUnsolicited(d.Ext, d.ID, store.Binding{Contact: e.Contact, Source: e.Source, Transport: e.Transport})
}

func (s *Service) tellUnsolicited(ext, device string, b store.Binding) {
	s.coalesce("u|"+device+"|"+b.Contact+"|"+b.Source, func() { s.sendUnsolicited(ext, device, b) })
}

// kick sends sub's state (or its final NOTIFY) soon.
func (s *Service) kick(sub *subscription) {
	s.coalesce("s|"+sub.id, func() { s.sendSub(sub) })
}

// sendState marks a target whose sender runs; dirty asks it for one more round.
type sendState struct{ dirty bool }

// coalesce runs send on its own goroutine, one at a time per key: asked
// again while it runs, it runs once more afterwards (not once per ask).
func (s *Service) coalesce(key string, send func()) {
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	if st := s.sends[key]; st != nil {
		st.dirty = true
		s.mu.Unlock()
		return
	}
	st := &sendState{}
	s.sends[key] = st
	s.wg.Add(1) // under mu, before Close can Wait
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		for {
			send()
			s.mu.Lock()
			if !st.dirty || s.ctx.Err() != nil {
				delete(s.sends, key)
				s.mu.Unlock()
				return
			}
			st.dirty = false
			s.mu.Unlock()
		}
	}()
}

// sendSub sends one NOTIFY on a subscription with the state as it is now.
func (s *Service) sendSub(sub *subscription) {
	now := s.cfg.Now()
	s.mu.Lock()
	if sub.finalSent {
		s.mu.Unlock()
		return
	}
	sub.cseq++
	cseq, ended := sub.cseq, sub.ended
	remaining := int(sub.expires.Sub(now).Round(time.Second) / time.Second)
	target, source, transport := sub.target, sub.source, sub.transport
	if ended != "" {
		sub.finalSent = true
	}
	s.mu.Unlock()

	state := "active;expires=" + strconv.Itoa(max(remaining, 0))
	if ended != "" {
		state = ended
	}
	body, ctype, gone, err := s.render(sub)
	if err != nil {
		s.log.Warn("state for NOTIFY", "event", sub.pkg, "ext", sub.ext, "err", err)
		return
	}
	if gone {
		// The user is gone: the subscription ends.
		s.remove(sub)
		s.mu.Lock()
		sub.finalSent = true
		s.mu.Unlock()
		state = "terminated;reason=noresource"
	}
	req := sip.NewRequest(sip.NOTIFY, target)
	from := &sip.FromHeader{Address: sub.local, Params: sip.NewParams()}
	from.Params.Add("tag", sub.localTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{DisplayName: sub.remote.DisplayName, Address: sub.remote.Address, Params: sub.remote.Params.Clone()})
	callID := sip.CallIDHeader(sub.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Event", sub.event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	s.finish(req, ctype, body, source, transport)
	res, err := s.send(req, transport)
	switch {
	case err != nil:
		s.log.Info("NOTIFY not answered: subscription dropped", "device", sub.device, "ext", sub.ext, "err", err)
		s.remove(sub)
	case res.StatusCode == 481:
		s.log.Info("subscriber forgot the subscription", "device", sub.device, "ext", sub.ext)
		s.remove(sub)
	case res.StatusCode >= 300:
		s.log.Debug("NOTIFY refused", "device", sub.device, "status", res.StatusCode)
	}
}

// sendUnsolicited sends one out-of-dialog message-summary NOTIFY to a
// registered contact of device.
func (s *Service) sendUnsolicited(ext, device string, b store.Binding) {
	var target sip.Uri
	if err := sip.ParseUri(b.Contact, &target); err != nil {
		s.log.Debug("unsolicited NOTIFY: bad contact", "device", device, "contact", b.Contact)
		return
	}
	sum, err := s.summary(ext)
	if err != nil {
		s.log.Debug("mailbox counts for NOTIFY", "ext", ext, "err", err)
		return
	}
	req := sip.NewRequest(sip.NOTIFY, target)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: s.cfg.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	to := target
	to.UriParams, to.Headers = nil, nil
	req.AppendHeader(&sip.ToHeader{Address: to})
	callID := sip.CallIDHeader(sip.GenerateTagN(24) + "@" + s.cfg.Host)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Event", EventMWI))
	s.finish(req, ContentTypeMWI, sum.Body(), b.Source, b.Transport)
	res, err := s.send(req, b.Transport)
	if err != nil {
		s.log.Debug("unsolicited NOTIFY not answered", "device", device, "contact", b.Contact, "err", err)
	} else if res.StatusCode >= 300 {
		s.log.Debug("unsolicited NOTIFY refused", "device", device, "status", res.StatusCode)
	}
}

// finish adds what every NOTIFY carries and addresses it to where the
// phone really is.
func (s *Service) finish(req *sip.Request, ctype string, body []byte, source, transport string) {
	if transport == "" {
		transport = "UDP"
	}
	req.AppendHeader(s.contact(transport))
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody(body)
	req.SetDestination(source)
	req.SetTransport(transport)
}

// send sends req in its own transaction and waits, bounded, for the final answer.
func (s *Service) send(req *sip.Request, transport string) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.NotifyTimeout)
	defer cancel()
	return s.client(transport).Do(ctx, req)
}
