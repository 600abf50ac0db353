package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Plain is the handler of the plain-HTTP port: /healthz and /metrics stay
// there (monitoring need not trust the self-signed certificate); a browser
// asking for a page is sent to the same path on the HTTPS port, and any
// other request is refused, so no password or cookie travels in clear.
func Plain(health http.Handler, httpsPort string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", health)
	mux.Handle("GET /metrics", health)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		if host == "" {
			host = "localhost"
		}
		target := "https://" + net.JoinHostPort(host, httpsPort)
		if httpsPort == "443" {
			target = "https://" + hostOnly(host)
		}
		target += r.URL.RequestURI()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "Use HTTPS: "+target, http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	})
	return mux
}

// hostOnly brackets an IPv6 literal for use in a URL.
func hostOnly(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return "[" + host + "]"
	}
	return host
}

// ServerConfig is what Server serves where.
type ServerConfig struct {
	HTTP   net.Listener // plain HTTP: Plain
	HTTPS  net.Listener // HTTPS: Secure, with Cert
	Plain  http.Handler
	Secure http.Handler
	Cert   tls.Certificate
	Log    *slog.Logger
}

// Server runs the plain-HTTP and the HTTPS servers together.
type Server struct {
	cfg           ServerConfig
	plain, secure *http.Server
}

// NewServer prepares the two servers; Serve runs them.
func NewServer(cfg ServerConfig) *Server {
	// TLS handshake failures are routine with a self-signed certificate
	// (each browser that does not trust it yet): keep them at debug level.
	errLog := slog.NewLogLogger(cfg.Log.Handler(), slog.LevelDebug)
	s := &Server{cfg: cfg}
	// Plain HTTP serves only health, metrics and a redirect: short requests,
	// no bodies, so no connection is held for long, idle or not.
	s.plain = &http.Server{Handler: cfg.Plain, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	s.secure = &http.Server{Handler: cfg.Secure, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog,
		IdleTimeout: 2 * time.Minute,
		TLSConfig:   &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cfg.Cert}}}
	return s
}

// Serve serves until ctx ends, then shuts both servers down (long-lived
// requests such as live-event streams end with ctx) and returns.
func (s *Server) Serve(ctx context.Context) {
	base := func(net.Listener) context.Context { return ctx }
	s.plain.BaseContext, s.secure.BaseContext = base, base
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.plain.Serve(s.cfg.HTTP); !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Log.Error("http", "err", err)
		}
	})
	wg.Go(func() {
		if err := s.secure.ServeTLS(s.cfg.HTTPS, "", ""); !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Log.Error("https", "err", err)
		}
	})
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{s.plain, s.secure} {
		if err := srv.Shutdown(shut); err != nil {
			srv.Close()
		}
	}
	wg.Wait()
}

// PortOf returns the port of a listener's address ("8443").
func PortOf(ln net.Listener) string {
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		panic(fmt.Sprintf("listener address %s: %v", ln.Addr(), err))
	}
	return port
}

// HTTPAddr is the plain-HTTP listener's address.
func (s *Server) HTTPAddr() string { return s.cfg.HTTP.Addr().String() }

// HTTPSAddr is the HTTPS listener's address.
func (s *Server) HTTPSAddr() string { return s.cfg.HTTPS.Addr().String() }

// Close closes the listeners of a server that was never served.
func (s *Server) Close() {
	s.cfg.HTTP.Close()
	s.cfg.HTTPS.Close()
}
