// Package registrar answers REGISTER: it authenticates devices, keeps their
// bindings (where each device can be reached) in memory, expires them, and
// writes them to the store in batches so they survive a restart without an
// fsync per REGISTER.
package registrar

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/event"
)

// Directory gives the registrar the digest secrets of enabled devices.
type Directory interface {
	DeviceSecrets(id string) (auth.Secrets, bool)
}

// Persister stores bindings; *store.Store satisfies it.
type Persister interface {
	SaveBindings(map[string][]store.Binding) error
	Bindings(now time.Time) (map[string][]store.Binding, error)
}

var _ Persister = (*store.Store)(nil)

// Config tunes the registrar. Zero values take the defaults in New.
type Config struct {
	MinExpires     int           // shorter requests get 423 (default 60 s)
	MaxExpires     int           // longer requests are shortened (default 3600 s)
	DefaultExpires int           // when the phone names none (default 3600 s)
	MaxBindings    int           // per device; the oldest is replaced (default 10)
	FlushEvery     time.Duration // how often new and changed bindings are written (default 2 s)
	// RefreshFlushEvery is how often bindings that were only refreshed (a
	// later expiry, nothing else changed) are written (default 60 s). Their
	// stored copy stays valid meanwhile, only with an earlier expiry, and a
	// clean shutdown writes everything; so only a crash within a minute of a
	// refresh can lose it, and then the phone's previous expiry still holds.
	RefreshFlushEvery time.Duration
	Now               func() time.Time
}

// Registrar is the REGISTER handler and the table of bindings.
type Registrar struct {
	cfg     Config
	auth    *auth.Authenticator
	dir     Directory
	persist Persister
	bus     *event.Bus
	log     *slog.Logger
	table   *table

	dirtyMu   sync.Mutex
	dirty     map[string]struct{} // devices to write at the next flush
	refreshed map[string]struct{} // devices whose bindings were only refreshed
}

// New returns a registrar; call Load, then Run.
func New(cfg Config, a *auth.Authenticator, dir Directory, p Persister, bus *event.Bus, log *slog.Logger) *Registrar {
	if cfg.MinExpires == 0 {
		cfg.MinExpires = 60
	}
	if cfg.MaxExpires == 0 {
		cfg.MaxExpires = 3600
	}
	if cfg.DefaultExpires == 0 {
		cfg.DefaultExpires = 3600
	}
	if cfg.MaxBindings == 0 {
		cfg.MaxBindings = 10
	}
	if cfg.FlushEvery == 0 {
		cfg.FlushEvery = 2 * time.Second
	}
	if cfg.RefreshFlushEvery == 0 {
		cfg.RefreshFlushEvery = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registrar{
		cfg: cfg, auth: a, dir: dir, persist: p, bus: bus, log: log,
		table:     newTable(),
		dirty:     map[string]struct{}{},
		refreshed: map[string]struct{}{},
	}
}

// Load reads the bindings that were live when the switch last stopped,
// except those over a WebSocket: that connection ended with the switch.
func (r *Registrar) Load() error {
	saved, err := r.persist.Bindings(r.cfg.Now())
	if err != nil {
		return err
	}
	for device, list := range saved {
		list = slices.DeleteFunc(list, func(b store.Binding) bool { return auth.IsWebSocket(b.Transport) })
		if len(list) == 0 {
			r.markDirty(device)
			continue
		}
		r.table.update(device, func(string, []store.Binding) []store.Binding { return list })
	}
	return nil
}

// Run expires bindings and flushes changes until ctx ends, then flushes once more.
func (r *Registrar) Run(ctx context.Context) {
	expire := time.NewTicker(time.Second)
	flush := time.NewTicker(r.cfg.FlushEvery)
	flushRefreshed := time.NewTicker(r.cfg.RefreshFlushEvery)
	defer expire.Stop()
	defer flush.Stop()
	defer flushRefreshed.Stop()
	for {
		select {
		case <-ctx.Done():
			r.Flush()
			return
		case <-expire.C:
			r.expire()
		case <-flush.C:
			r.flush(false)
		case <-flushRefreshed.C:
			r.flush(true)
		}
	}
}

func (r *Registrar) expire() {
	var gone []event.Event
	r.table.expire(r.cfg.Now(), func(device string, b store.Binding) {
		gone = append(gone, bindingEvent(event.Expired, device, b))
	})
	for _, e := range gone {
		r.markDirty(e.Device)
		r.log.Info("registration expired", "device", e.Device, "contact", e.Contact)
		r.bus.Publish(e)
	}
}

// flushChunk is how many devices one write transaction saves. Small
// transactions keep each burst of encoding short, so REGISTERs are not
// held up behind a flush of thousands of refreshed devices.
const flushChunk = 512

// Flush writes the bindings of every device changed or refreshed since the
// last flush.
func (r *Registrar) Flush() { r.flush(true) }

// flush writes the devices whose bindings changed, and with refreshed also
// those whose bindings were only refreshed.
func (r *Registrar) flush(refreshed bool) {
	r.dirtyMu.Lock()
	ids := r.dirty
	r.dirty = map[string]struct{}{}
	if refreshed {
		maps.Copy(ids, r.refreshed)
		r.refreshed = map[string]struct{}{}
	} else {
		for id := range ids {
			delete(r.refreshed, id)
		}
	}
	r.dirtyMu.Unlock()
	// In key order, so each transaction rewrites few of bbolt's pages.
	batch := make(map[string][]store.Binding, min(len(ids), flushChunk))
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		batch[id] = r.table.get(id)
		if len(batch) == flushChunk {
			r.save(batch)
			clear(batch)
		}
	}
	if len(batch) > 0 {
		r.save(batch)
	}
}

// save writes one batch; after a failure its devices stay dirty for the next flush.
func (r *Registrar) save(batch map[string][]store.Binding) {
	if err := r.persist.SaveBindings(batch); err != nil {
		r.log.Error("save registrations", "err", err, "devices", len(batch))
		r.dirtyMu.Lock()
		for id := range batch {
			r.dirty[id] = struct{}{}
		}
		r.dirtyMu.Unlock()
	}
}

func (r *Registrar) markDirty(device string) {
	r.dirtyMu.Lock()
	r.dirty[device] = struct{}{}
	r.dirtyMu.Unlock()
}

func (r *Registrar) markRefreshed(device string) {
	r.dirtyMu.Lock()
	r.refreshed[device] = struct{}{}
	r.dirtyMu.Unlock()
}

// Lookup returns the live bindings of a device.
func (r *Registrar) Lookup(device string) []store.Binding {
	now := r.cfg.Now()
	list := r.table.get(device)
	live := list[:0]
	for _, b := range list {
		if b.Expires.After(now) {
			live = append(live, b)
		}
	}
	return live
}

// MaxExpires is the longest a registration lasts before the phone must
// renew it.
func (r *Registrar) MaxExpires() time.Duration { return time.Duration(r.cfg.MaxExpires) * time.Second }

// Counts returns registered devices and bindings.
func (r *Registrar) Counts() (devices, bindings int) { return r.table.counts() }

// All returns every live binding by device.
func (r *Registrar) All() map[string][]store.Binding { return r.table.all() }

// EachBinding calls fn with every current binding without copying them; fn
// runs under a lock, so it must be quick and must not keep b.
func (r *Registrar) EachBinding(fn func(device string, b *store.Binding)) { r.table.eachBinding(fn) }

// Remove drops every binding of a device (it was deleted or disabled).
func (r *Registrar) Remove(device string) {
	var gone []store.Binding
	r.table.update(device, func(_ string, list []store.Binding) []store.Binding {
		gone = list
		return nil
	})
	for _, b := range gone {
		r.bus.Publish(bindingEvent(event.Unregistered, device, b))
	}
	r.markDirty(device)
}

// DropConnection drops the bindings that came over one stream connection
// (transport and the phone's address) when it closes: a browser's
// WebSocket cannot be reached again once closed.
func (r *Registrar) DropConnection(transport, source string) {
	for device, list := range r.table.all() {
		for _, b := range list {
			if b.Source == source && strings.EqualFold(b.Transport, transport) {
				r.dropBinding(device, b)
			}
		}
	}
}

func (r *Registrar) dropBinding(device string, gone store.Binding) {
	r.table.update(device, func(_ string, list []store.Binding) []store.Binding {
		return slices.DeleteFunc(list, func(b store.Binding) bool { return b.Contact == gone.Contact && b.Source == gone.Source })
	})
	r.bus.Publish(bindingEvent(event.Unregistered, device, gone))
	r.markDirty(device)
}

func bindingEvent(k event.Kind, device string, b store.Binding) event.Event {
	return event.Event{Kind: k, Device: device, Contact: b.Contact, Source: b.Source,
		Transport: b.Transport, UserAgent: b.UserAgent}
}

// HandleRegister is the sipgo handler for REGISTER.
//
// After a 200 or a 401 it ends the transaction at once instead of keeping it
// for Timer J (32 s over UDP) to absorb retransmissions: the registrar
// answers a retransmitted REGISTER the same way by itself (a new challenge;
// the same bindings for a repeated Call-ID and CSeq, see apply). Kept
// transactions hold both messages and a timer, so at thousands of
// registrations a second they cost more memory and garbage collection than
// all the bindings. Other answers keep sipgo's usual transaction.
func (r *Registrar) HandleRegister(req *sip.Request, tx sip.ServerTransaction) {
	res := r.register(req)
	if res == nil {
		return
	}
	if err := tx.Respond(res); err != nil {
		r.log.Debug("respond to REGISTER", "err", err, "source", req.Source())
	}
	if res.StatusCode == sip.StatusOK || res.StatusCode == sip.StatusUnauthorized {
		tx.Terminate()
	}
}

// register decides the answer to one REGISTER; nil means stay silent.
func (r *Registrar) register(req *sip.Request) *sip.Response {
	to := req.To()
	if to == nil || req.CallID() == nil || req.CSeq() == nil || req.From() == nil {
		return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
	}
	result := r.auth.Verify(req, false, r.dir.DeviceSecrets)
	switch result.Outcome {
	case auth.Blocked:
		return nil
	case auth.Challenge, auth.Stale:
		return r.auth.Challenge(req, false, result.Outcome == auth.Stale)
	case auth.Forbidden:
		if !r.auth.HoldBack(result.Delay) {
			return nil
		}
		return sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
	}
	device := result.User
	if to.Address.User != device {
		// A device may only register its own address.
		return sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
	}
	return r.apply(req, device)
}

// AnswerStateless answers a REGISTER that came over UDP outside any sipgo
// transaction (the server's read filter hands it over before sipgo makes
// one). A transaction would add nothing for the answers given here: the
// registrar already answers a retransmitted REGISTER itself, with the same
// 200 or a fresh challenge (see HandleRegister), and its other answers to
// an authenticated device (423, 400, 500) change nothing, so a
// retransmission gets the same again. It returns nil for a request that
// must take the transaction path: malformed, from a blocked address, or with
// failed credentials, which are counted and answered after a delay there
// (auth.Check counts nothing, so nothing is counted twice).
func (r *Registrar) AnswerStateless(req *sip.Request) *sip.Response {
	to := req.To()
	if to == nil || req.Via() == nil || req.CallID() == nil || req.CSeq() == nil || req.From() == nil {
		return nil // sipgo answers 400 (without a Via, nothing)
	}
	result := r.auth.Check(req, false, r.dir.DeviceSecrets)
	switch result.Outcome {
	case auth.Challenge, auth.Stale:
		return r.auth.Challenge(req, false, result.Outcome == auth.Stale)
	case auth.OK:
		if to.Address.User == result.User {
			return r.apply(req, result.User)
		}
	}
	return nil
}

// contactChange is one Contact of a REGISTER, checked.
type contactChange struct {
	uri      string
	instance string
	expires  int
}

// registration is what one REGISTER asks for, checked.
type registration struct {
	changes  []contactChange
	wildcard bool // Contact: * with Expires: 0, remove every binding
	ua       string
}

// readRegistration checks the Expires and Contact headers of req (RFC 3261
// §10.3 steps 6–7); a response refuses the request.
func (r *Registrar) readRegistration(req *sip.Request) (registration, *sip.Response) {
	var reg registration
	headerExpires := -1
	var contacts []sip.Header
	// One pass over the headers: sipgo's GetHeader copies the name of every
	// header it passes to lowercase it.
	for _, h := range req.Headers() {
		switch name := h.Name(); {
		case strings.EqualFold(name, "Contact"):
			contacts = append(contacts, h)
		case strings.EqualFold(name, "Expires"):
			if headerExpires >= 0 {
				continue // the first counts, as with GetHeader
			}
			v, err := strconv.Atoi(strings.TrimSpace(h.Value()))
			if err != nil || v < 0 {
				return reg, sip.NewResponseFromRequest(req, 400, "Bad Expires", nil)
			}
			headerExpires = v
		case strings.EqualFold(name, "User-Agent"):
			if reg.ua == "" {
				reg.ua = h.Value()
			}
		}
	}
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return reg, sip.NewResponseFromRequest(req, 400, "Bad Contact", nil)
		}
		if c.Address.Wildcard {
			reg.wildcard = true
			continue
		}
		exp := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return reg, sip.NewResponseFromRequest(req, 400, "Bad Contact Expires", nil)
			}
			exp = n
		}
		if exp < 0 {
			exp = r.cfg.DefaultExpires
		}
		if exp > 0 && exp < r.cfg.MinExpires {
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(r.cfg.MinExpires)))
			return reg, res
		}
		uri, ok := bindingURI(c.Address)
		if !ok {
			return reg, sip.NewResponseFromRequest(req, 400, "Bad Contact", nil)
		}
		instance, _ := c.Params.Get("+sip.instance")
		reg.changes = append(reg.changes, contactChange{uri: uri, instance: instance, expires: min(exp, r.cfg.MaxExpires)})
	}
	if reg.wildcard && (len(contacts) != 1 || headerExpires != 0) {
		return reg, sip.NewResponseFromRequest(req, 400, "Wildcard Contact Needs Expires 0", nil)
	}
	return reg, nil
}

// outcome is what merging a registration into a device's bindings did.
type outcome struct {
	events  []event.Event
	stale   bool // an older request than the one the bindings come from
	repeat  bool // a retransmission of that request
	changed bool // more than a later expiry: to be written at the next flush
}

// apply updates the bindings of an authenticated device (RFC 3261 §10.3).
func (r *Registrar) apply(req *sip.Request, device string) *sip.Response {
	reg, refuse := r.readRegistration(req)
	if refuse != nil {
		return refuse
	}
	now := r.cfg.Now()
	var out outcome
	// From here on, the id the table keeps: device shares the memory of the
	// request's Authorization header, which must not live on in events.
	device = r.table.update(device, func(id string, list []store.Binding) []store.Binding {
		list, out = r.merge(list, reg, req, id, now)
		return list
	})
	switch {
	case out.stale:
		return sip.NewResponseFromRequest(req, 500, "Stale CSeq", nil)
	case out.repeat:
		return r.ok(req, device, now)
	case out.changed:
		r.markDirty(device)
	case len(reg.changes) > 0:
		r.markRefreshed(device)
	}
	for _, e := range out.events {
		r.log.Info("registration "+e.Kind.String(), "device", device, "contact", e.Contact,
			"source", e.Source, "transport", e.Transport)
		r.bus.Publish(e)
	}
	return r.ok(req, device, now)
}

// merge applies reg to a device's bindings under its shard lock.
func (r *Registrar) merge(list []store.Binding, reg registration, req *sip.Request, device string, now time.Time) ([]store.Binding, outcome) {
	var out outcome
	callID, cseq := req.CallID().Value(), req.CSeq().SeqNo
	// A retransmission (same CSeq) is answered like the original, changing
	// nothing; an older request must not undo a newer one. Either way nothing
	// changes at all (RFC 3261 §10.3: all updates or none), and only bindings
	// made before this request count: one REGISTER may name a contact twice.
	if newest, found := lastCSeqFor(list, reg, callID); found && newest >= cseq {
		out.repeat = newest == cseq && isRepeat(list, reg, callID, cseq)
		out.stale = !out.repeat
		return list, out
	}
	if reg.wildcard {
		for _, b := range list {
			out.events = append(out.events, bindingEvent(event.Unregistered, device, b))
		}
		out.changed = true
		return nil, out
	}
	for _, ch := range reg.changes {
		i := indexOf(list, ch)
		if ch.expires == 0 {
			if i >= 0 {
				out.events = append(out.events, bindingEvent(event.Unregistered, device, list[i]))
				list = append(list[:i], list[i+1:]...)
				out.changed = true
			}
			continue
		}
		b := store.Binding{
			Contact: ch.uri, Instance: ch.instance, Source: req.Source(), Transport: req.Transport(),
			Expires: now.Add(time.Duration(ch.expires) * time.Second), CallID: callID, CSeq: cseq,
			UserAgent: reg.ua, Updated: now,
		}
		var prev *store.Binding
		if i >= 0 {
			prev = &list[i]
		}
		b = detach(b, prev)
		switch {
		case i >= 0:
			if list[i].Source != b.Source || list[i].Transport != b.Transport {
				out.events = append(out.events, bindingEvent(event.Registered, device, b))
			}
			out.changed = out.changed || !refreshOnly(list[i], b)
			list[i] = b
			continue
		case len(list) >= r.cfg.MaxBindings:
			oldest := 0
			for j := range list {
				if list[j].Updated.Before(list[oldest].Updated) {
					oldest = j
				}
			}
			list[oldest] = b
		default:
			list = append(list, b)
		}
		out.events = append(out.events, bindingEvent(event.Registered, device, b))
		out.changed = true
	}
	return list, out
}

// detach makes b own its strings. Those taken from the request are
// substrings of its parsed header lines, which a binding would otherwise keep
// alive for as long as it lives. Strings equal to the previous binding's are
// reused.
func detach(b store.Binding, prev *store.Binding) store.Binding {
	own := func(s, old string) string {
		if s == old {
			return old
		}
		return strings.Clone(s)
	}
	var old store.Binding
	if prev != nil {
		old = *prev
	}
	b.Contact = own(b.Contact, old.Contact)
	b.Instance = own(b.Instance, old.Instance)
	b.Source = own(b.Source, old.Source)
	b.CallID = own(b.CallID, old.CallID)
	b.Transport = own(b.Transport, old.Transport)
	b.UserAgent = own(b.UserAgent, old.UserAgent)
	return b
}

// refreshOnly reports whether next only moves old's expiry later (and the
// bookkeeping that comes with it): then the stored copy of old can wait.
func refreshOnly(old, next store.Binding) bool {
	return next.Contact == old.Contact && next.Instance == old.Instance && next.Source == old.Source &&
		next.Transport == old.Transport && next.UserAgent == old.UserAgent && !next.Expires.Before(old.Expires)
}

func indexOf(list []store.Binding, ch contactChange) int {
	for i, b := range list {
		if (ch.instance != "" && b.Instance == ch.instance) || b.Contact == ch.uri {
			return i
		}
	}
	return -1
}

// ok answers 200 listing every current binding with its remaining lifetime.
func (r *Registrar) ok(req *sip.Request, device string, now time.Time) *sip.Response {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	r.table.each(device, func(b *store.Binding) {
		if !b.Expires.After(now) {
			return
		}
		// b.Contact is a URI sipgo printed, so it goes back as it is.
		secs := int(b.Expires.Sub(now).Round(time.Second) / time.Second)
		res.AppendHeader(sip.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.Itoa(secs)))
	})
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(http1123)))
	return res
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

// bindingURI is a contact as the binding keeps it, if calls can be sent to
// it: a sip or sips URI with a host and a valid port that reads back as
// written (sipgo accepts contacts it cannot write back, such as ":0:").
func bindingURI(u sip.Uri) (string, bool) {
	sipScheme := strings.EqualFold(u.Scheme, "sip") || strings.EqualFold(u.Scheme, "sips")
	if !sipScheme || u.Host == "" || u.Port < 0 || u.Port > 65535 {
		return "", false
	}
	s := u.String()
	var again sip.Uri
	if err := sip.ParseUri(s, &again); err != nil || again.Host != u.Host || again.Port != u.Port {
		return "", false
	}
	return s, true
}

// lastCSeqFor is the highest CSeq of the same Call-ID among the bindings
// reg would change (all of them for a wildcard), before any change is made.
func lastCSeqFor(list []store.Binding, reg registration, callID string) (cseq uint32, found bool) {
	for i, b := range list {
		if b.CallID != callID {
			continue
		}
		affected := reg.wildcard
		for _, ch := range reg.changes {
			if indexOf(list, ch) == i {
				affected = true
			}
		}
		if affected && (!found || b.CSeq > cseq) {
			cseq, found = b.CSeq, true
		}
	}
	return cseq, found
}

// isRepeat reports whether reg is the request that already made its bindings
// (a retransmission the transaction layer did not absorb): the same contacts,
// each bound by this Call-ID and CSeq. Anything else reusing a CSeq is stale.
func isRepeat(list []store.Binding, reg registration, callID string, cseq uint32) bool {
	if reg.wildcard || len(reg.changes) == 0 {
		return false
	}
	for _, ch := range reg.changes {
		i := indexOf(list, ch)
		if ch.expires == 0 || i < 0 || list[i].CallID != callID || list[i].CSeq != cseq {
			return false
		}
	}
	return true
}
