// Package webauth is who is logged in to the web UI and API: logins by
// extension or email and web password, sessions in the store (only a hash
// of their token is kept), throttling of guessing, CSRF and same-origin
// checks, and re-authentication before sensitive settings. It knows no
// pages: admin/webui decides what a failure looks like.
package webauth

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/store"
)

// Config tunes logins; zero values take the defaults.
type Config struct {
	Idle    time.Duration // a session unused this long ends (default 12 h)
	MaxAge  time.Duration // a session ends this long after login whatever happens (default 7 days)
	Reauth  time.Duration // how long a re-entered password opens sensitive settings (default 5 min)
	Account Policy        // failed logins per account (default: slow after 5, locked 15 min after 10)
	Address Policy        // failed logins per client address (default: slow after 10, locked after 30)
	Now     func() time.Time
}

// Auth checks logins and sessions.
type Auth struct {
	st        *store.Store
	cfg       Config
	accounts  *Limiter
	addresses *Limiter
	dummy     []byte // compared against when there is no such account, so it takes as long
}

// Login is the logged-in user of a request.
type Login struct {
	Token   string // the session cookie's value; never logged
	Session store.Session
	User    store.User
}

// Admin reports whether the user manages the organization.
func (l *Login) Admin() bool { return l.User.Role == store.RoleAdmin }

// CSRF is the token every write of this session must carry.
func (l *Login) CSRF() string { return l.Session.CSRF }

var (
	// ErrBadLogin is the one answer to a wrong password and to an account
	// that does not exist, so the login page cannot be used to find accounts.
	ErrBadLogin = errors.New("the extension or email and password do not match an account")
	// ErrDisabled means the password was right but the account is disabled.
	ErrDisabled = errors.New("this account is disabled: ask your office manager")
	// ErrNoLogin means the request has no live session.
	ErrNoLogin = errors.New("not logged in")
	// ErrBadPassword is a wrong current password (change password, re-authentication).
	ErrBadPassword = errors.New("that is not your current password")
)

// ThrottledError refuses an attempt made too soon after failed ones.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	if e.Wait < time.Minute {
		return fmt.Sprintf("too many failed attempts: wait %d seconds, then try again", int(math.Ceil(e.Wait.Seconds())))
	}
	return fmt.Sprintf("too many failed attempts: try again in %d minutes", int(math.Ceil(e.Wait.Minutes())))
}

// New returns an Auth on st.
func New(st *store.Store, cfg Config) *Auth {
	if cfg.Idle == 0 {
		cfg.Idle = 12 * time.Hour
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 7 * 24 * time.Hour
	}
	if cfg.Reauth == 0 {
		cfg.Reauth = 5 * time.Minute
	}
	if cfg.Account == (Policy{}) {
		cfg.Account = Policy{Free: 5, Lockout: 10, LockFor: 15 * time.Minute, MaxLock: 2 * time.Hour, Forget: time.Hour}
	}
	if cfg.Address == (Policy{}) {
		cfg.Address = Policy{Free: 10, Lockout: 30, LockFor: 15 * time.Minute, MaxLock: 2 * time.Hour, Forget: time.Hour}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(store.RandomToken(8)), bcrypt.DefaultCost)
	if err != nil {
		panic(err) // only for a bad cost
	}
	return &Auth{st: st, cfg: cfg, dummy: dummy,
		accounts: NewLimiter(cfg.Account, cfg.Now), addresses: NewLimiter(cfg.Address, cfg.Now)}
}

// Now is the clock logins use.
func (a *Auth) Now() time.Time { return a.cfg.Now() }

// LogIn checks an extension or email and a web password from address ip,
// and opens a session. Wrong password and unknown account give the same
// error after the same work (a bcrypt comparison); both count against the
// account and the address.
func (a *Auth) LogIn(login, password, ip, userAgent string) (*Login, error) {
	login = strings.TrimSpace(login)
	if wait := a.addresses.Wait(ip); wait > 0 {
		return nil, &ThrottledError{Wait: wait}
	}
	u, found := a.findUser(login)
	key := "login:" + strings.ToLower(login)
	if found {
		key = "ext:" + u.Ext // every name of an account counts together
	}
	if wait := a.accounts.Wait(key); wait > 0 {
		return nil, &ThrottledError{Wait: wait}
	}
	if !found || u.PasswordHash == "" || len(password) > 72 {
		bcrypt.CompareHashAndPassword(a.dummy, []byte(password))
		a.accounts.Fail(key)
		a.addresses.Fail(ip)
		return nil, ErrBadLogin
	}
	if !u.CheckPassword(password) {
		a.accounts.Fail(key)
		a.addresses.Fail(ip)
		return nil, ErrBadLogin
	}
	if u.Disabled {
		return nil, ErrDisabled
	}
	a.accounts.Succeed(key) // not the address: one good account must not reset its guessing elsewhere
	now := a.cfg.Now()
	sess := store.Session{Ext: u.Ext, CSRF: store.RandomToken(16), Created: now, LastSeen: now,
		Expires: now.Add(a.cfg.Idle), UserAgent: truncate(userAgent, 200), IP: ip}
	token, err := a.st.CreateSession(sess)
	if err != nil {
		return nil, err
	}
	return &Login{Token: token, Session: sess, User: u}, nil
}

// findUser finds an account by extension, or by email (which must be unique).
func (a *Auth) findUser(login string) (store.User, bool) {
	if login == "" || len(login) > 254 {
		return store.User{}, false
	}
	if !strings.Contains(login, "@") {
		u, err := a.st.User(login)
		return u, err == nil && !u.System
	}
	users, err := a.st.Users()
	if err != nil {
		return store.User{}, false
	}
	var match []store.User
	for _, u := range users {
		for _, e := range u.Emails {
			if strings.EqualFold(e, login) && !u.System {
				match = append(match, u)
				break
			}
		}
	}
	if len(match) != 1 {
		return store.User{}, false
	}
	return match[0], true
}

// Lookup returns the live session of token with its user. It slides the
// idle expiry forward, writing to the store at most once a minute.
func (a *Auth) Lookup(token string) (*Login, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrNoLogin
	}
	now := a.cfg.Now()
	sess, err := a.st.Session(token, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoLogin
	}
	if err != nil {
		return nil, err
	}
	u, err := a.st.User(sess.Ext)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		a.st.DeleteSession(token)
		return nil, ErrNoLogin
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeen) >= time.Minute {
		expires := now.Add(a.cfg.Idle)
		if hard := sess.Created.Add(a.cfg.MaxAge); expires.After(hard) {
			expires = hard
		}
		err := a.st.UpdateSession(token, func(s *store.Session) { s.LastSeen, s.Expires = now, expires })
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNoLogin
		}
		if err != nil {
			return nil, err
		}
		sess.LastSeen, sess.Expires = now, expires
	}
	return &Login{Token: token, Session: sess, User: u}, nil
}

// LogOut ends a session.
func (a *Auth) LogOut(l *Login) error { return a.st.DeleteSession(l.Token) }

// CheckPassword checks the logged-in user's current password (before a
// password change or a re-authentication), throttled like a login.
func (a *Auth) CheckPassword(l *Login, password, ip string) error {
	key := "ext:" + l.User.Ext
	if wait := a.accounts.Wait(key); wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	if wait := a.addresses.Wait(ip); wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	u, err := a.st.User(l.User.Ext)
	if err != nil {
		return err
	}
	if len(password) > 72 || !u.CheckPassword(password) {
		a.accounts.Fail(key)
		a.addresses.Fail(ip)
		return ErrBadPassword
	}
	a.accounts.Succeed(key)
	return nil
}

// Reauth checks the password again and opens sensitive settings to this
// session for a few minutes.
func (a *Auth) Reauth(l *Login, password, ip string) error {
	if err := a.CheckPassword(l, password, ip); err != nil {
		return err
	}
	until := a.cfg.Now().Add(a.cfg.Reauth)
	if err := a.st.UpdateSession(l.Token, func(s *store.Session) { s.ReauthUntil = until }); err != nil {
		return err
	}
	l.Session.ReauthUntil = until
	return nil
}

// Reauthed reports whether the session re-entered its password recently.
func (a *Auth) Reauthed(l *Login) bool { return a.cfg.Now().Before(l.Session.ReauthUntil) }

// EndOtherSessions logs ext out everywhere except the session keep (after a
// password change); keep may be "" to end them all.
func (a *Auth) EndOtherSessions(ext, keep string) error {
	_, err := a.st.DeleteSessions(ext, keep, a.cfg.Now())
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
