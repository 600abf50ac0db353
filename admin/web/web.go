// Package web is the switch's HTTP side. For now it serves the health check
// and Prometheus metrics; the admin UI, JSON API and webphone join it here.
package web

import (
	"fmt"
	"net/http"
)

// Registrations is the read-only view of the registrar the web side needs.
type Registrations interface {
	Counts() (devices, bindings int)
}

// Handler serves /healthz and /metrics.
func Handler(reg Registrations, dropped func() uint64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		devices, bindings := reg.Counts()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprintf(w, "# HELP switchboard_registered_devices Devices with at least one live registration.\n")
		fmt.Fprintf(w, "# TYPE switchboard_registered_devices gauge\nswitchboard_registered_devices %d\n", devices)
		fmt.Fprintf(w, "# HELP switchboard_registrations Live registration bindings.\n")
		fmt.Fprintf(w, "# TYPE switchboard_registrations gauge\nswitchboard_registrations %d\n", bindings)
		fmt.Fprintf(w, "# HELP switchboard_events_dropped_total Events a slow subscriber missed.\n")
		fmt.Fprintf(w, "# TYPE switchboard_events_dropped_total counter\nswitchboard_events_dropped_total %d\n", dropped())
	})
	return mux
}
