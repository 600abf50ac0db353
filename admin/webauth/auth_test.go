package webauth

import (
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// setup makes a store with a few users. Their bcrypt hashes (and the dummy
// one) use bcrypt's lowest cost, so the many logins here run fast, unless
// realCost.
func setup(t *testing.T, realCost ...bool) (*Auth, *store.Store, *clock) {
	t.Helper()
	cost := bcrypt.MinCost
	if len(realCost) > 0 && realCost[0] {
		cost = bcrypt.DefaultCost
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, _ := bcrypt.GenerateFromPassword([]byte("right-password"), cost)
	hash := string(h)
	for _, u := range []store.User{
		{Ext: "200", FirstName: "Alice", Role: store.RoleUser, PasswordHash: hash, Emails: []string{"Alice@Example.com"}},
		{Ext: "201", FirstName: "Bob", Role: store.RoleAdmin, PasswordHash: hash, Disabled: true},
		{Ext: "800", FirstName: "Queue", Role: store.RoleUser, PasswordHash: hash, System: true},
		{Ext: "202", FirstName: "No web login", Role: store.RoleUser},
	} {
		if err := st.CreateUser(u, store.Device{ID: u.Ext, Ext: u.Ext}); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	a := New(st, Config{Now: c.Now})
	a.dummy, _ = bcrypt.GenerateFromPassword([]byte("dummy"), cost)
	return a, st, c
}

func TestLogInByExtensionOrEmail(t *testing.T) {
	a, st, _ := setup(t)
	for _, login := range []string{"200", " 200 ", "alice@example.com", "ALICE@example.COM"} {
		l, err := a.LogIn(login, "right-password", "10.0.0.1", "test")
		if err != nil || l.User.Ext != "200" || l.Token == "" || l.CSRF() == "" {
			t.Fatalf("LogIn(%q) = %+v, %v", login, l, err)
		}
		if _, err := st.Session(l.Token, a.Now()); err != nil {
			t.Fatalf("session not stored: %v", err)
		}
	}
	for _, c := range []struct{ login, pw string }{
		{"200", "wrong-password"}, {"299", "right-password"}, {"nobody@example.com", "right-password"},
		{"800", "right-password"}, // system users (queues) have no web login
		{"202", ""}, {"202", "right-password"}, {"", ""}, {"200", strings.Repeat("x", 100)},
	} {
		if _, err := a.LogIn(c.login, c.pw, "10.0.0.2", ""); !errors.Is(err, ErrBadLogin) {
			t.Errorf("LogIn(%q, %q): %v, want ErrBadLogin", c.login, c.pw, err)
		}
	}
	if _, err := a.LogIn("201", "wrong", "10.0.0.3", ""); !errors.Is(err, ErrBadLogin) {
		t.Errorf("disabled account, wrong password: %v", err)
	}
	if _, err := a.LogIn("201", "right-password", "10.0.0.3", ""); !errors.Is(err, ErrDisabled) {
		t.Errorf("disabled account, right password: %v", err)
	}
}

// An unknown account costs a bcrypt comparison too, so timing does not tell
// which accounts exist.
func TestUnknownAccountTakesAsLong(t *testing.T) {
	a, _, _ := setup(t, true)
	measure := func(login string) time.Duration {
		best := time.Hour
		for i := range 3 {
			start := time.Now()
			a.LogIn(login, "wrong-password", "10.0.1."+string(rune('1'+i)), "")
			best = min(best, time.Since(start))
		}
		return best
	}
	known, unknown := measure("200"), measure("299")
	if unknown < known/3 {
		t.Errorf("unknown account answered in %v, a known one in %v", unknown, known)
	}
}

func TestThrottleSlowsThenLocksAlike(t *testing.T) {
	a, _, c := setup(t)
	for _, login := range []string{"200", "299"} { // existing and not: the same behaviour
		ip := "10.1.0." + login
		for i := range 5 {
			if _, err := a.LogIn(login, "wrong", ip, ""); !errors.Is(err, ErrBadLogin) {
				t.Fatalf("%s attempt %d: %v", login, i+1, err)
			}
		}
		// The 6th failure makes the next attempt wait a second.
		a.LogIn(login, "wrong", ip, "")
		var te *ThrottledError
		if _, err := a.LogIn(login, "right-password", ip, ""); !errors.As(err, &te) || te.Wait != time.Second {
			t.Fatalf("%s right after the 6th failure: %v, want a 1 s wait", login, err)
		}
		if !strings.Contains(te.Error(), "wait 1 seconds") {
			t.Errorf("message %q", te.Error())
		}
		for range 4 { // failures 7..10, each after its wait
			c.Add(time.Minute)
			a.LogIn(login, "wrong", ip, "")
		}
		c.Add(time.Minute)
		if _, err := a.LogIn(login, "right-password", "10.9.9.9", ""); !errors.As(err, &te) || te.Wait < 14*time.Minute {
			t.Fatalf("%s after 10 failures, from another address: %v, want locked ~15 min", login, err)
		}
		if !strings.Contains(te.Error(), "try again in 14 minutes") {
			t.Errorf("message %q", te.Error())
		}
		c.Add(15 * time.Minute)
	}
	if l, err := a.LogIn("200", "right-password", "10.9.9.9", ""); err != nil || l.User.Ext != "200" {
		t.Fatalf("after the lockout: %v", err)
	}
	// Other names of the same account count together: email then extension.
	for range 10 {
		c.Add(time.Minute)
		a.LogIn("alice@example.com", "wrong", "10.2.0.1", "")
	}
	if _, err := a.LogIn("200", "right-password", "10.2.0.2", ""); !errors.As(err, new(*ThrottledError)) {
		t.Fatalf("the extension after 10 failures by email: %v", err)
	}
}

func TestThrottlePerAddress(t *testing.T) {
	a, _, c := setup(t)
	for i := range 30 { // 30 different accounts from one address
		c.Add(2 * time.Minute)
		a.LogIn("3"+string(rune('0'+i/10))+string(rune('0'+i%10)), "guess", "10.3.0.1", "")
	}
	if _, err := a.LogIn("200", "right-password", "10.3.0.1", ""); !errors.As(err, new(*ThrottledError)) {
		t.Fatalf("address after 30 failures: %v", err)
	}
	if _, err := a.LogIn("200", "right-password", "10.3.0.2", ""); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

func TestLimiterForgetsAndDoubles(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := NewLimiter(Policy{Free: 1, Lockout: 3, LockFor: time.Minute, MaxLock: 3 * time.Minute, Forget: time.Hour}, c.Now)
	l.Fail("k")
	if w := l.Wait("k"); w != 0 {
		t.Fatalf("after a free failure: %v", w)
	}
	l.Fail("k")
	l.Fail("k")
	if w := l.Wait("k"); w != time.Minute {
		t.Fatalf("first lockout %v", w)
	}
	c.Add(time.Minute)
	l.Fail("k")
	l.Fail("k")
	if w := l.Wait("k"); w != 2*time.Minute {
		t.Fatalf("second lockout %v, want doubled", w)
	}
	c.Add(2 * time.Minute)
	l.Fail("k")
	l.Fail("k")
	if w := l.Wait("k"); w != 3*time.Minute {
		t.Fatalf("third lockout %v, want capped at 3m", w)
	}
	c.Add(2 * time.Hour)
	if w := l.Wait("k"); w != 0 || len(l.entries) != 0 {
		t.Fatalf("after Forget: wait %v, %d entries", w, len(l.entries))
	}
}

func TestSessionSlidesAndEnds(t *testing.T) {
	a, st, c := setup(t)
	l, err := a.LogIn("200", "right-password", "10.0.0.1", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(30 * time.Second)
	got, err := a.Lookup(l.Token)
	if err != nil || !got.Session.LastSeen.Equal(l.Session.LastSeen) {
		t.Fatalf("within a minute LastSeen is not written: %+v %v", got, err)
	}
	c.Add(11 * time.Hour)
	if got, err = a.Lookup(l.Token); err != nil || !got.Session.Expires.Equal(c.Now().Add(12*time.Hour)) {
		t.Fatalf("slid: %+v %v", got, err)
	}
	c.Add(11 * time.Hour) // 22 h after login, 11 h idle
	if _, err = a.Lookup(l.Token); err != nil {
		t.Fatalf("still live: %v", err)
	}
	c.Add(12*time.Hour + time.Second) // idle too long
	if _, err = a.Lookup(l.Token); !errors.Is(err, ErrNoLogin) {
		t.Fatalf("idle session: %v", err)
	}
	// A session never outlives MaxAge, however busy.
	l, _ = a.LogIn("200", "right-password", "10.0.0.1", "")
	for range 7*24 - 1 {
		c.Add(time.Hour)
		if _, err := a.Lookup(l.Token); err != nil {
			t.Fatalf("busy session ended early at %v: %v", c.Now(), err)
		}
	}
	c.Add(time.Hour + time.Second)
	if _, err = a.Lookup(l.Token); !errors.Is(err, ErrNoLogin) {
		t.Fatalf("session past MaxAge: %v", err)
	}
	// Disabling the user ends their sessions.
	l, _ = a.LogIn("200", "right-password", "10.0.0.1", "")
	st.UpdateUser("200", func(u *store.User) error { u.Disabled = true; return nil })
	if _, err = a.Lookup(l.Token); !errors.Is(err, ErrNoLogin) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	for _, tok := range []string{"", "nope", strings.Repeat("a", 500)} {
		if _, err := a.Lookup(tok); !errors.Is(err, ErrNoLogin) {
			t.Errorf("Lookup(%.10q): %v", tok, err)
		}
	}
}

func TestReauthAndPasswordChecks(t *testing.T) {
	a, _, c := setup(t)
	l, _ := a.LogIn("200", "right-password", "10.0.0.1", "")
	other, _ := a.LogIn("200", "right-password", "10.0.0.2", "")
	if a.Reauthed(l) {
		t.Fatal("reauthed at login")
	}
	if err := a.Reauth(l, "wrong", "10.0.0.1"); !errors.Is(err, ErrBadPassword) || a.Reauthed(l) {
		t.Fatalf("reauth with a wrong password: %v", err)
	}
	if err := a.Reauth(l, "right-password", "10.0.0.1"); err != nil || !a.Reauthed(l) {
		t.Fatalf("reauth: %v", err)
	}
	if fresh, _ := a.Lookup(l.Token); !a.Reauthed(fresh) {
		t.Fatal("reauth not stored in the session")
	}
	c.Add(5*time.Minute + time.Second)
	if fresh, _ := a.Lookup(l.Token); a.Reauthed(fresh) {
		t.Fatal("reauth lasted longer than 5 minutes")
	}
	for range 10 {
		c.Add(time.Minute)
		a.CheckPassword(l, "wrong", "10.0.0.1")
	}
	if err := a.CheckPassword(l, "right-password", "10.0.0.1"); !errors.As(err, new(*ThrottledError)) {
		t.Fatalf("password checks are throttled too: %v", err)
	}
	if err := a.EndOtherSessions("200", l.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lookup(other.Token); !errors.Is(err, ErrNoLogin) {
		t.Fatal("other session survived")
	}
	if _, err := a.Lookup(l.Token); err != nil {
		t.Fatal("kept session ended")
	}
}

func TestCheckWrite(t *testing.T) {
	l := &Login{Session: store.Session{CSRF: "tok123"}}
	req := func(hdr map[string]string, body string) error {
		r := httptest.NewRequest("POST", "https://box.lan:8443/admin/users", strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return CheckWrite(r, l)
	}
	same := map[string]string{"Origin": "https://box.lan:8443", "Sec-Fetch-Site": "same-origin"}
	for name, c := range map[string]struct {
		hdr  map[string]string
		body string
		want error
	}{
		"form token":            {same, "csrf=tok123", nil},
		"header token":          {map[string]string{"Origin": "https://box.lan:8443", CSRFHeader: "tok123"}, "", nil},
		"no browser headers":    {map[string]string{CSRFHeader: "tok123"}, "", nil},
		"missing token":         {same, "name=x", ErrCSRF},
		"wrong token":           {same, "csrf=tok124", ErrCSRF},
		"other site's origin":   {map[string]string{"Origin": "https://evil.example", CSRFHeader: "tok123"}, "", ErrCrossOrigin},
		"cross-site fetch":      {map[string]string{"Sec-Fetch-Site": "cross-site"}, "csrf=tok123", ErrCrossOrigin},
		"other port is another": {map[string]string{"Origin": "https://box.lan:9999"}, "csrf=tok123", ErrCrossOrigin},
		"other site's referer":  {map[string]string{"Referer": "https://evil.example/x"}, "csrf=tok123", ErrCrossOrigin},
		"own referer":           {map[string]string{"Referer": "https://box.lan:8443/admin"}, "csrf=tok123", nil},
		"null origin":           {map[string]string{"Origin": "null"}, "csrf=tok123", ErrCrossOrigin},
	} {
		if err := req(c.hdr, c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
