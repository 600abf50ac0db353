// Package call is the B2BUA: every call is two (or, while ringing, more)
// SIP dialogs — the caller's leg A and one leg B per ringing phone — with
// the switch in the middle anchoring the media. One goroutine owns a call
// from its INVITE to its call record; SIP requests for it are routed here by
// dialog and handed to that goroutine.
package call

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/media/webrtc"
	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/event"
	"switchboard/switch/route"
)

// Credentials gives the digest secrets of enabled devices (the registrar's directory).
type Credentials interface {
	DeviceSecrets(id string) (auth.Secrets, bool)
}

// Locator tells where a device is registered.
type Locator interface {
	Lookup(device string) []store.Binding
}

// Records stores finished calls.
type Records interface {
	SaveCall(store.CallRecord) error
}

// Deps are what the call manager works with; main and tests wire them.
type Deps struct {
	Auth        *auth.Authenticator
	Credentials Credentials
	Locator     Locator
	Directory   route.Directory
	Media       *media.Engine
	Records     Records
	Handling    Handling        // DND and forwarding feature codes; nil = none
	Voicemail   Voicemail       // deposit, the voicemail menu, greetings; nil = no voicemail
	WebRTC      *webrtc.Gateway // terminates webphones' media; nil: browsers cannot call or be called
	Bus         *event.Bus
	Log         *slog.Logger
	// Dialog user agents for UDP and for stream transports (TCP): each sends
	// with the matching sipgo client. See DEPS-NOTES on why there are two.
	UDP, Stream *sipgo.DialogUA
}

// Config tunes calls. Zero values take defaults.
type Config struct {
	Routing      route.Settings
	MediaTimeout time.Duration // no RTP from either side for this long ends a call (default 60 s)
	MaxDuration  time.Duration // a call never lasts longer (default 8 h)
	SessionTimer time.Duration // Session-Expires we grant when a phone asks (RFC 4028; default 1800 s)
	Codecs       []media.Codec // offered and accepted, preferred first (default PCMU, PCMA)
	MusicOnHold  []byte        // 8 kHz μ-law loop a held party hears (default: the built-in music)
	NotAvailable []byte        // what a caller hears when nobody took the call (default: the built-in prompt)
	Gateway      string        // host:port of the SIP gateway outside numbers are called through; "" = none
}

// Manager owns the live calls.
type Manager struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	ctx  context.Context // ends at shutdown: every call hangs up
	stop context.CancelFunc
	wg   sync.WaitGroup // one per live call goroutine

	music *holdMusic // music on hold: one shared stream for every held party (music.go)

	mu        sync.Mutex
	legs      map[string]*leg  // dialog id → leg, for in-dialog requests
	calls     map[string]*Call // caller's Call-ID → call
	perDevice map[string]int   // calls each device started and has not ended
}

// New returns a Manager; call Close at shutdown.
func New(cfg Config, deps Deps) *Manager {
	if cfg.MediaTimeout == 0 {
		cfg.MediaTimeout = 60 * time.Second
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = 8 * time.Hour
	}
	if cfg.SessionTimer == 0 {
		cfg.SessionTimer = 1800 * time.Second
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []media.Codec{media.PCMU, media.PCMA}
	}
	ctx, stop := context.WithCancel(context.Background())
	if len(cfg.MusicOnHold) == 0 {
		cfg.MusicOnHold = prompts.MusicOnHold()
	}
	return &Manager{cfg: cfg, deps: deps, log: deps.Log, ctx: ctx, stop: stop, music: newHoldMusic(cfg.MusicOnHold),
		legs: map[string]*leg{}, calls: map[string]*Call{}, perDevice: map[string]int{}}
}

// Close hangs up every call and waits until each has written its record.
func (m *Manager) Close() {
	m.stop()
	m.wg.Wait()
}

// Active returns a snapshot of the live calls.
func (m *Manager) Active() []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Snapshot, 0, len(m.calls))
	for _, c := range m.calls {
		out = append(out, c.snapshot())
	}
	return out
}

// Live reports whether the call with the caller's Call-ID id is in
// progress; presence uses it to drop calls whose end it missed.
func (m *Manager) Live(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[id] != nil
}

// Count returns how many calls are live (ringing or talking).
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

// Snapshot is a live call as seen from outside; it never changes.
type Snapshot struct {
	ID         string
	From       string
	To         string
	AnsweredBy string
	Start      time.Time
	Answer     time.Time
}

func (m *Manager) dialogUA(transport string) *sipgo.DialogUA {
	if transport == "UDP" || transport == "" {
		return m.deps.UDP
	}
	return m.deps.Stream
}

func (m *Manager) addLeg(id string, l *leg) {
	m.mu.Lock()
	m.legs[id] = l
	m.mu.Unlock()
}

func (m *Manager) removeLeg(id string) {
	m.mu.Lock()
	delete(m.legs, id)
	m.mu.Unlock()
}

// findLeg matches an in-dialog request to a leg: a request from a caller
// carries our tag in To (UAS view), one from a callee in From (UAC view).
func (m *Manager) findLeg(req *sip.Request) *leg {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if l := m.legs[id]; l != nil {
			return l
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		return m.legs[id]
	}
	return nil
}

// HandleInvite is the sipgo handler for INVITE. A new call runs inside it
// for its whole life (sipgo ends the transaction when the handler returns).
func (m *Manager) HandleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		m.handleInDialog(req, tx)
		return
	}
	if m.ctx.Err() != nil {
		respond(tx, req, 503, "Service Unavailable")
		return
	}
	device, ok := m.authenticate(req, tx)
	if !ok {
		return
	}
	c := m.newCall(req, tx, device)
	if c == nil {
		return
	}
	m.wg.Add(1)
	defer m.wg.Done()
	c.run()
}

// authenticate challenges or verifies an INVITE (407, RFC 3261 §22.3).
// An unauthenticated INVITE never rings anything.
func (m *Manager) authenticate(req *sip.Request, tx sip.ServerTransaction) (string, bool) {
	r := m.deps.Auth.Verify(req, true, m.deps.Credentials.DeviceSecrets)
	switch r.Outcome {
	case auth.OK:
		return r.User, true
	case auth.Challenge, auth.Stale:
		// Answered like a stateless proxy: a lost 407 makes the phone send
		// its INVITE again, and nobody can have the switch repeat 407s for
		// 32 s at an address they name.
		tx.Respond(m.deps.Auth.Challenge(req, true, r.Outcome == auth.Stale))
		tx.Terminate()
	case auth.Forbidden:
		if m.deps.Auth.HoldBack(r.Delay) {
			respond(tx, req, 403, "Forbidden")
		}
	case auth.Blocked:
	}
	return "", false
}

// HandleAck feeds an ACK to the leg it confirms.
func (m *Manager) HandleAck(req *sip.Request, tx sip.ServerTransaction) {
	l := m.findLeg(req)
	switch {
	case l == nil, l.ackReinvite(req):
	case l.server != nil:
		l.answerLateOffer(req)
		l.server.ReadAck(req, tx) // the ACK of the call's first 200
	}
}

// HandleBye ends the leg it belongs to; the call's goroutine hangs up the other.
func (m *Manager) HandleBye(req *sip.Request, tx sip.ServerTransaction) {
	l := m.findLeg(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	var err error
	if l.server != nil {
		err = l.server.ReadBye(req, tx)
	} else {
		err = l.client.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, 500, "Server Internal Error")
	}
}

// HandleInDialog answers UPDATE and INFO (and re-INVITE via HandleInvite).
func (m *Manager) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	m.handleInDialog(req, tx)
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	tx.Respond(res)
}
