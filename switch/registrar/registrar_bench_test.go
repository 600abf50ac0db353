package registrar

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/event"
)

// benchUsers is how many devices the benchmarks register, as in `make bench`.
const benchUsers = 10_000

// benchRegistrar is a registrar on a real store in a temp dir holding
// benchUsers devices 1000.. with SIP password secret<id>.
func benchRegistrar(b testing.TB) *Registrar {
	b.Helper()
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	realm, err := st.SIPRealm()
	if err != nil {
		b.Fatal(err)
	}
	users := make([]store.User, benchUsers)
	devices := make([]store.Device, benchUsers)
	for i := range users {
		id := fmt.Sprint(1000 + i)
		users[i] = store.User{Ext: id, FirstName: "User", LastName: id, Role: store.RoleUser}
		devices[i] = store.Device{ID: id, Ext: id}
		devices[i].SetSIPPassword(realm, "secret"+id)
	}
	if err := st.CreateUsers(users, devices); err != nil {
		b.Fatal(err)
	}
	a := auth.New(auth.Config{Realm: realm, Secret: []byte("bench-nonce-key")})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(Config{}, a, StoreDirectory{Store: st}, st, event.New(), log)
}

// rawRegister is a REGISTER as SIPp's register_auth.xml sends it.
func rawRegister(id string, cseq int, authz string) []byte {
	return fmt.Appendf(nil, "REGISTER sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-%s-%d;rport\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:%s@127.0.0.1>;tag=1r%s\r\n"+
		"To: <sip:%s@127.0.0.1>\r\n"+
		"Call-ID: %s-bench@127.0.0.1\r\n"+
		"CSeq: %d REGISTER\r\n"+
		"Contact: <sip:%s@127.0.0.1:5061;transport=UDP>\r\n"+
		"%s"+
		"Expires: 3600\r\n"+
		"User-Agent: switchboard-bench\r\n"+
		"Content-Length: 0\r\n\r\n", id, cseq, id, id, id, id, cseq, id, authz)
}

func parseRequest(b testing.TB, raw []byte) *sip.Request {
	b.Helper()
	msg, err := sip.ParseMessage(raw)
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sip.Request)
	req.SetSource("127.0.0.1:5061")
	req.SetTransport("UDP")
	return req
}

// authedRequests answers a challenge for each of n devices and returns the
// authenticated REGISTERs, ready to be handled again and again (the CSeq is
// raised before each use: digest does not cover it).
func authedRequests(b testing.TB, r *Registrar, n int) []*sip.Request {
	b.Helper()
	reqs := make([]*sip.Request, n)
	for i := range reqs {
		id := fmt.Sprint(1000 + i)
		chal := r.register(parseRequest(b, rawRegister(id, 1, "")))
		if chal.StatusCode != 401 {
			b.Fatalf("first REGISTER: %d, want 401", chal.StatusCode)
		}
		c, err := digest.ParseChallenge(chal.GetHeader("WWW-Authenticate").Value())
		if err != nil {
			b.Fatal(err)
		}
		cred, err := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1",
			Username: id, Password: "secret" + id, Cnonce: "0a4f113b", Count: 1})
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = parseRequest(b, rawRegister(id, 2, "Authorization: "+cred.String()+"\r\n"))
	}
	return reqs
}

// BenchmarkRegister is the second REGISTER of a digest registration: verify
// the credentials, refresh the binding, build the 200. No network, no sipgo
// transaction: what the registrar itself costs per registration.
func BenchmarkRegister(b *testing.B) {
	r := benchRegistrar(b)
	reqs := authedRequests(b, r, benchUsers)
	for _, req := range reqs { // first registration of each device: creates its binding
		if res := r.register(req); res.StatusCode != 200 {
			b.Fatalf("REGISTER: %d %s, want 200", res.StatusCode, res.Reason)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req := reqs[i%len(reqs)]
		req.CSeq().SeqNo++
		if res := r.register(req); res.StatusCode != 200 {
			b.Fatalf("REGISTER: %d %s, want 200", res.StatusCode, res.Reason)
		}
	}
}

// BenchmarkRegisterChallenge is the first REGISTER of a registration: no
// credentials yet, answered with a 401 and a fresh nonce.
func BenchmarkRegisterChallenge(b *testing.B) {
	r := benchRegistrar(b)
	req := parseRequest(b, rawRegister("1000", 1, ""))
	b.ReportAllocs()
	for b.Loop() {
		if res := r.register(req); res.StatusCode != 401 {
			b.Fatalf("REGISTER: %d, want 401", res.StatusCode)
		}
	}
}

// BenchmarkParseRegister is sipgo parsing one REGISTER with credentials, for
// scale: every registration is two of these.
func BenchmarkParseRegister(b *testing.B) {
	raw := rawRegister("1000", 2, `Authorization: Digest username="1000", realm="switchboard", `+
		`nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="sip:127.0.0.1", response="0123456789abcdef0123456789abcdef", `+
		`algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`+"\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sip.ParseMessage(raw); err != nil {
			b.Fatal(err)
		}
	}
}
