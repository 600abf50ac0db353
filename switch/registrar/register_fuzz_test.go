package registrar_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/event"
	"switchboard/switch/registrar"
)

// The fuzz registrar runs on a fixed clock with a fixed nonce key, so the
// nonce it issues is always the same and a seed can carry credentials that
// really authenticate: the fuzzer then explores the binding logic behind
// the digest check, not only the 401 in front of it.
var (
	fuzzNow    = time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	fuzzSecret = []byte("switchboard fuzz nonce key")
	fuzzSource = "192.0.2.10:5060"
)

// fuzzDevices are the devices in the fuzz store; each has password fuzzPassword(id).
var fuzzDevices = []string{"200", "201", "202", "203", "204", "205", "206", "207", "208", "209"}

func fuzzPassword(id string) string { return "secret-" + id }

// registerEnv is a store with the fuzz devices, shared by every input (it is
// only read), and what is needed to build a fresh registrar per input.
type registerEnv struct {
	st    *store.Store
	realm string
	nonce string // the nonce the authenticator issues at fuzzNow
}

func newRegisterEnv(tb testing.TB, dir string) *registerEnv {
	tb.Helper()
	st, err := store.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	realm, err := st.SIPRealm()
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range fuzzDevices {
		d := store.Device{ID: id, Ext: id, Created: fuzzNow}
		d.SetSIPPassword(realm, fuzzPassword(id))
		u := store.User{Ext: id, FirstName: "Fuzz", LastName: id, Role: store.RoleUser, Created: fuzzNow}
		if err := st.CreateUser(u, d); err != nil {
			tb.Fatal(err)
		}
	}
	env := &registerEnv{st: st, realm: realm}
	probe := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "pbx.example.com"})
	chal, err := digest.ParseChallenge(env.authenticator().Challenge(probe, false, false).GetHeader("WWW-Authenticate").Value())
	if err != nil {
		tb.Fatal(err)
	}
	env.nonce = chal.Nonce
	return env
}

func (e *registerEnv) authenticator() *auth.Authenticator {
	// Limits that never slow or block: the limiter is tested on its own, and a
	// sleeping or silent registrar would only hide what the fuzzer finds.
	never := auth.Limits{Window: time.Hour, SlowAfter: math.MaxInt, BlockAfter: math.MaxInt,
		SlowStep: time.Millisecond, MaxSlow: time.Millisecond, Block: time.Second, MaxBlock: time.Second, MaxTracked: 1000}
	return auth.New(auth.Config{Realm: e.realm, Secret: fuzzSecret, Limits: never,
		Now: func() time.Time { return fuzzNow }})
}

// registrar returns a new, empty registrar, so every input starts from the
// same state and a crasher reproduces on its own.
func (e *registerEnv) registrar() *registrar.Registrar {
	return registrar.New(registrar.Config{Now: func() time.Time { return fuzzNow }}, e.authenticator(),
		registrar.StoreDirectory{Store: e.st}, e.st, event.New(), slog.New(slog.DiscardHandler))
}

// sign returns raw with its credentials replaced by valid ones for the To
// user, or nil when raw is not a REGISTER to one of the fuzz devices.
// variant picks MD5, MD5 with qop=auth, or SHA-256 with qop=auth. The bytes
// are edited, not re-serialised, so the phone's own formatting stays.
func (e *registerEnv) sign(raw []byte, variant int) []byte {
	req := parseRequest(raw)
	if req == nil || req.To() == nil || req.Method != sip.REGISTER {
		return nil
	}
	user := req.To().Address.User
	if !isFuzzDevice(user) {
		return nil
	}
	chal := &digest.Challenge{Realm: e.realm, Nonce: e.nonce, Algorithm: "MD5"}
	switch variant % 3 {
	case 1:
		chal.QOP = []string{"auth"}
	case 2:
		chal.Algorithm, chal.QOP = "SHA-256", []string{"auth"}
	}
	cred, err := digest.Digest(chal, digest.Options{Method: req.Method.String(), URI: req.Recipient.String(),
		Username: user, Password: fuzzPassword(user), Cnonce: "0a4f113b", Count: 1})
	if err != nil {
		return nil
	}
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := bytes.Split(head, []byte("\r\n"))
	out := [][]byte{lines[0], []byte("Authorization: " + cred.String())}
	for _, l := range lines[1:] {
		if !bytes.HasPrefix(bytes.ToLower(l), []byte("authorization:")) {
			out = append(out, l)
		}
	}
	return append(bytes.Join(out, []byte("\r\n")), append([]byte("\r\n\r\n"), body...)...)
}

func isFuzzDevice(id string) bool {
	for _, d := range fuzzDevices {
		if d == id {
			return true
		}
	}
	return false
}

// parseRequest parses a datagram as the UDP transport does; nil if it is
// not a request.
func parseRequest(raw []byte) *sip.Request {
	msg, err := sip.ParseMessage(raw)
	if err != nil {
		return nil
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return nil
	}
	req.SetSource(fuzzSource)
	req.SetTransport("UDP")
	return req
}

// hasValidCredentials says, without asking package auth, whether req
// carries the right password of device under the nonce the registrar issued.
func (e *registerEnv) hasValidCredentials(req *sip.Request, device string) bool {
	if !isFuzzDevice(device) {
		return false
	}
	for _, h := range req.GetHeaders("Authorization") {
		cred, err := digest.ParseCredentials(h.Value())
		if err != nil || cred.Username != device || cred.Realm != e.realm || cred.Nonce != e.nonce {
			continue
		}
		chal := &digest.Challenge{Realm: e.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm}
		if cred.QOP != "" {
			chal.QOP = []string{cred.QOP}
		}
		want, err := digest.Digest(chal, digest.Options{Method: req.Method.String(), URI: cred.URI,
			Username: device, Password: fuzzPassword(device), Cnonce: cred.Cnonce, Count: cred.Nc,
			GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(req.Body())), nil }})
		if err == nil && cred.Nc == want.Nc && strings.EqualFold(want.Response, cred.Response) {
			return true
		}
	}
	return false
}

// recordingTx is a server transaction that keeps what the handler answers.
type recordingTx struct{ responses []*sip.Response }

var _ sip.ServerTransaction = (*recordingTx)(nil)

func (tx *recordingTx) Respond(res *sip.Response) error {
	tx.responses = append(tx.responses, res)
	return nil
}
func (*recordingTx) Acks() <-chan *sip.Request          { return nil }
func (*recordingTx) OnCancel(sip.FnTxCancel) bool       { return false }
func (*recordingTx) Terminate()                         {}
func (*recordingTx) OnTerminate(sip.FnTxTerminate) bool { return false }
func (*recordingTx) Done() <-chan struct{}              { return nil }
func (*recordingTx) Err() error                         { return nil }

// addCorpus adds every file under the repository's testdata/fuzz/<name> to f
// and returns their contents.
func addCorpus(f *testing.F, name string) [][]byte {
	f.Helper()
	var seeds [][]byte
	dir := filepath.Join("..", "..", "testdata", "fuzz", name)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		seeds = append(seeds, b)
		f.Add(b)
		return err
	})
	if err != nil || len(seeds) == 0 {
		f.Fatalf("seed corpus %s: %d files, %v", dir, len(seeds), err)
	}
	return seeds
}

// newSignedRegisterFuzz returns the fuzzers' registrar environment, with the
// REGISTER corpus signed for its users added as seeds.
func newSignedRegisterFuzz(f *testing.F) *registerEnv {
	env := newRegisterEnv(f, f.TempDir())
	for i, seed := range addCorpus(f, "register") {
		if signed := env.sign(seed, i); signed != nil {
			f.Add(signed)
		}
	}
	return env
}

// FuzzRegister gives the REGISTER handler whatever sipgo's parser accepts.
// It must not panic, must answer every request exactly once with a response
// that echoes Call-ID and CSeq and parses again, must never answer 2xx or
// bind a device for a request that lacks that device's valid credentials,
// and must leave the bindings untouched when it refuses a request.
func FuzzRegister(f *testing.F) {
	env := newSignedRegisterFuzz(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		req := parseRequest(raw)
		if req == nil {
			return
		}
		reg := env.registrar()
		tx := &recordingTx{}
		reg.HandleRegister(req, tx)
		if len(tx.responses) != 1 {
			t.Fatalf("%d responses, want exactly 1 (the limiter never blocks here)", len(tx.responses))
		}
		res := tx.responses[0]
		checkResponse(t, req, res)
		all := reg.All()
		if res.StatusCode >= 300 && len(all) > 0 {
			// RFC 3261 §10.3: binding updates are committed all or none.
			t.Fatalf("answered %d %s but bound %+v", res.StatusCode, res.Reason, all)
		}
		if res.StatusCode < 300 && (req.To() == nil || !env.hasValidCredentials(req, req.To().Address.User)) {
			t.Fatalf("answered %d without valid credentials", res.StatusCode)
		}
		for device, list := range all {
			if !env.hasValidCredentials(req, device) {
				t.Fatalf("device %q bound without its valid credentials: %+v", device, list)
			}
			if to := req.To(); to == nil || to.Address.User != device {
				t.Fatalf("device %q bound by a REGISTER for %v", device, req.To())
			}
			for _, b := range list {
				checkBinding(t, req, b)
			}
		}
	})
}

// FuzzAnswerStateless gives the stateless path (REGISTER over UDP, answered
// from the read loop) the same inputs. Where it answers, it must answer as
// the transaction path does (same status) and keep the same promises;
// where it hands the request back, it must have changed nothing, so the
// transaction path can decide it whole.
func FuzzAnswerStateless(f *testing.F) {
	env := newSignedRegisterFuzz(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		req := parseRequest(raw)
		if req == nil {
			return
		}
		reg := env.registrar()
		res := reg.AnswerStateless(req)
		if res == nil {
			if all := reg.All(); len(all) > 0 {
				t.Fatalf("handed back after binding %+v", all)
			}
			return
		}
		checkResponse(t, req, res)
		if res.StatusCode < 300 && (req.To() == nil || !env.hasValidCredentials(req, req.To().Address.User)) {
			t.Fatalf("answered %d without valid credentials", res.StatusCode)
		}
		if res.StatusCode >= 300 && len(reg.All()) > 0 {
			t.Fatalf("answered %d %s but bound %+v", res.StatusCode, res.Reason, reg.All())
		}
		tx := &recordingTx{}
		env.registrar().HandleRegister(parseRequest(raw), tx)
		if len(tx.responses) != 1 || tx.responses[0].StatusCode != res.StatusCode {
			t.Fatalf("stateless answer %d, the transaction path's %v", res.StatusCode, tx.responses)
		}
	})
}

func checkResponse(t *testing.T, req *sip.Request, res *sip.Response) {
	t.Helper()
	if res.StatusCode < 100 || res.StatusCode > 699 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if cid := req.CallID(); cid != nil && (res.CallID() == nil || res.CallID().Value() != cid.Value()) {
		t.Fatalf("Call-ID %q not echoed: %v", cid.Value(), res.CallID())
	}
	if cs := req.CSeq(); cs != nil && (res.CSeq() == nil || *res.CSeq() != *cs) {
		t.Fatalf("CSeq %v not echoed: %v", cs, res.CSeq())
	}
	// sipgo echoes Via, From, To, Call-ID and CSeq as it parsed them, and
	// some inputs it accepts do not survive its own serialisation. That is
	// not ours to fix; what we add to a response must not break it further.
	if parses(sip.NewResponseFromRequest(req, 400, "Bad Request", nil)) && !parses(res) {
		t.Fatalf("response does not parse again:\n%s", res)
	}
}

func parses(res *sip.Response) bool {
	again, err := sip.ParseMessage([]byte(res.String()))
	if err != nil {
		return false
	}
	r, ok := again.(*sip.Response)
	return ok && r.StatusCode == res.StatusCode
}

func checkBinding(t *testing.T, req *sip.Request, b store.Binding) {
	t.Helper()
	var uri sip.Uri
	if err := sip.ParseUri(b.Contact, &uri); err != nil || uri.Host == "" || !strings.EqualFold(uri.Scheme, "sip") && !strings.EqualFold(uri.Scheme, "sips") {
		t.Fatalf("stored contact %q is not a SIP URI with a host: %v", b.Contact, err)
	}
	if !b.Expires.After(fuzzNow) || b.Expires.After(fuzzNow.Add(time.Hour)) {
		t.Fatalf("binding expires %v, want within an hour of %v", b.Expires, fuzzNow)
	}
	if b.Source != fuzzSource || b.CallID != req.CallID().Value() || b.CSeq != req.CSeq().SeqNo {
		t.Fatalf("binding %+v does not come from this request", b)
	}
}

// TestRealPhonesRegister checks that every real phone's REGISTER in the
// corpus is accepted once it carries valid credentials.
func TestRealPhonesRegister(t *testing.T) {
	env := newRegisterEnv(t, t.TempDir())
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "fuzz", "register", "valid", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid REGISTERs in the corpus: %v", err)
	}
	for i, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			signed := env.sign(raw, i)
			if signed == nil {
				t.Fatalf("does not parse as a REGISTER to a known device:\n%s", raw)
			}
			req := parseRequest(signed)
			tx := &recordingTx{}
			reg := env.registrar()
			reg.HandleRegister(req, tx)
			if len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
				t.Fatalf("answered %v, want 200\n%s", tx.responses, signed)
			}
			checkResponse(t, req, tx.responses[0])
			// Unregistrations and queries (by file name) leave no binding; the rest do.
			name := filepath.Base(file)
			want := !strings.Contains(name, "unregister") && !strings.Contains(name, "query")
			if got := len(reg.Lookup(req.To().Address.User)) > 0; got != want {
				t.Fatalf("binding after 200: %v, want %v\n%s", got, want, signed)
			}
		})
	}
}

// TestStaleRegisterChangesNothing: a REGISTER that is not newer than the one
// that made a binding (same Call-ID, CSeq not higher) is refused with 500 and
// changes no binding, even when it also names other contacts (RFC 3261 §10.3).
func TestStaleRegisterChangesNothing(t *testing.T) {
	env := newRegisterEnv(t, t.TempDir())
	reg := env.registrar()
	send := func(cseq int, contacts string) int {
		t.Helper()
		raw := fmt.Appendf(nil, "REGISTER sip:pbx.example.com SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 192.168.1.50:5060;branch=z9hG4bK-%d\r\n"+
			"From: <sip:200@pbx.example.com>;tag=a\r\nTo: <sip:200@pbx.example.com>\r\n"+
			"Call-ID: stale-test\r\nCSeq: %d REGISTER\r\n%sContent-Length: 0\r\n\r\n", cseq, cseq, contacts)
		tx := &recordingTx{}
		reg.HandleRegister(parseRequest(env.sign(raw, cseq)), tx)
		return tx.responses[0].StatusCode
	}
	contacts := func() []string {
		var out []string
		for _, b := range reg.Lookup("200") {
			out = append(out, fmt.Sprintf("%s/%d", b.Contact, b.CSeq))
		}
		slices.Sort(out)
		return out
	}
	if got := send(5, "Contact: <sip:200@192.168.1.50:5060>\r\n"); got != 200 {
		t.Fatalf("first REGISTER: %d", got)
	}
	want := contacts()
	for _, tc := range []struct {
		cseq     int
		contacts string
	}{
		{5, "Contact: <sip:200@192.168.1.50:5060>;expires=0\r\n"},                           // a retransmission
		{4, "Contact: <sip:200@10.0.0.9:5060>\r\nContact: <sip:200@192.168.1.50:5060>\r\n"}, // older, and adds another
		{3, "Contact: *\r\nExpires: 0\r\n"},                                                 // an older wildcard
	} {
		if got := send(tc.cseq, tc.contacts); got != 500 {
			t.Errorf("CSeq %d %q: %d, want 500", tc.cseq, tc.contacts, got)
		}
		if got := contacts(); !slices.Equal(got, want) {
			t.Fatalf("CSeq %d changed the bindings: %v, want %v", tc.cseq, got, want)
		}
	}
	if got := send(6, "Contact: *\r\nExpires: 0\r\n"); got != 200 || len(contacts()) != 0 {
		t.Fatalf("newer wildcard: %d, bindings %v", got, contacts())
	}
}
