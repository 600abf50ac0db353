package presence

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
	"switchboard/switch/auth"
)

// subscription is one subscription dialog (the switch is its notifier).
type subscription struct {
	id        string // dialog id, UAS view: Call-ID, our tag, their tag
	pkg       string // the event package
	event     string // the Event header value we echo (package plus ;id=…)
	ext       string // the watched extension
	device    string // the subscribing device
	callID    string
	localTag  string
	local     sip.Uri // To of the SUBSCRIBE: what is watched
	remote    sip.FromHeader
	target    sip.Uri // the subscriber's Contact
	source    string  // where its requests come from (NAT)
	transport string
	created   time.Time
	expires   time.Time // guarded by Service.mu
	cseq      uint32    // guarded by Service.mu
	ended     string    // "" active; else its final Subscription-State; guarded by Service.mu
	finalSent bool      // the final NOTIFY went out; guarded by Service.mu

	// The dialog package's document state, owned by the subscription's
	// sender (kick serialises its NOTIFYs).
	version uint32            // of the next document
	shown   map[string]Dialog // dialogs the last document listed, by id
}

// eventPackage is what the switch serves for one Event.
type eventPackage struct {
	contentType string
	anyExt      bool // a device may watch any extension (BLF), not only its own
}

var packages = map[string]eventPackage{
	EventMWI:      {contentType: ContentTypeMWI},
	EventDialog:   {contentType: ContentTypeDialog, anyExt: true},
	EventPresence: {contentType: ContentTypePIDF, anyExt: true},
}

// AllowEvents lists the packages the switch serves, for Allow-Events.
const AllowEvents = EventMWI + ", " + EventDialog + ", " + EventPresence

// parseEvent returns the package name of an Event header value and the
// whole value to echo ("message-summary;id=2"); ok is false when it is
// malformed.
func parseEvent(v string) (pkg, echo string, ok bool) {
	v = strings.TrimSpace(v)
	pkg, params, _ := strings.Cut(v, ";")
	pkg = strings.TrimSpace(pkg)
	if pkg == "" || len(v) > 256 || strings.ContainsAny(pkg, " \t,\"\r\n") {
		return "", "", false
	}
	echo = lower(pkg)
	for _, p := range strings.Split(params, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "id") {
			val = strings.TrimSpace(val)
			if val == "" || strings.ContainsAny(val, " \t;,\"\r\n") {
				return "", "", false
			}
			echo += ";id=" + val
		}
	}
	return lower(pkg), echo, true
}

// parseExpires reads an Expires header value: -1 when absent, an error
// when it is not a number of seconds.
func parseExpires(req *sip.Request) (int, error) {
	h := req.GetHeader("Expires")
	if h == nil {
		return -1, nil
	}
	v := strings.TrimSpace(h.Value())
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, errors.New("bad Expires")
	}
	return int(min(n, 1<<31-1)), nil
}

// HandleSubscribe is the sipgo handler for SUBSCRIBE.
func (s *Service) HandleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	res := s.subscribe(req)
	if res == nil {
		return
	}
	tx.Respond(res.response)
	if code := res.response.StatusCode; code == sip.StatusUnauthorized || code == sip.StatusProxyAuthRequired {
		tx.Terminate() // a retransmission gets a fresh challenge; nothing to keep for 32 s
	}
	if res.after != nil {
		res.after()
	}
}

// reply is the answer to a SUBSCRIBE and what follows it once sent.
type reply struct {
	response *sip.Response
	after    func()
}

func answer(req *sip.Request, code int, reason string, headers ...sip.Header) *reply {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	return &reply{response: res}
}

// subscribe decides the answer to one SUBSCRIBE; nil means stay silent.
func (s *Service) subscribe(req *sip.Request) *reply {
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		return answer(req, 400, "Bad Request")
	}
	eh := req.GetHeader("Event")
	if eh == nil {
		return answer(req, 489, "Bad Event", sip.NewHeader("Allow-Events", AllowEvents))
	}
	pkg, echo, ok := parseEvent(eh.Value())
	if !ok {
		return answer(req, 400, "Bad Request")
	}
	ep, known := packages[pkg]
	if !known {
		return answer(req, 489, "Bad Event", sip.NewHeader("Allow-Events", AllowEvents))
	}
	expires, err := parseExpires(req)
	if err != nil {
		return answer(req, 400, "Bad Request")
	}
	device, refusal, silent := s.authenticate(req)
	if silent {
		return nil
	}
	if refusal != nil {
		return &reply{response: refusal}
	}
	if req.To().Params.Has("tag") {
		return s.refresh(req, device, expires)
	}
	if !accepts(headerValues(req, "Accept"), ep.contentType) {
		return answer(req, 406, "Not Acceptable", sip.NewHeader("Accept", ep.contentType))
	}
	// Only now, authenticated, may the answer say whether an extension exists.
	ext, code := s.authorize(device, req.Recipient.User, ep.anyExt)
	switch code {
	case 403:
		return answer(req, 403, "Forbidden")
	case 404:
		return answer(req, 404, "Not Found")
	}
	if expires < 0 {
		expires = s.cfg.DefaultExpires
	}
	if expires > 0 && expires < s.cfg.MinExpires {
		return answer(req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(s.cfg.MinExpires)))
	}
	expires = min(expires, s.cfg.MaxExpires)

	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res.AppendHeader(s.contact(req.Transport()))
	localTag, _ := res.To().Params.Get("tag")
	sub := s.newSubscription(req, device, ext, pkg, echo, localTag)
	now := s.cfg.Now()
	sub.created = now
	if expires == 0 {
		// A fetch: the state once, and the subscription ends at once.
		sub.ended = "terminated;reason=timeout"
		return &reply{response: res, after: func() { s.kick(sub) }}
	}
	sub.expires = now.Add(time.Duration(expires) * time.Second)
	s.add(sub)
	s.log.Debug("subscribed", "event", pkg, "device", device, "ext", ext, "expires", expires)
	return &reply{response: res, after: func() { s.kick(sub) }}
}

// authenticate checks the digest credentials of req (401 challenge, like
// REGISTER; a Proxy-Authorization is accepted too). It returns the device,
// or the answer that refuses the request, or silent for a blocked source.
func (s *Service) authenticate(req *sip.Request) (device string, refusal *sip.Response, silent bool) {
	proxy := req.GetHeader("Authorization") == nil && req.GetHeader("Proxy-Authorization") != nil
	r := s.deps.Auth.Verify(req, proxy, s.deps.Credentials.DeviceSecrets)
	switch r.Outcome {
	case auth.OK:
		return r.User, nil, false
	case auth.Challenge, auth.Stale:
		return "", s.deps.Auth.Challenge(req, proxy, r.Outcome == auth.Stale), false
	case auth.Forbidden:
		if !s.deps.Auth.HoldBack(r.Delay) {
			return "", nil, true // too many refusals held back: drop this one
		}
		return "", sip.NewResponseFromRequest(req, 403, "Forbidden", nil), false
	}
	return "", nil, true // blocked: drop silently
}

// authorize maps the watched resource (the Request-URI's user: an
// extension, a device id of it, or nothing for "my own") onto the extension
// the device watches. Message waiting is private: only its own (403 for
// anything else). BLF and presence may watch any extension of the office;
// one that does not exist gets 404.
func (s *Service) authorize(device, target string, anyExt bool) (string, int) {
	d, err := s.deps.Directory.Device(device)
	if err != nil {
		return "", 403
	}
	if target == "" || target == d.Ext || target == d.ID {
		return d.Ext, 0
	}
	ext := ""
	if t, err := s.deps.Directory.Device(target); err == nil {
		ext = t.Ext
	} else if _, err := s.deps.Directory.User(target); err == nil {
		ext = target
	}
	switch {
	case ext == d.Ext:
		return ext, 0
	case !anyExt:
		return "", 403
	case ext == "":
		return "", 404
	}
	return ext, 0
}

// headerValues are the values of every header called name.
func headerValues(req *sip.Request, name string) []string {
	var out []string
	for _, h := range req.GetHeaders(name) {
		out = append(out, h.Value())
	}
	return out
}

func (s *Service) newSubscription(req *sip.Request, device, ext, pkg, echo, localTag string) *subscription {
	from := req.From()
	fromTag, _ := from.Params.Get("tag")
	sub := &subscription{
		id:     sip.DialogIDMake(req.CallID().Value(), localTag, fromTag),
		pkg:    pkg,
		event:  echo,
		ext:    ext,
		device: device,
		callID: req.CallID().Value(), localTag: localTag,
		local:  req.To().Address,
		remote: sip.FromHeader{DisplayName: from.DisplayName, Address: from.Address, Params: from.Params.Clone()},
		cseq:   1,
	}
	sub.local.UriParams, sub.local.Headers = nil, nil
	s.retarget(sub, req)
	return sub
}

// retarget notes where the subscriber is now: its Contact, and the address
// and transport its request came from.
func (s *Service) retarget(sub *subscription, req *sip.Request) {
	sub.target = sub.remote.Address // no Contact (RFC 6665 requires one): the subscriber's address
	if c := req.Contact(); c != nil {
		sub.target = c.Address
	}
	sub.source, sub.transport = req.Source(), req.Transport()
}

// add stores a subscription; a device over its limit loses its oldest.
func (s *Service) add(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mine := s.byDevice[sub.device]; len(mine) >= s.cfg.PerDevice {
		var oldest *subscription
		for _, o := range mine {
			if oldest == nil || o.created.Before(oldest.created) {
				oldest = o
			}
		}
		s.removeLocked(oldest)
	}
	s.subs[sub.id] = sub
	for _, idx := range []struct {
		m   map[string]map[string]*subscription
		key string
	}{{s.byDevice, sub.device}, {s.byExt, sub.ext}} {
		if idx.m[idx.key] == nil {
			idx.m[idx.key] = map[string]*subscription{}
		}
		idx.m[idx.key][sub.id] = sub
	}
}

// removeLocked forgets a subscription; s.mu is held.
func (s *Service) removeLocked(sub *subscription) {
	delete(s.subs, sub.id)
	for _, idx := range []struct {
		m   map[string]map[string]*subscription
		key string
	}{{s.byDevice, sub.device}, {s.byExt, sub.ext}} {
		delete(idx.m[idx.key], sub.id)
		if len(idx.m[idx.key]) == 0 {
			delete(idx.m, idx.key)
		}
	}
}

// remove forgets a subscription (its NOTIFY failed).
func (s *Service) remove(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[sub.id] == sub {
		s.removeLocked(sub)
	}
}

// refresh handles an in-dialog SUBSCRIBE: a new expiry, or the end.
func (s *Service) refresh(req *sip.Request, device string, expires int) *reply {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return answer(req, 481, "Subscription Does Not Exist")
	}
	s.mu.Lock()
	sub := s.subs[id]
	if sub == nil || sub.device != device || sub.ended != "" {
		s.mu.Unlock()
		return answer(req, 481, "Subscription Does Not Exist")
	}
	if expires < 0 {
		expires = s.cfg.DefaultExpires
	}
	if expires > 0 && expires < s.cfg.MinExpires {
		s.mu.Unlock()
		return answer(req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(s.cfg.MinExpires)))
	}
	expires = min(expires, s.cfg.MaxExpires)
	s.retarget(sub, req)
	if expires == 0 {
		sub.ended = "terminated"
		s.removeLocked(sub)
	} else {
		sub.expires = s.cfg.Now().Add(time.Duration(expires) * time.Second)
	}
	s.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res.AppendHeader(s.contact(req.Transport()))
	return &reply{response: res, after: func() { s.kick(sub) }}
}

// Expire ends the subscriptions that ran out by now, each with a final
// NOTIFY. Run calls it every second.
func (s *Service) Expire(now time.Time) {
	var gone []*subscription
	s.mu.Lock()
	for _, sub := range s.subs {
		if !now.Before(sub.expires) {
			sub.ended = "terminated;reason=timeout"
			gone = append(gone, sub)
		}
	}
	for _, sub := range gone {
		s.removeLocked(sub)
	}
	s.mu.Unlock()
	for _, sub := range gone {
		s.log.Debug("subscription expired", "device", sub.device, "ext", sub.ext)
		s.kick(sub)
	}
}

// subscribed reports whether device holds a live subscription to pkg.
func (s *Service) subscribed(device, pkg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.byDevice[device] {
		if sub.pkg == pkg {
			return true
		}
	}
	return false
}

// watching returns the live subscriptions to ext of the packages pkgs.
func (s *Service) watching(ext string, pkgs ...string) []*subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*subscription
	for _, sub := range s.byExt[ext] {
		if slices.Contains(pkgs, sub.pkg) {
			out = append(out, sub)
		}
	}
	return out
}

// devicesOf lists ext's device ids.
func (s *Service) devicesOf(ext string) []store.Device {
	ds, err := s.deps.Directory.Devices(ext)
	if err != nil {
		s.log.Warn("devices of extension", "ext", ext, "err", err)
	}
	return ds
}
