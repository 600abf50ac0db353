package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const testRealm = "switchboard"

func testAuth(now *time.Time) *Authenticator {
	return New(Config{Realm: testRealm, Secret: []byte("k"), Now: func() time.Time { return *now }})
}

func secretsFor(user, pw string) Secrets {
	return Secrets{
		HA1MD5:    md5.Sum([]byte(user + ":" + testRealm + ":" + pw)),
		HA1SHA256: sha256.Sum256([]byte(user + ":" + testRealm + ":" + pw)),
	}
}

func hexOf(sha bool, s string) string {
	var out [64]byte
	return string(hexHash(&out, sha, []byte(s)))
}

// authed builds a REGISTER answering a challenge of a with user/pw, the way
// sipgo's client (icholy/digest) does it.
func authed(t testing.TB, a *Authenticator, alg, qop, user, pw string, edit func(string) string) *sip.Request {
	t.Helper()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: "127.0.0.1"})
	req.SetSource("127.0.0.1:5061")
	chal := &digest.Challenge{Realm: testRealm, Nonce: a.newNonce(), Algorithm: alg}
	if qop != "" {
		chal.QOP = []string{qop}
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1",
		Username: user, Password: pw, Cnonce: "0a4f113b", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := cred.String()
	if edit != nil {
		h = edit(h)
	}
	req.AppendHeader(sip.NewHeader("Authorization", h))
	return req
}

func TestVerify(t *testing.T) {
	now := time.Now()
	a := testAuth(&now)
	users := map[string]Secrets{"200": secretsFor("200", "right-password")}
	lookup := func(u string) (Secrets, bool) { s, ok := users[u]; return s, ok }
	upper := func(h string) string {
		i := strings.Index(h, `response="`) + len(`response="`)
		return h[:i] + strings.ToUpper(h[i:])
	}
	for _, tc := range []struct {
		name, alg, qop, user, pw string
		edit                     func(string) string
		want                     Outcome
	}{
		{"md5 qop=auth", "MD5", "auth", "200", "right-password", nil, OK},
		{"sha-256 qop=auth", "SHA-256", "auth", "200", "right-password", nil, OK},
		{"md5 without qop (RFC 2069)", "MD5", "", "200", "right-password", nil, OK},
		{"no algorithm means MD5", "", "auth", "200", "right-password", nil, OK},
		{"upper-case hex response", "MD5", "auth", "200", "right-password", upper, OK},
		{"wrong password", "MD5", "auth", "200", "wrong-password", nil, Forbidden},
		{"unknown user", "MD5", "auth", "299", "right-password", nil, Forbidden},
		{"sha-256 wrong password", "SHA-256", "auth", "200", "wrong-password", nil, Forbidden},
		{"qop without nc", "MD5", "auth", "200", "right-password",
			func(h string) string { return strings.Replace(h, "nc=00000001, ", "", 1) }, Forbidden},
		{"other realm", "MD5", "auth", "200", "right-password",
			func(h string) string { return strings.Replace(h, testRealm, "elsewhere", 1) }, Challenge},
		{"forged nonce", "MD5", "auth", "200", "right-password",
			func(h string) string { return strings.Replace(h, `nonce="`, `nonce="x`, 1) }, Challenge},
		{"unknown algorithm", "MD5", "auth", "200", "right-password",
			func(h string) string { return strings.Replace(h, "algorithm=MD5", "algorithm=MD5-sess", 1) }, Challenge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := authed(t, a, tc.alg, tc.qop, tc.user, tc.pw, tc.edit)
			if got := a.Verify(req, false, lookup); got.Outcome != tc.want {
				t.Fatalf("%s, want %s", got.Outcome, tc.want)
			}
		})
	}

	// A nonce past its lifetime still proves the password, but asks for a new one.
	req := authed(t, a, "MD5", "auth", "200", "right-password", nil)
	now = now.Add(6 * time.Minute)
	if got := a.Verify(req, false, lookup); got.Outcome != Stale || got.User != "200" {
		t.Fatalf("old nonce: %+v, want stale for 200", got)
	}
}

// auth-int also covers the body (RFC 2617 §3.2.2.3).
func TestVerifyAuthInt(t *testing.T) {
	s := secretsFor("200", "right-password")
	var want, got [64]byte
	cred := credentials{nonce: "n", uri: "sip:x", qop: "auth-int", nc: "00000001", cnonce: "c"}
	// By hand: HA2 = MD5(method:uri:MD5(body)), response = MD5(HA1:nonce:nc:cnonce:qop:HA2).
	ha2 := hexOf(false, "REGISTER:sip:x:"+hexOf(false, "body"))
	ha1 := hex.EncodeToString(s.HA1MD5[:])
	copy(want[:], hexOf(false, ha1+":n:00000001:c:auth-int:"+ha2))
	if r := response(&got, false, []byte(ha1), &cred, "REGISTER", []byte("body")); string(r) != string(want[:32]) {
		t.Fatalf("auth-int response %s, want %s", r, want[:32])
	}
}

func TestNonceSigningAllocatesLittle(t *testing.T) {
	now := time.Now()
	a := testAuth(&now)
	nonce := a.newNonce()
	if n := testing.AllocsPerRun(100, func() { a.checkNonce(nonce) }); n != 0 {
		t.Fatalf("checkNonce: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { a.newNonce() }); n > 1 {
		t.Fatalf("newNonce: %v allocations, want only its string", n)
	}
}

// BenchmarkVerify is the digest check of one REGISTER: parse the
// credentials, check the nonce's HMAC and age, compute the expected MD5
// response and compare.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	a := testAuth(&now)
	s := secretsFor("200", "right-password")
	lookup := func(string) (Secrets, bool) { return s, true }
	req := authed(b, a, "MD5", "auth", "200", "right-password", nil)
	b.ReportAllocs()
	for b.Loop() {
		if r := a.Verify(req, false, lookup); r.Outcome != OK {
			b.Fatal(r.Outcome)
		}
	}
}

// Failed answers held back at once are bounded over every SIP path; one
// more is dropped at once instead of sleeping.
func TestHoldBackIsBounded(t *testing.T) {
	a := New(Config{Realm: "r", Secret: []byte("k"), MaxDelayed: 2})
	if !a.HoldBack(0) {
		t.Fatal("no delay must not count")
	}
	release := make(chan bool, 2)
	for range 2 {
		go func() { release <- a.HoldBack(time.Second) }()
	}
	for len(a.delayed) < 2 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if a.HoldBack(time.Second) || time.Since(start) > 500*time.Millisecond {
		t.Fatal("a third answer was held back with two already waiting")
	}
	for range 2 {
		if !<-release {
			t.Fatal("an answer within the bound was dropped")
		}
	}
	if start := time.Now(); !a.HoldBack(10*time.Millisecond) || time.Since(start) < 10*time.Millisecond {
		t.Fatal("after the others, an answer is held back again")
	}
}
