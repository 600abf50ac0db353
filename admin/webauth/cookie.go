package webauth

import (
	"crypto/subtle"
	"net/http"

	"switchboard/store"
)

// Cookie names: the session, and the token that guards the login form
// itself (before there is a session).
const (
	SessionCookie = "switchboard_session"
	loginCookie   = "switchboard_login"
)

// SetSession gives the browser the session cookie: HttpOnly, SameSite=Lax,
// Secure on HTTPS, and no expiry of its own (the store's idle expiry rules).
func SetSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// ClearSession removes the session cookie.
func ClearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// SessionToken is the request's session cookie value ("" if none).
func SessionToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// LoginFormToken returns the token the login form must echo, setting its
// cookie when the browser has none yet (double submit: another site can
// make a browser post the form, but cannot read the cookie to fill it in).
func LoginFormToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	tok := store.RandomToken(16)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}

// CheckLoginForm checks a login form post: same origin, and the token of
// its cookie in the csrf field.
func CheckLoginForm(r *http.Request) error {
	if err := SameOrigin(r); err != nil {
		return err
	}
	c, err := r.Cookie(loginCookie)
	got := r.PostFormValue(CSRFField)
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
		return ErrCSRF
	}
	return nil
}
