package server_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/switch/phonetest"
)

// The webphone's socket opens only for a WebSocket upgrade asking for SIP,
// from a page of the same server, with a web session.
func TestWebSocketRefusesWhatIsNotAWebphone(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	loggedIn := false
	h := sw.Server.WebSocket(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443},
		func(*http.Request) bool { return loggedIn })
	upgrade := func(origin string, protocol string) *http.Request {
		r := httptest.NewRequest("GET", "https://pbx.example:8443/ws", nil)
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Sec-WebSocket-Protocol", protocol)
		r.Header.Set("Origin", origin)
		return r
	}
	for _, c := range []struct {
		name     string
		req      *http.Request
		loggedIn bool
		want     int
	}{
		{"plain GET", httptest.NewRequest("GET", "https://pbx.example:8443/ws", nil), true, http.StatusBadRequest},
		{"no sip protocol", upgrade("https://pbx.example:8443", "chat"), true, http.StatusBadRequest},
		{"other site", upgrade("https://evil.example", "sip"), true, http.StatusForbidden},
		{"plain http page", upgrade("http://pbx.example:8443", "sip"), true, http.StatusForbidden},
		{"no session", upgrade("https://pbx.example:8443", "sip"), false, http.StatusUnauthorized},
	} {
		loggedIn = c.loggedIn
		w := httptest.NewRecorder()
		h.ServeHTTP(w, c.req)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.want)
		}
	}
}

// A webphone's secret reaches browsers, so it registers only over the
// WebSocket: the same right credentials over UDP are refused.
func TestWebphoneDeviceRegistersOnlyOverWebSocket(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "200", "secret-200")
	realm, _ := sw.Store.SIPRealm()
	d := store.Device{ID: "200w", Ext: "200", Kind: store.KindWebphone, Created: time.Now()}
	d.SetSIPPassword(realm, "webphone-secret")
	if _, err := sw.Store.AddDevice("200", func([]string) (store.Device, error) { return d, nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := sw.Phone(t, "200w", "webphone-secret", phonetest.Options{}).Register(ctx, 300)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 403 || len(sw.Registrar().Lookup("200w")) != 0 {
		t.Errorf("webphone over UDP: %d, bindings %v; want 403 and none", res.StatusCode, sw.Registrar().Lookup("200w"))
	}
	// A SIP phone whose id merely ends in w is not a webphone.
	sw.AddUser(t, "30", "secret-30")
	sw.AddDevice(t, "30", "30w", "desk-secret")
	if res, err := sw.Phone(t, "30w", "desk-secret", phonetest.Options{}).Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Errorf("desk phone 30w: %v %v, want 200", res, err)
	}
}
