// Package voicemail is the voicemail system as IVR applications on a call
// the switch answered (an ivr.Session): Deposit takes a message for a box,
// Access is the caller's own menu (*97 from their phone, *98 from any phone
// with the box number and PIN), RecordGreeting records a box's greeting
// (*11). New messages light the phones' lamps (a Notifier, the presence
// service) and can be emailed with the recording attached (a Mailer, SMTP).
//
// # Menus
//
// Main menu: 1 listen (new messages first, then saved ones, each group
// oldest first), 0 mailbox options, # (or *) leave. While a message plays
// and after it: 1 replay, 2 save (keep as read), 3 delete, 4 previous,
// 6 next, * back to the main menu, # leave. A message played (or
// skipped with a key) is marked read; hanging up during it leaves it new.
// Mailbox options: 1 record the greeting, 2 go back to the default
// greeting, * back, # leave. Recording a greeting: speak after the tone,
// # to stop; then 1 keep, 2 record again, 3 cancel. Every menu repeats
// after DigitTimeout and gives up (goodbye) after three silences; a key it
// does not know gets "that is not a valid option".
//
// # PINs
//
// *98 asks for the box, then the PIN; three wrong tries in one call end
// the call, and MaxFailedPINs wrong PINs in a row (over any number of
// calls) lock the box for store.PINLockout, persisted. A box that does not
// exist and a box with no PIN sound exactly like a wrong PIN — also the
// lockout, which for boxes that do not exist is kept in memory — so the
// menu gives away nothing about which extensions exist.
package voicemail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"switchboard/media/prompts"
	"switchboard/store"
)

// Store is the voicemail data (*store.Store).
type Store interface {
	Mailbox(ext string) (store.Mailbox, error)
	CheckMailboxPIN(ext, pin string, now time.Time) (ok bool, lockedUntil time.Time, err error)
	SaveMessage(msg store.VoiceMessage, audio []byte) (store.VoiceMessage, error)
	Messages(ext string) ([]store.VoiceMessage, error)
	MessageAudio(ext, id string) ([]byte, error)
	SetMessageRead(ext, id string, read bool) error
	DeleteMessage(ext, id string) error
	Greeting(ext string) ([]byte, error)
	PutGreeting(ext string, ulaw []byte) error
	DeleteGreeting(ext string) error
}

var _ Store = (*store.Store)(nil)

// Notifier is told whenever a box's messages change (the presence service,
// which sends message-waiting NOTIFYs).
type Notifier interface {
	Changed(ext string)
}

// Mailer delivers a new message by email; audio is nil when the box does
// not want the recording attached.
type Mailer interface {
	Deliver(ctx context.Context, to string, msg store.VoiceMessage, audio []byte) error
}

// Deps are what voicemail works with. MWI and Mail may be nil.
type Deps struct {
	Store Store
	MWI   Notifier
	Mail  Mailer
	Log   *slog.Logger
}

// Config tunes voicemail. Zero values take defaults.
type Config struct {
	MaxMessage   time.Duration // longest message (default 3 min)
	MinMessage   time.Duration // shorter voiced audio is dropped as empty (default 1 s)
	MaxGreeting  time.Duration // longest greeting (default 2 min)
	MaxMessages  int           // a box holding this many takes no more (default 100)
	DigitTimeout time.Duration // wait for a key after a menu (default 5 s)
	PINTries     int           // wrong PINs in one call before goodbye (default 3)
	MailTimeout  time.Duration // one email's delivery (default 2 min)
	Now          func() time.Time
}

// Voicemail runs the voicemail applications. Safe for concurrent use by
// any number of calls; Close at shutdown.
type Voicemail struct {
	Deps
	cfg  Config
	ctx  context.Context // ends at Close: emails in flight give up (their messages stay)
	stop context.CancelFunc
	wg   sync.WaitGroup // email deliveries

	mu       sync.Mutex
	phantoms map[string]*phantomLock // PIN failures on boxes that do not exist
}

// New returns a Voicemail.
func New(deps Deps, cfg Config) *Voicemail {
	if cfg.MaxMessage == 0 {
		cfg.MaxMessage = 3 * time.Minute
	}
	if cfg.MinMessage == 0 {
		cfg.MinMessage = time.Second
	}
	if cfg.MaxGreeting == 0 {
		cfg.MaxGreeting = 2 * time.Minute
	}
	if cfg.MaxMessages == 0 {
		cfg.MaxMessages = 100
	}
	if cfg.DigitTimeout == 0 {
		cfg.DigitTimeout = 5 * time.Second
	}
	if cfg.PINTries == 0 {
		cfg.PINTries = 3
	}
	if cfg.MailTimeout == 0 {
		cfg.MailTimeout = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Voicemail{Deps: deps, cfg: cfg, ctx: ctx, stop: stop, phantoms: map[string]*phantomLock{}}
}

// Close stops email deliveries in flight and waits for them.
func (v *Voicemail) Close() {
	v.mu.Lock()
	v.stop() // under mu: no delivery starts after this
	v.mu.Unlock()
	v.wg.Wait()
}

// Wait waits for the email deliveries under way (tests).
func (v *Voicemail) Wait() { v.wg.Wait() }

// changed tells the phones of ext.
func (v *Voicemail) changed(ext string) {
	if v.MWI != nil {
		v.MWI.Changed(ext)
	}
}

// goBackground runs fn as a delivery Close waits for; false after Close.
func (v *Voicemail) goBackground(fn func(ctx context.Context)) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ctx.Err() != nil {
		return false
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		fn(v.ctx)
	}()
	return true
}

// phantomLock counts wrong PINs typed for a box that does not exist, so
// that it locks like a real one.
type phantomLock struct {
	failed int
	until  time.Time
}

// maxPhantoms bounds the memory of phantom locks; beyond it the table starts over.
const maxPhantoms = 10000

// Login checks a PIN for ext's box. ok is false for a wrong PIN, a box
// without a PIN and a box that does not exist alike, and each of them
// locks after store.MaxFailedPINs tries; lockedUntil is set while locked.
// err is only a failure of the store.
func (v *Voicemail) Login(ext, pin string) (ok bool, lockedUntil time.Time, err error) {
	now := v.cfg.Now()
	ok, lockedUntil, err = v.Store.CheckMailboxPIN(ext, pin, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, v.phantomFail(ext, now), nil
	case errors.Is(err, store.ErrNoPIN):
		return false, lockedUntil, nil
	}
	return ok, lockedUntil, err
}

func (v *Voicemail) phantomFail(ext string, now time.Time) time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	p := v.phantoms[ext]
	if p == nil {
		if len(v.phantoms) >= maxPhantoms {
			clear(v.phantoms)
		}
		p = &phantomLock{}
		v.phantoms[ext] = p
	}
	if now.Before(p.until) {
		return p.until
	}
	if !p.until.IsZero() {
		p.failed, p.until = 0, time.Time{}
	}
	p.failed++
	if p.failed >= store.MaxFailedPINs {
		p.until = now.Add(store.PINLockout)
		return p.until
	}
	return time.Time{}
}

// clip returns an embedded prompt. The names used here are checked by a test.
func clip(name string) []byte {
	b, err := prompts.Get(name)
	if err != nil {
		panic(fmt.Sprintf("voicemail: %v", err)) // a prompt missing from the binary is a build error
	}
	return b
}

// clips returns several prompts.
func clips(names ...string) [][]byte {
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = clip(n)
	}
	return out
}

// digitClips says an extension digit by digit ("200" → two zero zero).
func digitClips(ext string) [][]byte {
	var out [][]byte
	for _, d := range ext {
		if d >= '0' && d <= '9' {
			out = append(out, clip("num_"+string(d)))
		}
	}
	return out
}

// numberClips says n (capped at 999).
func numberClips(n int) [][]byte {
	return clips(prompts.Number(min(max(n, 0), 999))...)
}

// validExt reports whether s looks like an extension (2–7 digits): what
// the caller typed is never used otherwise.
func validExt(s string) bool {
	return len(s) >= 2 && len(s) <= 7 && strings.Trim(s, "0123456789") == "" && s[0] != '0'
}
