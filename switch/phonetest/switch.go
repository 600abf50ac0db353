package phonetest

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/webrtc"
	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/call"
	"switchboard/switch/event"
	"switchboard/switch/registrar"
	"switchboard/switch/server"
)

// Switch is a real switch running in the test process on loopback, with its
// data in a temporary directory.
type Switch struct {
	Dir    string
	Store  *store.Store
	Server *server.Server
	Bus    *event.Bus
	Media  *media.Engine
	WebRTC *webrtc.Gateway // the browsers' media gateway, with SwitchOptions.WebRTC
	cfg    server.Config
	log    *slog.Logger
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// SwitchOptions tune StartSwitch; the zero value is a sensible test switch.
type SwitchOptions struct {
	Dir        string // reuse a data directory (restart tests); default a new temp dir
	Addr       string // default 127.0.0.1:0
	Registrar  registrar.Config
	AuthLimits auth.Limits
	Digest     []string
	KeepAlive  time.Duration
	Calls      call.Config
	Voicemail  call.Voicemail // replaces the switch's voicemail applications
	// BuiltinVoicemail lets calls reach the switch's real voicemail (by
	// default a test switch has none unless Voicemail is set).
	BuiltinVoicemail bool
	NoMedia          bool         // registrar only: no call handling
	WebRTC           bool         // a WebRTC gateway on 127.0.0.1 (browsers' media); default none
	RTPPorts         [2]int       // RTP port range, low and high, as serve --rtp-ports; default OS-chosen ports
	Log              *slog.Logger // default: warnings and errors to stderr ($SWITCHBOARD_TEST_LOG sets the level)
}

// StartSwitch starts a switch and stops it at test cleanup.
func StartSwitch(t testing.TB, o SwitchOptions) *Switch {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Registrar.FlushEvery == 0 {
		o.Registrar.FlushEvery = 100 * time.Millisecond
	}
	st, err := store.Open(o.Dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: testLogLevel()}))
	}
	s := &Switch{Dir: o.Dir, Store: st, Bus: event.New(), log: o.Log,
		cfg: server.Config{Addr: o.Addr, Registrar: o.Registrar, AuthLimits: o.AuthLimits, Digest: o.Digest,
			KeepAlive: o.KeepAlive, Calls: o.Calls, Voicemail: o.Voicemail, BuiltinVoicemail: o.BuiltinVoicemail,
			AdvertiseIP: "127.0.0.1"}}
	if !o.NoMedia {
		// Ports chosen by the OS unless asked: parallel test processes never collide.
		eng, err := media.NewEngine(media.Config{BindIP: net.IPv4(127, 0, 0, 1), AdvertiseIP: net.IPv4(127, 0, 0, 1),
			PortLow: o.RTPPorts[0], PortHigh: o.RTPPorts[1], Logger: o.Log})
		if err != nil {
			st.Close()
			t.Fatalf("media engine: %v", err)
		}
		s.Media = eng
		s.cfg.Media = eng
	}
	if o.WebRTC {
		gw, err := webrtc.New(webrtc.Config{Addr: "127.0.0.1:0", Log: o.Log})
		if err != nil {
			st.Close()
			t.Fatalf("webrtc gateway: %v", err)
		}
		s.WebRTC = gw
		s.cfg.WebRTC = gw
		t.Cleanup(func() { gw.Close() }) // after Stop (cleanups run last first): the calls end first
	}
	if err := s.start(); err != nil {
		st.Close()
		t.Fatalf("start switch: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Switch) start() error {
	sw, err := server.New(s.cfg, s.Store, s.Bus, s.log)
	if err != nil {
		return err
	}
	if err := sw.Listen(); err != nil {
		return err
	}
	s.Server = sw
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done.Go(func() { sw.Serve(ctx) })
	return nil
}

// Addr is the switch's SIP address (UDP and TCP).
func (s *Switch) Addr() string { return s.Server.Addr() }

// Registrar is the switch's registrar.
func (s *Switch) Registrar() *registrar.Registrar { return s.Server.Registrar() }

// Restart stops the switch (registrations are flushed) and starts it again
// on the same data directory and address, as a restart of the process would.
func (s *Switch) Restart(t testing.TB) {
	t.Helper()
	addr := s.Server.Addr()
	s.Stop()
	st, err := store.Open(s.Dir)
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	s.Store = st
	s.cfg.Addr = addr
	if err := s.start(); err != nil {
		t.Fatalf("restart switch: %v", err)
	}
}

// Stop stops the switch and closes its store. Safe to call twice.
func (s *Switch) Stop() {
	if s.cancel != nil {
		s.cancel()
		s.done.Wait()
		s.cancel = nil
	}
	if s.Media != nil {
		s.Media.Close() // pooled ports (with RTPPorts); a restart binds anew
	}
	if s.Store != nil {
		s.Store.Close()
	}
}

// AddUser creates a user with extension ext and a primary device whose SIP
// password is sipPassword.
func (s *Switch) AddUser(t testing.TB, ext, sipPassword string) {
	t.Helper()
	realm, err := s.Store.SIPRealm()
	if err != nil {
		t.Fatal(err)
	}
	d := store.Device{ID: ext, Ext: ext, Created: time.Now()}
	d.SetSIPPassword(realm, sipPassword)
	u := store.User{Ext: ext, FirstName: "User", LastName: ext, Role: store.RoleUser, Created: time.Now()}
	if err := s.Store.CreateUser(u, d); err != nil {
		t.Fatalf("add user %s: %v", ext, err)
	}
}

// Phone starts a phone for device id with password on this switch.
func (s *Switch) Phone(t testing.TB, id, password string, o Options) *Phone {
	t.Helper()
	o.User, o.Password, o.Server = id, password, s.Addr()
	return New(t, o)
}

// AddDevice adds device id (e.g. "201b") to an existing extension.
func (s *Switch) AddDevice(t testing.TB, ext, id, sipPassword string) {
	t.Helper()
	realm, err := s.Store.SIPRealm()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Store.AddDevice(ext, func([]string) (store.Device, error) {
		d := store.Device{ID: id, Ext: ext, Created: time.Now()}
		d.SetSIPPassword(realm, sipPassword)
		return d, nil
	})
	if err != nil {
		t.Fatalf("add device %s: %v", id, err)
	}
}

// testLogLevel is Warn, or what SWITCHBOARD_TEST_LOG says (debug, info).
func testLogLevel() slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(os.Getenv("SWITCHBOARD_TEST_LOG"))) != nil {
		return slog.LevelWarn
	}
	return l
}
