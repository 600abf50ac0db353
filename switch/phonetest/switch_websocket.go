package phonetest

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// WebSocket serves the switch's SIP over WebSocket (RFC 7118) at /ws of a
// TLS test server, as serve does on its HTTPS port, each connection
// authorized as a live web session of its own. It returns the server's address and a TLS configuration that
// trusts it, for phones with Transport "WSS". The server stops at test
// cleanup, closing every phone's socket.
func (s *Switch) WebSocket(t testing.TB) (addr string, trust *tls.Config) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	ws := s.Server.WebSocket(srv.Listener.Addr(), func(r *http.Request) (string, func() bool) {
		return r.RemoteAddr, func() bool { return true }
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		// A browser names the page that opens the socket; sipgo's dialer
		// does not, so stand in for a page of this server.
		if r.Header.Get("Origin") == "" {
			r.Header.Set("Origin", "https://"+r.Host)
		}
		ws.ServeHTTP(w, r)
	})
	srv.Config.Handler = mux
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), srv.Client().Transport.(*http.Transport).TLSClientConfig
}
