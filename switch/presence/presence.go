// Package presence is SUBSCRIBE/NOTIFY (RFC 6665): phones subscribe to the
// state of something the switch knows and are told when it changes. Three
// event packages: message waiting (RFC 3842 message-summary), whose lamp
// follows the user's voicemail box; BLF (the dialog package, RFC 4235),
// whose keys show a colleague idle, ringing or talking; and presence (RFC
// 3856, PIDF with an RPID activity), open or closed as the colleague's
// phones register and go away.
//
// # Live state
//
// One place knows each extension's live state (Status): whether any of its
// devices is registered (the registrar), and its calls with their dialog
// states, built from the call events on the bus (calls.go). Every change
// kicks the BLF and presence subscriptions to that extension and is
// published on the bus as StatusChanged, for the web UI. The bus drops
// events for a subscriber that falls behind, so once a second calls the
// call manager no longer knows are dropped too.
//
// # Subscriptions
//
// A SUBSCRIBE is authenticated like a REGISTER (401 challenge, digest
// check; unknown device and wrong password get the same 403), so an
// unauthenticated request never learns whether an extension exists or what
// it does. A device may watch only its own mailbox, but any extension of
// the office for BLF and presence (404 for one that does not exist). The
// subscription is a dialog held in memory: 200 OK with the granted
// Expires, then at once a NOTIFY with the current state, and another one
// whenever the state changes. A refresh (in-dialog SUBSCRIBE) is answered
// with a NOTIFY too; Expires: 0 ends it with a final NOTIFY
// (Subscription-State: terminated), and so does running out
// (reason=timeout). A subscription does not survive a restart: the
// phone's next refresh gets 481 and it subscribes again.
//
// # Unsolicited message waiting
//
// Many phones never subscribe and rely on the PBX to tell them anyway. When
// an extension's counts change, every registered contact of its devices
// that holds no subscription gets an out-of-dialog NOTIFY (Event:
// message-summary, no Subscription-State, as Asterisk and most PBXs send
// it), and a phone that registers anew is told at once when new messages
// wait, so a rebooted phone's lamp comes back on.
//
// # Sending
//
// NOTIFYs go where the phone's request came from (its source address and
// transport, so NAT and TCP work), from the switch's listening socket.
// Sends to one target are serialised and coalesced: if the state changes
// again while a NOTIFY is in flight, one more NOTIFY follows with the state
// as it is then, so a phone never sees counts out of order. A subscription
// whose NOTIFY gets 481 or no answer is dropped (RFC 6665 §4.2.2).
package presence

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/event"
)

// Credentials gives the digest secrets of enabled devices.
type Credentials interface {
	DeviceSecrets(id string) (auth.Secrets, bool)
}

// Directory knows users, devices and which extension each device belongs
// to (*store.Store).
type Directory interface {
	User(ext string) (store.User, error)
	Device(id string) (store.Device, error)
	Devices(ext string) ([]store.Device, error)
}

// Mailboxes gives a voicemail box's message counts (*store.Store).
type Mailboxes interface {
	MessageCounts(ext string) (unread, read int, err error)
}

// Locator tells where a device is registered (the registrar).
type Locator interface {
	Lookup(device string) []store.Binding
}

// Calls tells whether a call is still in progress (*call.Manager).
type Calls interface {
	Live(callID string) bool
}

// Deps are what the presence service works with; the server wires them.
type Deps struct {
	Auth        *auth.Authenticator
	Credentials Credentials
	Directory   Directory
	Mailboxes   Mailboxes
	Locator     Locator
	Bus         *event.Bus // optional: live state for BLF and presence, unsolicited MWI
	Calls       Calls      // optional: drops calls whose end the bus missed
	Log         *slog.Logger
	// Clients send NOTIFYs: UDP from the listening socket, and one for
	// stream transports (see DEPS-NOTES on why there are two).
	UDP, Stream *sipgo.Client
}

// Config tunes subscriptions. Zero values take defaults.
type Config struct {
	Host           string // the switch's advertised address: Contact and Message-Account
	Port           int
	MinExpires     int // shorter subscriptions get 423 (default 60 s)
	MaxExpires     int // longer ones are shortened (default 3600 s)
	DefaultExpires int // when the SUBSCRIBE names none (default 3600 s, RFC 3842 §4)
	PerDevice      int // subscriptions one device may hold, one per BLF key; the oldest goes (default 200)
	NotifyTimeout  time.Duration
	Now            func() time.Time
}

// Service holds the subscriptions and sends NOTIFYs. Safe for concurrent use.
type Service struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	ctx  context.Context // ends at Close: sends in flight give up
	stop context.CancelFunc
	wg   sync.WaitGroup // every send goroutine

	mu       sync.Mutex
	subs     map[string]*subscription            // dialog id → subscription
	byDevice map[string]map[string]*subscription // device → its subscriptions by id
	byExt    map[string]map[string]*subscription // watched extension → subscriptions by id
	sends    map[string]*sendState               // target key → its serialised sender

	calls *callBoard // every call in progress, as BLF shows it
}

// New returns a Service; run Run and, at shutdown, Close.
func New(cfg Config, deps Deps) *Service {
	if cfg.MinExpires == 0 {
		cfg.MinExpires = 60
	}
	if cfg.MaxExpires == 0 {
		cfg.MaxExpires = 3600
	}
	if cfg.DefaultExpires == 0 {
		cfg.DefaultExpires = 3600
	}
	if cfg.PerDevice == 0 {
		cfg.PerDevice = 200 // a phone with expansion modules watches over a hundred colleagues
	}
	if cfg.NotifyTimeout == 0 {
		cfg.NotifyTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Service{cfg: cfg, deps: deps, log: deps.Log, ctx: ctx, stop: stop,
		subs: map[string]*subscription{}, byDevice: map[string]map[string]*subscription{},
		byExt: map[string]map[string]*subscription{}, sends: map[string]*sendState{}, calls: newCallBoard()}
}

// Run expires subscriptions and, with a bus, follows registrations and
// calls for BLF and presence and tells newly registered phones about
// waiting messages, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var events <-chan event.Event
	if s.deps.Bus != nil {
		// Roomy: a burst of call events must not overflow it (see prune).
		ch, unsubscribe := s.deps.Bus.Subscribe(4096)
		defer unsubscribe()
		events = ch
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.Expire(s.cfg.Now())
			if s.deps.Calls != nil {
				s.changed(s.calls.prune(s.deps.Calls.Live))
			}
		case e := <-events:
			s.observe(e)
		}
	}
}

// Close stops sending and waits for the sends in flight.
func (s *Service) Close() {
	s.mu.Lock()
	s.stop() // under mu: coalesce never starts a sender after this
	s.mu.Unlock()
	s.wg.Wait()
}

// Count is how many subscriptions are live.
func (s *Service) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// account is the SIP address of ext's mailbox.
func (s *Service) account(ext string) string {
	u := sip.Uri{Scheme: "sip", User: ext, Host: s.cfg.Host}
	return u.String()
}

// contact is the switch's Contact for transport.
func (s *Service) contact(transport string) *sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: "switchboard", Host: s.cfg.Host, Port: s.cfg.Port}
	if transport != "" && transport != "UDP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", lower(transport))
	}
	return &sip.ContactHeader{Address: u}
}

func (s *Service) client(transport string) *sipgo.Client {
	if transport == "" || transport == "UDP" {
		return s.deps.UDP
	}
	return s.deps.Stream
}

// summary reads ext's mailbox state.
func (s *Service) summary(ext string) (Summary, error) {
	unread, read, err := s.deps.Mailboxes.MessageCounts(ext)
	return Summary{Account: s.account(ext), New: unread, Old: read}, err
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
