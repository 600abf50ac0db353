package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newTestAuth(c *clock) *Authenticator {
	return New(Config{Realm: "switchboard", Secret: []byte("test-secret"), NonceTTL: time.Minute, Now: c.Now,
		Algorithms: []string{MD5, SHA256}})
}

var devices = map[string]string{"200": "secret-200", "200w": "secret-200w"}

func lookup(realm string) Lookup {
	return func(user string) (Secrets, bool) {
		pw, ok := devices[user]
		if !ok {
			return Secrets{}, false
		}
		s := secretsOf(user, realm, pw)
		s.WebSocketOnly = strings.HasSuffix(user, "w")
		return s, true
	}
}

func secretsOf(user, realm, pw string) Secrets {
	a1 := []byte(user + ":" + realm + ":" + pw)
	return Secrets{HA1MD5: md5.Sum(a1), HA1SHA256: sha256.Sum256(a1)}
}

func register(t *testing.T) *sip.Request {
	t.Helper()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	req.SetSource("127.0.0.1:5062")
	return req
}

// answer fills req's Authorization from the challenge in res with alg ("" = first).
func answer(t *testing.T, req *sip.Request, res *sip.Response, user, pw, alg string) {
	t.Helper()
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			t.Fatal(err)
		}
		if alg != "" && chal.Algorithm != alg {
			continue
		}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: user, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		req.RemoveHeader("Authorization")
		req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
		return
	}
	t.Fatalf("no %q challenge in %s", alg, res)
}

func TestVerifyOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		user, pw  string
		alg       string
		age       time.Duration // between challenge and answer
		tamper    func(h string) string
		transport string // default UDP
		want      Outcome
		wantDelay bool
	}{
		{name: "webphone over its WebSocket", user: "200w", pw: "secret-200w", alg: "MD5", transport: "WSS", want: OK},
		{name: "webphone's secret over UDP", user: "200w", pw: "secret-200w", alg: "MD5", want: Forbidden},
		{name: "webphone's secret over TCP", user: "200w", pw: "secret-200w", alg: "MD5", transport: "TCP", want: Forbidden},
		{name: "md5", user: "200", pw: "secret-200", alg: "MD5", want: OK},
		{name: "sha256", user: "200", pw: "secret-200", alg: "SHA-256", want: OK},
		{name: "wrong password", user: "200", pw: "nope-nope", alg: "MD5", want: Forbidden},
		{name: "unknown user", user: "999", pw: "secret-200", alg: "MD5", want: Forbidden},
		{name: "stale nonce, right password", user: "200", pw: "secret-200", alg: "MD5", age: 2 * time.Minute, want: Stale},
		{name: "stale nonce, wrong password", user: "200", pw: "nope-nope", alg: "MD5", age: 2 * time.Minute, want: Forbidden},
		{name: "other realm", user: "200", pw: "secret-200", alg: "MD5",
			tamper: func(h string) string { return strings.Replace(h, `realm="switchboard"`, `realm="other"`, 1) }, want: Challenge},
		{name: "forged nonce", user: "200", pw: "secret-200", alg: "MD5",
			tamper: func(h string) string { return strings.Replace(h, `nonce="`, `nonce="AAAA`, 1) }, want: Challenge},
		{name: "unknown algorithm", user: "200", pw: "secret-200", alg: "MD5",
			tamper: func(h string) string { return strings.Replace(h, "algorithm=MD5", "algorithm=SHA-1", 1) }, want: Challenge},
		{name: "garbage credentials", user: "200", pw: "secret-200", alg: "MD5",
			tamper: func(string) string { return "Digest ,,,==" }, want: Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{now: time.Unix(1_800_000_000, 0)}
			a := newTestAuth(c)
			req := register(t)
			if tt.transport != "" {
				req.SetTransport(tt.transport)
			}
			if r := a.Verify(req, false, lookup("switchboard")); r.Outcome != Challenge {
				t.Fatalf("no credentials: got %v, want challenge", r.Outcome)
			}
			answer(t, req, a.Challenge(req, false, false), tt.user, tt.pw, tt.alg)
			if tt.tamper != nil {
				v := tt.tamper(req.GetHeader("Authorization").Value())
				req.RemoveHeader("Authorization")
				req.AppendHeader(sip.NewHeader("Authorization", v))
			}
			c.now = c.now.Add(tt.age)
			r := a.Verify(req, false, lookup("switchboard"))
			if r.Outcome != tt.want {
				t.Fatalf("got %v, want %v", r.Outcome, tt.want)
			}
			if (r.Outcome == OK || r.Outcome == Stale) && r.User != tt.user {
				t.Fatalf("user = %q, want %q", r.User, tt.user)
			}
		})
	}
}

// TestDefaultChallengeIsMD5Only: baresip 1.0.0 (libre) fails a whole 401 that
// also names SHA-256 ("Register: Function not implemented"), so by default
// the switch offers one MD5 challenge, which every phone answers.
func TestDefaultChallengeIsMD5Only(t *testing.T) {
	a := New(Config{Realm: "r", Secret: []byte("k")})
	hs := a.Challenge(register(t), false, false).GetHeaders("WWW-Authenticate")
	if len(hs) != 1 || !strings.Contains(hs[0].Value(), "algorithm=MD5") {
		t.Fatalf("default challenge = %v, want one MD5 challenge", hs)
	}
}

func TestChallengeOffersAlgorithmsInOrder(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	for _, order := range [][]string{{MD5, SHA256}, {SHA256, MD5}, {MD5}} {
		a := New(Config{Realm: "r", Secret: []byte("k"), Algorithms: order, Now: c.Now})
		res := a.Challenge(register(t), true, true)
		if res.StatusCode != 407 {
			t.Fatalf("proxy challenge = %d", res.StatusCode)
		}
		hs := res.GetHeaders("Proxy-Authenticate")
		if len(hs) != len(order) {
			t.Fatalf("%d challenges, want %d", len(hs), len(order))
		}
		for i, h := range hs {
			chal, err := digest.ParseChallenge(h.Value())
			if err != nil || chal.Algorithm != order[i] || !chal.Stale || chal.Realm != "r" {
				t.Fatalf("challenge %d = %q (%v)", i, h.Value(), err)
			}
		}
	}
}

func TestProxyAuthorization(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	a := newTestAuth(c)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "201", Host: "127.0.0.1"})
	req.SetSource("127.0.0.1:5062")
	res := a.Challenge(req, true, false)
	chal, _ := digest.ParseChallenge(res.GetHeader("Proxy-Authenticate").Value())
	cred, _ := digest.Digest(chal, digest.Options{Method: "INVITE", URI: "sip:201@127.0.0.1", Username: "200", Password: "secret-200"})
	req.AppendHeader(sip.NewHeader("Proxy-Authorization", cred.String()))
	if r := a.Verify(req, true, lookup("switchboard")); r.Outcome != OK {
		t.Fatalf("got %v", r.Outcome)
	}
	// The same credentials in the wrong header are not looked at.
	if r := a.Verify(req, false, lookup("switchboard")); r.Outcome != Challenge {
		t.Fatalf("Authorization missing: got %v", r.Outcome)
	}
}

func TestNonceIsBoundToSecret(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	a := newTestAuth(c)
	b := New(Config{Realm: "switchboard", Secret: []byte("another-secret"), Now: c.Now})
	req := register(t)
	answer(t, req, a.Challenge(req, false, false), "200", "secret-200", "MD5")
	if r := b.Verify(req, false, lookup("switchboard")); r.Outcome != Challenge {
		t.Fatalf("a nonce from another installation was accepted: %v", r.Outcome)
	}
}
