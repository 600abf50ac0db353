package webauth

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
)

// CSRFHeader carries the session's CSRF token on API writes; forms send it
// in the CSRFField.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf"
)

var (
	// ErrCrossOrigin refuses a write that another site's page made.
	ErrCrossOrigin = errors.New("this request came from another site")
	// ErrCSRF refuses a write without this session's token (a stale page, or a forgery).
	ErrCSRF = errors.New("the form has expired: reload the page and try again")
)

var crossOrigin = http.NewCrossOriginProtection()

// SameOrigin refuses a state-changing request made by another site: the
// browser's Sec-Fetch-Site, else its Origin header, must say same origin
// (Go's CrossOriginProtection); a request with neither is checked by its
// Referer when it has one. A client that sends none of them (curl, a
// script) is not a browser, and the CSRF token still protects it.
func SameOrigin(r *http.Request) error {
	if err := crossOrigin.Check(r); err != nil {
		return ErrCrossOrigin
	}
	if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" {
		if ref := r.Header.Get("Referer"); ref != "" {
			u, err := url.Parse(ref)
			if err != nil || u.Host != r.Host {
				return ErrCrossOrigin
			}
		}
	}
	return nil
}

// CheckWrite is the check every POST, PUT, PATCH and DELETE of a logged-in
// user passes: same origin, and the session's CSRF token in the
// X-CSRF-Token header or the csrf form field.
func CheckWrite(r *http.Request, l *Login) error {
	if err := SameOrigin(r); err != nil {
		return err
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	if got == "" || l.Session.CSRF == "" || subtle.ConstantTimeCompare([]byte(got), []byte(l.Session.CSRF)) != 1 {
		return ErrCSRF
	}
	return nil
}

// Safe reports whether a method only reads (needs no CSRF check).
func Safe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}
