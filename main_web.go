package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"switchboard/admin/cli"
	"switchboard/admin/web"
	"switchboard/store"
	"switchboard/switch/event"
	"switchboard/switch/server"
)

// newWeb opens the web side: plain HTTP (health, metrics, a redirect to
// HTTPS) and HTTPS with the certificate from the store (made at first run),
// serving the admin UI and API.
func newWeb(st *store.Store, opts cli.ServeOptions, sw *server.Server, bus *event.Bus, log *slog.Logger) (*web.Server, error) {
	cert, err := web.Certificate(st)
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
	log.Info("https certificate", "sha256_fingerprint", web.Fingerprint(cert))
	return web.NewServer(web.ServerConfig{HTTP: httpLn, HTTPS: httpsLn, Cert: cert, Log: log,
		Plain: web.Plain(health, web.PortOf(httpsLn)), Secure: secure}), nil
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
