package web

import (
	"net/http"
	"net/http/pprof"
)

// Profiling serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/. It is only mounted on its own opt-in address
// (`serve --pprof 127.0.0.1:6060`), never on the public web port: profiles
// show memory contents such as request headers.
func Profiling() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
