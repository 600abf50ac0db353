package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"switchboard/store"
	"switchboard/switch/phonetest"
)

// The webphone's socket opens only for a WebSocket upgrade asking for SIP,
// from a page of the same server, with a web session.
func TestWebSocketRefusesWhatIsNotAWebphone(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	loggedIn := false
	h := sw.Server.WebSocket(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443},
		func(*http.Request) (string, func() bool) {
			if !loggedIn {
				return "", nil
			}
			return "s", func() bool { return true }
		})
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
	// Nor does it call or subscribe from anywhere but a browser: whoever
	// copied its secret out of a browser would call at the office's expense.
	var refused *sipgo.ErrDialogResponse
	if _, err := sw.Phone(t, "200w", "webphone-secret", phonetest.Options{}).Dial(ctx, "200"); !errors.As(err, &refused) || refused.Res.StatusCode != 403 {
		t.Errorf("webphone calling over UDP: %v, want 403", err)
	}
	_, res, err = sw.Phone(t, "200w", "webphone-secret", phonetest.Options{}).Subscribe(ctx, "dialog", "200", 300)
	if res == nil || res.StatusCode != 403 {
		t.Errorf("webphone subscribing over UDP: %v %v, want 403", res, err)
	}
	// A SIP phone whose id merely ends in w is not a webphone.
	sw.AddUser(t, "30", "secret-30")
	sw.AddDevice(t, "30", "30w", "desk-secret")
	if res, err := sw.Phone(t, "30w", "desk-secret", phonetest.Options{}).Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Errorf("desk phone 30w: %v %v, want 200", res, err)
	}
}

// openWebSocket upgrades a TLS connection to srv's /ws as a browser on
// srv's page would, and returns it with the upgrade's status.
func openWebSocket(t *testing.T, srv *httptest.Server, userAgent string) (net.Conn, int) {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	host := srv.Listener.Addr().String()
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: "+userAgent+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Protocol: sip\r\nOrigin: https://"+host+"\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return conn, res.StatusCode
}

// A webphone's socket lasts no longer than the web session that opened
// it: once the user logs out, the switch closes it (and its registrations
// go with it). One login opens a bounded number of sockets.
func TestWebSocketEndsWithItsWebSession(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{WebSessionCheck: 20 * time.Millisecond})
	var mineLive atomic.Bool
	mineLive.Store(true)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = sw.Server.WebSocket(srv.Listener.Addr(), func(r *http.Request) (string, func() bool) {
		if strings.Contains(r.UserAgent(), "other") {
			return "other", func() bool { return true }
		}
		return "mine", mineLive.Load
	})
	srv.StartTLS()
	defer srv.Close()

	var mine []net.Conn
	for range 8 {
		c, status := openWebSocket(t, srv, "mine")
		if status != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %d, want 101", status)
		}
		mine = append(mine, c)
	}
	if _, status := openWebSocket(t, srv, "mine"); status != http.StatusTooManyRequests {
		t.Errorf("ninth socket of one login: %d, want 429", status)
	}

	other, status := openWebSocket(t, srv, "other")
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("another login's socket: %d, want 101", status)
	}

	mineLive.Store(false) // logged out
	for i, c := range mine {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("socket %d after logout: read %v, want it closed", i, err)
		}
	}
	other.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := other.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("another login's socket: read %v, want it still open", err)
	}
	// The closed sockets no longer count: after logging in again the user
	// opens sockets again.
	mineLive.Store(true)
	if _, status := openWebSocket(t, srv, "mine"); status != http.StatusSwitchingProtocols {
		t.Errorf("socket after logging in again: %d, want 101", status)
	}
}
