package webui

import (
	"errors"
	"fmt"
	"net/http"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
)

// Error is a failure as a person (or an API client) sees it: a status and a
// sentence, and for a form the message of each field that was wrong.
type Error struct {
	Status int
	Msg    string
	Fields map[string]string // field name → what is wrong with it
}

func (e *Error) Error() string { return e.Msg }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

var (
	errNotFound  = errorf(http.StatusNotFound, "There is nothing at this address.")
	errForbidden = errorf(http.StatusForbidden, "This is for office managers only.")
)

// invalid is a validation failure of one or more fields.
func invalid(fields map[string]string) *Error {
	return &Error{Status: http.StatusBadRequest, Msg: "Some fields need attention.", Fields: fields}
}

// userError maps any error onto what may be shown. Errors the code did not
// expect are logged and shown as a plain sentence, never their text.
func (a *App) userError(r *http.Request, err error) *Error {
	var e *Error
	var ce *control.Error
	var te *webauth.ThrottledError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &ce):
		return &Error{Status: ce.Status, Msg: sentence(ce.Message)}
	case errors.As(err, &te):
		return &Error{Status: http.StatusTooManyRequests, Msg: sentence(te.Error())}
	case errors.Is(err, webauth.ErrCSRF), errors.Is(err, webauth.ErrCrossOrigin):
		return &Error{Status: http.StatusForbidden, Msg: sentence(err.Error())}
	case errors.Is(err, webauth.ErrBadLogin), errors.Is(err, webauth.ErrDisabled), errors.Is(err, webauth.ErrBadPassword):
		return &Error{Status: http.StatusUnauthorized, Msg: sentence(err.Error())}
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	}
	a.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return errorf(http.StatusInternalServerError, "Something went wrong on the server. The details are in its log; please try again.")
}

// sentence capitalises a message and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; c >= 'a' && c <= 'z' {
		s = string(c-'a'+'A') + s[1:]
	}
	if last := s[len(s)-1]; last != '.' && last != '!' && last != '?' {
		s += "."
	}
	return s
}
