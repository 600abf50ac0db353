package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"

	"switchboard/admin/webauth"
	"switchboard/switch/siptext"
)

// The webphone: a page with a SIP-over-WebSocket phone (SIP.js, vendored
// in static/vendor/sipjs) that registers as the user's webphone device,
// and the attendant console, the same phone beside every extension's live
// status. Its media goes through the switch's WebRTC gateway.

// webphoneConfig is what the page's script needs to register.
type webphoneConfig struct {
	Server      string `json:"server"` // wss://host/ws
	AOR         string `json:"aor"`    // sip:200w@host
	Device      string `json:"device"`
	Realm       string `json:"realm"`
	HA1         string `json:"ha1"`          // the device's digest secret, for this session only
	DisplayName string `json:"display_name"` // as it goes between the From header's quotes (SIP.js writes it as it is)
	Ext         string `json:"ext"`
}

func (a *App) webphoneRoutes(m *http.ServeMux) {
	// The same pages in both views, so an office manager keeps their menu.
	for _, v := range []struct {
		prefix, section string
		who             audience
	}{{"/me", "me", anyone}, {"/admin", "org", admins}} {
		m.HandleFunc("GET "+v.prefix+"/phone", a.page(v.who, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
			a.render(w, r, http.StatusOK, "phone", &view{Title: "Webphone", Login: l, Section: v.section, Nav: "phone"})
			return nil
		}))
		m.HandleFunc("GET "+v.prefix+"/console", a.page(v.who, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
			a.render(w, r, http.StatusOK, "console", &view{Title: "Attendant Console", Login: l, Section: v.section, Nav: "console"})
			return nil
		}))
	}
	m.HandleFunc("GET /api/me/webphone", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		wp, err := a.cfg.Ops.Webphone(r.Context(), l.User.Ext)
		if err != nil {
			return nil, err
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		return webphoneConfig{Server: "wss://" + r.Host + "/ws", AOR: "sip:" + wp.Device + "@" + host, Device: wp.Device,
			Realm: wp.Realm, HA1: wp.HA1, DisplayName: siptext.DisplayQuoted(l.User.Name()), Ext: l.User.Ext}, nil
	}))
}

// WebphoneSession returns the request's web session for the webphone's
// WebSocket: an id for the login (not its cookie) and a check of whether
// it is still live, which the switch calls while the socket is open; nil
// without a session. A check slides the session's idle expiry like a
// request: a tab with a webphone is in use. A failing store does not count
// as a logout.
func (a *App) WebphoneSession(r *http.Request) (id string, live func() bool) {
	l := a.loginOf(r)
	if l == nil {
		return "", nil
	}
	sum := sha256.Sum256([]byte(l.Token))
	return hex.EncodeToString(sum[:8]), func() bool {
		_, err := a.cfg.Auth.Lookup(l.Token)
		return !errors.Is(err, webauth.ErrNoLogin)
	}
}
