package webui

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
	"switchboard/switch/event"
)

// fakeReg is a registrar with settable bindings.
type fakeReg struct {
	mu       sync.Mutex
	bindings map[string][]store.Binding
}

func (f *fakeReg) Lookup(id string) []store.Binding {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bindings[id]
}

func (f *fakeReg) Counts() (devices, bindings int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.bindings {
		if len(l) > 0 {
			devices++
			bindings += len(l)
		}
	}
	return devices, bindings
}

func (f *fakeReg) All() map[string][]store.Binding { return nil }
func (f *fakeReg) Remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.bindings, id)
}

func (f *fakeReg) set(id string, b ...store.Binding) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bindings[id] = b
}

// fakeCalls is a settable list of live calls.
type fakeCalls struct {
	mu    sync.Mutex
	calls []LiveCall
}

func (f *fakeCalls) Active() []LiveCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]LiveCall(nil), f.calls...)
}

func (f *fakeCalls) set(c ...LiveCall) {
	f.mu.Lock()
	f.calls = c
	f.mu.Unlock()
}

// fakeMWI records which mailboxes were said to have changed.
type fakeMWI struct {
	mu      sync.Mutex
	changed []string
}

func (f *fakeMWI) Changed(ext string) {
	f.mu.Lock()
	f.changed = append(f.changed, ext)
	f.mu.Unlock()
}

// take returns the changes so far and forgets them.
func (f *fakeMWI) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changed
	f.changed = nil
	return out
}

// env is the app on a TLS test server with a real store.
type env struct {
	t     *testing.T
	st    *store.Store
	auth  *webauth.Auth
	app   *App
	srv   *httptest.Server
	reg   *fakeReg
	calls *fakeCalls
	bus   *event.Bus
	ops   *control.Local
	mwi   *fakeMWI
	pw    map[string]string // web passwords of the users made by addUser
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, reg: &fakeReg{bindings: map[string][]store.Binding{}}, calls: &fakeCalls{},
		bus: event.New(), mwi: &fakeMWI{}, pw: map[string]string{}}
	e.ops = &control.Local{Store: st, Reg: e.reg, MWI: e.mwi}
	e.auth = webauth.New(st, webauth.Config{})
	e.app, err = New(Config{Store: st, Ops: e.ops, Auth: e.auth, Reg: e.reg, Calls: e.calls, Events: e.bus, MWI: e.mwi,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SIPServer: "192.0.2.10:5060",
		CertFingerprint: "AA:BB", CertExpires: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewTLSServer(e.app)
	t.Cleanup(e.srv.Close)
	e.addUser("100", "Office Manager", store.RoleAdmin)
	return e
}

// addUser creates a user through the operator's operations, like the CLI.
func (e *env) addUser(ext, name string, role store.Role) {
	e.t.Helper()
	pw := "pass-" + ext + "-word"
	if _, err := e.ops.AddUser(context.Background(), control.UserSpec{Ext: ext, Name: name, Role: role, Password: pw}); err != nil {
		e.t.Fatal(err)
	}
	e.pw[ext] = pw
}

// browser is a client with its own cookies that sends the headers a
// browser sends on same-origin requests.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *e.srv.Client() // a copy: each browser has its own cookie jar
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{e: e, c: &c}
}

// resp is a finished response.
type resp struct {
	code int
	body string
	hdr  http.Header
}

func (r resp) String() string { return r.body }

func (b *browser) do(req *http.Request) resp {
	b.e.t.Helper()
	if req.Method != "GET" && req.Header.Get("Origin") == "" {
		req.Header.Set("Origin", b.e.srv.URL)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return resp{code: res.StatusCode, body: string(body), hdr: res.Header}
}

func (b *browser) get(path string) resp {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	r := b.do(req)
	if m := csrfInPage.FindStringSubmatch(r.body); m != nil {
		b.csrf = m[1]
	}
	return r
}

var csrfInPage = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post sends a form with the page's CSRF token (unless the form has one).
func (b *browser) post(path string, form url.Values) resp {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// api sends a JSON request with the session's CSRF header.
func (b *browser) api(method, path string, body any) resp {
	b.e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.csrf != "" {
		req.Header.Set(webauth.CSRFHeader, b.csrf)
	}
	return b.do(req)
}

// upload sends a multipart form with one file (none when data is nil) and
// the page's CSRF token.
func (b *browser) upload(path, field, filename string, data []byte, form url.Values) resp {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if data != nil {
		w, _ := mw.CreateFormFile(field, filename)
		w.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// raw sends a body as it is (an uploaded file) with the session's CSRF header.
func (b *browser) raw(method, path string, data []byte) resp {
	b.e.t.Helper()
	req, _ := http.NewRequest(method, b.e.srv.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	if b.csrf != "" {
		req.Header.Set(webauth.CSRFHeader, b.csrf)
	}
	return b.do(req)
}

// toneWAV is a 16-bit mono PCM WAV file of a 440 Hz tone.
func toneWAV(d time.Duration, rate int) []byte {
	n := int(d.Seconds() * float64(rate))
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	for i := range n {
		binary.Write(&b, le, int16(8000*math.Sin(2*math.Pi*440*float64(i)/float64(rate))))
	}
	return b.Bytes()
}

// login logs in through the login form and returns the browser.
func (e *env) login(ext string) *browser {
	e.t.Helper()
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"login": {ext}, "password": {e.pw[ext]}})
	if r.code != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d\n%s", ext, r.code, r.body)
	}
	b.get("/me/password") // any page: picks up the session's CSRF token
	return b
}

// apiLogin logs in through the API and keeps the CSRF token it answers.
func (e *env) apiLogin(ext string) *browser {
	e.t.Helper()
	b := e.browser()
	r := b.api("POST", "/api/login", map[string]string{"login": ext, "password": e.pw[ext]})
	var m meJSON
	if r.code != 200 || json.Unmarshal([]byte(r.body), &m) != nil || m.CSRF == "" {
		e.t.Fatalf("api login %s: %d %s", ext, r.code, r.body)
	}
	b.csrf = m.CSRF
	return b
}

func contains(t *testing.T, r resp, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Errorf("response (%d) lacks %q:\n%s", r.code, w, r.body)
		}
	}
}

func lacks(t *testing.T, r resp, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(r.body, w) {
			t.Errorf("response (%d) has %q:\n%s", r.code, w, r.body)
		}
	}
}

func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, r.body)
	}
	return v
}
