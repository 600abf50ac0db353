// Package web is the switch's HTTP side: the health check and Prometheus
// metrics, the HTTPS certificate (self-signed at first run, kept in the
// store), and the two servers — plain HTTP (health, metrics, a redirect to
// HTTPS) and HTTPS (the admin UI and API of admin/webui).
package web

import (
	"fmt"
	"net/http"
)

// Registrations is the read-only view of the registrar the web side needs.
type Registrations interface {
	Counts() (devices, bindings int)
}

// Calls is the read-only view of calls and their media the metrics need.
type Calls interface {
	ActiveCalls() int
	// RTP returns the relay's packet counters since the start: accepted
	// from phones, sent to phones, dropped (not RTP, or from a stranger),
	// and the media endpoints (one per call leg) open now.
	RTP() (in, out, ignored uint64, endpoints int)
}

// Handler serves /healthz and /metrics. calls may be nil (no call metrics).
func Handler(reg Registrations, dropped func() uint64, calls Calls) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		devices, bindings := reg.Counts()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		metric(w, "switchboard_registered_devices", "gauge", "Devices with at least one live registration.", devices)
		metric(w, "switchboard_registrations", "gauge", "Live registration bindings.", bindings)
		metric(w, "switchboard_events_dropped_total", "counter", "Events a slow subscriber missed.", dropped())
		if calls == nil {
			return
		}
		in, out, ignored, endpoints := calls.RTP()
		metric(w, "switchboard_active_calls", "gauge", "Calls in progress (ringing or talking).", calls.ActiveCalls())
		metric(w, "switchboard_media_endpoints", "gauge", "Open RTP endpoints (one per call leg).", endpoints)
		metric(w, "switchboard_rtp_packets_in_total", "counter", "RTP packets received from phones and accepted.", in)
		metric(w, "switchboard_rtp_packets_out_total", "counter", "RTP packets sent to phones.", out)
		metric(w, "switchboard_rtp_packets_ignored_total", "counter", "Datagrams on RTP ports dropped: not RTP, or not from the phone's latched address.", ignored)
	})
	return mux
}

func metric[T int | uint64](w http.ResponseWriter, name, kind, help string, v T) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", name, help, name, kind, name, v)
}
