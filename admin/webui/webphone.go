package webui

import (
	"net"
	"net/http"

	"switchboard/admin/webauth"
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
	HA1         string `json:"ha1"` // the device's digest secret, for this session only
	DisplayName string `json:"display_name"`
	Ext         string `json:"ext"`
}

func (a *App) webphoneRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /me/phone", a.page(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
		a.render(w, r, http.StatusOK, "phone", &view{Title: "Phone", Login: l, Section: "me", Nav: "phone"})
		return nil
	}))
	m.HandleFunc("GET /me/console", a.page(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
		a.render(w, r, http.StatusOK, "console", &view{Title: "Attendant Console", Login: l, Section: "me", Nav: "console"})
		return nil
	}))
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
			Realm: wp.Realm, HA1: wp.HA1, DisplayName: l.User.Name(), Ext: l.User.Ext}, nil
	}))
}

// LoggedIn reports whether a request carries a live web session: the
// switch lets only such a browser open the webphone's WebSocket.
func (a *App) LoggedIn(r *http.Request) bool { return a.loginOf(r) != nil }
