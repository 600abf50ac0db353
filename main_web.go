package main

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"switchboard/admin/cli"
	"switchboard/admin/control"
	"switchboard/admin/web"
	"switchboard/admin/webauth"
	"switchboard/admin/webui"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/event"
	"switchboard/switch/server"
)

// newWeb opens the web side: plain HTTP (health, metrics, a redirect to
// HTTPS) and HTTPS with the certificate from the store (made at first run),
// serving the admin UI and API.
func newWeb(st *store.Store, ops *control.Local, opts cli.ServeOptions, sw *server.Server, bus *event.Bus, log *slog.Logger) (*web.Server, error) {
	cert, err := web.Certificate(st)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	_, sipPort, _ := net.SplitHostPort(sw.Addr())
	app, err := webui.New(webui.Config{
		Store:           st,
		Ops:             ops,
		Auth:            webauth.New(st, webauth.Config{}),
		Reg:             sw.Registrar(),
		Calls:           liveCalls{sw.Calls()},
		Events:          bus,
		MWI:             sw.Presence(),
		Log:             log,
		SIPServer:       net.JoinHostPort(sw.AdvertiseIP(), sipPort),
		CertFingerprint: web.Fingerprint(cert),
		CertExpires:     leaf.NotAfter,
	})
	if err != nil {
		return nil, err
	}
	httpLn, err := net.Listen("tcp", opts.HTTP)
	if err != nil {
		return nil, fmt.Errorf("listen http %s: %w", opts.HTTP, err)
	}
	httpsLn, err := net.Listen("tcp", opts.HTTPS)
	if err != nil {
		httpLn.Close()
		return nil, fmt.Errorf("listen https %s: %w", opts.HTTPS, err)
	}
	health := web.Handler(sw.Registrar(), bus.Dropped, sw)
	secure := http.NewServeMux()
	secure.Handle("GET /healthz", health)
	secure.Handle("GET /metrics", health)
	secure.Handle("/", app)
	secure.Handle("/ws", sw.WebSocket(httpsLn.Addr(), app.WebphoneSession))
	log.Info("https certificate", "sha256_fingerprint", web.Fingerprint(cert))
	return web.NewServer(web.ServerConfig{HTTP: httpLn, HTTPS: httpsLn, Cert: cert, Log: log,
		Plain: web.Plain(health, web.PortOf(httpsLn)), Secure: secure}), nil
}

// liveCalls shows the B2BUA's calls to the web UI.
type liveCalls struct{ m *call.Manager }

func (c liveCalls) Active() []webui.LiveCall {
	if c.m == nil {
		return nil
	}
	snaps := c.m.Active()
	out := make([]webui.LiveCall, len(snaps))
	for i, s := range snaps {
		out[i] = webui.LiveCall{ID: s.ID, From: s.From, To: s.To, AnsweredBy: s.AnsweredBy, Start: s.Start, Answer: s.Answer}
	}
	return out
}

// webURL is where people open the admin UI: the HTTPS listener's host, or
// the address phones are told to use when it listens on every interface.
func webURL(httpsAddr, advertise string) string {
	host, port, _ := net.SplitHostPort(httpsAddr)
	if ip := net.ParseIP(host); (ip == nil || ip.IsUnspecified()) && advertise != "" {
		host = advertise
	}
	if port == "443" {
		return "https://" + strings.TrimSuffix(net.JoinHostPort(host, port), ":443") + "/"
	}
	return "https://" + net.JoinHostPort(host, port) + "/"
}
