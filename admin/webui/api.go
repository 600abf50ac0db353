package webui

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"switchboard/admin/webauth"
)

// apiFunc is an API handler: it returns the value to send as JSON, or nil
// when it wrote the answer itself (CSV, event streams).
type apiFunc func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error)

// created marks a value answered with 201 Created.
type created struct{ v any }

// apiError is the JSON body of every failed API request.
type apiError struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields,omitempty"`
}

// api wraps an API handler like page wraps a page: 401 without a session,
// 403 for a user on an office-manager endpoint, and the same-origin and
// CSRF (X-CSRF-Token) checks on every write.
func (a *App) api(who audience, fn apiFunc) http.HandlerFunc {
	return a.apiBody(who, maxFormBody, fn)
}

// apiBody is api for an endpoint whose body may be up to maxBody bytes (an
// uploaded file).
func (a *App) apiBody(who audience, maxBody int64, fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		l := a.loginOf(r)
		if l == nil {
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "Log in first."})
			return
		}
		if who == admins && !l.Admin() {
			writeJSON(w, http.StatusForbidden, apiError{Error: errForbidden.Msg})
			return
		}
		if !webauth.Safe(r.Method) {
			limitBody(w, r, maxBody)
			if err := webauth.CheckWrite(r, l); err != nil {
				a.apiFail(w, r, err)
				return
			}
		}
		v, err := fn(w, r, l)
		switch {
		case err != nil:
			a.apiFail(w, r, err)
		case v == nil:
		default:
			if c, ok := v.(created); ok {
				writeJSON(w, http.StatusCreated, c.v)
			} else {
				writeJSON(w, http.StatusOK, v)
			}
		}
	}
}

func (a *App) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	e := a.userError(r, err)
	writeJSON(w, e.Status, apiError{Error: e.Msg, Fields: e.Fields})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// readJSON decodes a JSON request body into v: one object with known
// fields only, sent as application/json (which another site's form cannot
// send without the browser asking first).
func readJSON(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "Send the request body as JSON (Content-Type: application/json).")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "The request body is too large.")
		}
		return errorf(http.StatusBadRequest, "The request body is not the JSON expected: %v.", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "The request body has data after its JSON value.")
	}
	return nil
}

// meJSON is the logged-in user.
type meJSON struct {
	Ext   string `json:"ext"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Role  string `json:"role"`
	CSRF  string `json:"csrf"` // send it back in X-CSRF-Token on every write
}

func me(l *webauth.Login) meJSON {
	m := meJSON{Ext: l.User.Ext, Name: l.User.Name(), Role: string(l.User.Role), CSRF: l.CSRF()}
	if len(l.User.Emails) > 0 {
		m.Email = l.User.Emails[0]
	}
	return m
}

func (a *App) apiRoutes() {
	m := a.mux
	m.HandleFunc("POST /api/login", a.apiLogin)
	m.HandleFunc("POST /api/logout", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if err := a.cfg.Auth.LogOut(l); err != nil {
			return nil, err
		}
		webauth.ClearSession(w, r)
		return struct{}{}, nil
	}))
	m.HandleFunc("GET /api/me", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return me(l), nil
	}))
	m.HandleFunc("POST /api/me/password", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			Current string `json:"current"`
			New     string `json:"new"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		if err := a.changePassword(r, l, req.Current, req.New, req.New); err != nil {
			return nil, err
		}
		return map[string]string{"status": "changed"}, nil
	}))
	a.apiUsersRoutes()
	a.apiCallsRoutes()
	a.apiDashboardRoutes()
	a.apiPrefsRoutes()
	a.apiRulesRoutes()
	a.apiMessagesRoutes()
	a.apiContactsRoutes()
	a.apiFramesRoutes()
	a.apiMusicRoutes()
	a.apiSMTPRoutes()
	a.apiEmergencyRoutes()
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		if allow := a.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, apiError{Error: r.Method + " is not one of the methods of this endpoint: " + strings.Join(allow, ", ") + "."})
			return
		}
		writeJSON(w, http.StatusNotFound, apiError{Error: "There is no such API endpoint (see docs/API.md)."})
	})
}

// apiLogin logs in with {"login": "200" or an email, "password": "…"} and
// answers the user with the CSRF token later writes must send.
func (a *App) apiLogin(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	limitBody(w, r, 64<<10)
	if err := webauth.SameOrigin(r); err != nil {
		a.apiFail(w, r, err)
		return
	}
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := readJSON(r, &req); err != nil {
		a.apiFail(w, r, err)
		return
	}
	l, err := a.cfg.Auth.LogIn(req.Login, req.Password, clientIP(r), r.UserAgent())
	if err != nil {
		a.apiFail(w, r, err)
		return
	}
	a.log.Info("web login", "ext", l.User.Ext, "ip", clientIP(r), "api", true)
	webauth.SetSession(w, r, l.Token)
	writeJSON(w, http.StatusOK, me(l))
}
