package control_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/store"
)

// registrations stands in for a running switch.
type registrations struct{}

func (registrations) Lookup(string) []store.Binding {
	return []store.Binding{{Contact: "sip:200@192.0.2.1", Expires: time.Now().Add(time.Hour)}}
}
func (registrations) Remove(string) {}

func (registrations) All() map[string][]store.Binding { return nil }

// jsonRoutes are the control API's requests that carry a JSON body.
var jsonRoutes = []struct{ method, path string }{
	{"POST", "/v1/users"},
	{"POST", "/v1/users/import"},
	{"PATCH", "/v1/users/200"},
	{"POST", "/v1/devices"},
	// answering rules (socket_rules.go)
	{"POST", "/v1/handling/200/rules"},
	{"PATCH", "/v1/handling/200/rules/1"},
	{"PUT", "/v1/handling/200/dnd"},
	{"PUT", "/v1/handling/200/forward"},
	{"POST", "/v1/timeframes"},
	{"PUT", "/v1/timezone"},
	// voicemail (voicemail.go)
	{"PATCH", "/v1/voicemail/200"},
	{"PATCH", "/v1/smtp"},
}

// FuzzControlJSON sends every JSON body to every control request that reads
// one, on a real store. No input may panic or cause a 5xx; a body that is
// not JSON is a 400; every answer is JSON.
func FuzzControlJSON(f *testing.F) {
	st, err := store.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ops := &control.Local{Store: st, Reg: registrations{}}
	if _, err := ops.AddUser(f.Context(), control.UserSpec{Ext: "200", Name: "Alice Smith", SIPPassword: "secret-200"}); err != nil {
		f.Fatal(err)
	}
	h := control.Handler(ops, slog.New(slog.DiscardHandler))

	dir := filepath.Join("..", "..", "testdata", "fuzz", "control")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("seed corpus %s: %v", dir, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, rt := range jsonRoutes {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body)))
			res := w.Result()
			if res.StatusCode >= 500 {
				t.Fatalf("%s %s: %d %s", rt.method, rt.path, res.StatusCode, w.Body)
			}
			if !json.Valid(body) && res.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s %s with a body that is not JSON: %d %s", rt.method, rt.path, res.StatusCode, w.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %s: answer is not JSON (%s): %q", rt.method, rt.path, ct, w.Body)
			}
		}
	})
}
