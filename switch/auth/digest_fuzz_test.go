package auth_test

import (
	"bytes"
	"encoding/hex"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard/store"
	"switchboard/switch/auth"
)

const realm = "switchboard"

var (
	issued    = time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC) // when the challenge was sent
	nonceKey  = []byte("switchboard fuzz nonce key")
	passwords = map[string]string{"200": "secret-200", "201": "secret-201", "201b": "another-pw"}
)

var lws = strings.NewReplacer("\t", " ", "\r", " ", "\n", " ")

// lookup finds secrets as the registrar does: the HA1s a store.Device keeps.
func lookup(user string) (auth.Secrets, bool) {
	pw, ok := passwords[user]
	if !ok {
		return auth.Secrets{}, false
	}
	d := store.Device{ID: user}
	d.SetSIPPassword(realm, pw)
	var s auth.Secrets
	hex.Decode(s.HA1MD5[:], []byte(d.HA1MD5))
	hex.Decode(s.HA1SHA256[:], []byte(d.HA1SHA256))
	return s, true
}

// authenticator verifies at issued+age and never slows or blocks, so every
// input gets a real verdict.
func authenticator(age time.Duration) *auth.Authenticator {
	never := auth.Limits{Window: time.Hour, SlowAfter: math.MaxInt, BlockAfter: math.MaxInt,
		SlowStep: time.Millisecond, MaxSlow: time.Millisecond, Block: time.Second, MaxBlock: time.Second, MaxTracked: 1000}
	return auth.New(auth.Config{Realm: realm, Secret: nonceKey, Limits: never,
		Now: func() time.Time { return issued.Add(age) }})
}

// issuedNonce is the nonce the switch hands out at issued.
func issuedNonce(tb testing.TB) string {
	req := newRequest(false, "")
	chal, err := digest.ParseChallenge(authenticator(0).Challenge(req, false, false).GetHeader("WWW-Authenticate").Value())
	if err != nil {
		tb.Fatal(err)
	}
	return chal.Nonce
}

// newRequest is a REGISTER (or, for proxy auth, an INVITE) from a phone,
// carrying header as its credentials unless header is empty.
func newRequest(proxy bool, header string) *sip.Request {
	method, name := sip.REGISTER, "Authorization"
	if proxy {
		method, name = sip.INVITE, "Proxy-Authorization"
	}
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", Host: "pbx.example.com"})
	req.SetSource("192.0.2.10:5060")
	req.SetBody([]byte("v=0\r\n"))
	if header != "" {
		req.AppendHeader(sip.NewHeader(name, header))
	}
	return req
}

// answer returns header's credentials recomputed with the user's real
// password and the issued nonce, or "" when that is not possible.
func answer(header, nonce, method string, body []byte) string {
	cred, err := digest.ParseCredentials(header)
	if err != nil {
		return ""
	}
	pw, ok := passwords[cred.Username]
	if !ok {
		return ""
	}
	chal := &digest.Challenge{Realm: realm, Nonce: nonce, Algorithm: cred.Algorithm}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	got, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Username: cred.Username,
		Password: pw, Cnonce: cred.Cnonce, Count: max(cred.Nc, 1),
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }})
	if err != nil {
		return ""
	}
	return got.String()
}

// FuzzVerify gives auth.Verify arbitrary credentials, with or without proxy
// authentication, at any age of the nonce. It must not panic, and it may say
// OK or Stale only for the right password under a nonce it issued, judged
// by computing the digest from the plain password with icholy/digest.
func FuzzVerify(f *testing.F) {
	nonce := issuedNonce(f)
	dir := filepath.Join("..", "..", "testdata", "fuzz", "digest")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("seed corpus %s: %v", dir, err)
	}
	f.Add("", int64(0), false)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, proxy := range []bool{false, true} {
			f.Add(string(b), int64(0), proxy)
			if a := answer(string(b), nonce, newRequest(proxy, "").Method.String(), []byte("v=0\r\n")); a != "" {
				for _, age := range []time.Duration{0, 299 * time.Second, 5 * time.Minute, -2 * time.Minute, 1000 * time.Hour} {
					f.Add(a, int64(age), proxy)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, header string, age int64, proxy bool) {
		req := newRequest(proxy, header)
		res := authenticator(time.Duration(age)).Verify(req, proxy, lookup)
		if header == "" && res.Outcome != auth.Challenge {
			t.Fatalf("no credentials: %v, want challenge", res.Outcome)
		}
		if res.Delay < 0 || res.Outcome == auth.Blocked {
			t.Fatalf("limiter acted: %+v", res)
		}
		if res.Outcome != auth.OK && res.Outcome != auth.Stale {
			return
		}
		header = lowerParamNames(lws.Replace(header)) // SIP allows tabs and line breaks between parameters
		cred, err := digest.ParseCredentials(header)
		if err != nil {
			t.Fatalf("%v for credentials that do not parse: %v", res.Outcome, err)
		}
		want := answer(header, nonce, req.Method.String(), req.Body())
		wantCred, _ := digest.ParseCredentials(want)
		if cred.Nonce != nonce || want == "" || !strings.EqualFold(wantCred.Response, cred.Response) {
			t.Fatalf("%v without the right password under an issued nonce: %q", res.Outcome, header)
		}
		if res.User != cred.Username {
			t.Fatalf("%v for user %q, credentials name %q", res.Outcome, res.User, cred.Username)
		}
		fresh := time.Duration(age) >= -time.Minute && time.Duration(age) < 5*time.Minute
		if fresh != (res.Outcome == auth.OK) {
			t.Fatalf("nonce %v old: %v", time.Duration(age), res.Outcome)
		}
	})
}

// TestCredentialsAsPhonesWriteThem: the right password is accepted however
// a phone lays out its credentials.
func TestCredentialsAsPhonesWriteThem(t *testing.T) {
	chal := &digest.Challenge{Realm: realm, Nonce: issuedNonce(t), Algorithm: "MD5", QOP: []string{"auth"}}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:pbx.example.com",
		Username: "200", Password: "secret-200", Cnonce: "0a4f113b", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	base := cred.String()
	for name, header := range map[string]string{
		"as sent":            base,
		"no spaces":          strings.ReplaceAll(base, ", ", ","),
		"space before comma": strings.ReplaceAll(base, ", ", " , "),
		"tab after comma":    strings.ReplaceAll(base, ", ", ",\t"),
		"tab after scheme":   strings.Replace(base, "Digest ", "Digest\t", 1),
		"lower-case scheme":  strings.Replace(base, "Digest ", "digest ", 1),
		"upper-case hex":     strings.Replace(base, cred.Response, strings.ToUpper(cred.Response), 1),
		"quoted qop":         strings.Replace(base, "qop=auth", `qop="auth"`, 1),
		"quoted algorithm":   strings.Replace(base, "algorithm=MD5", `algorithm="MD5"`, 1),
	} {
		if res := authenticator(0).Verify(newRequest(false, header), false, lookup); res.Outcome != auth.OK {
			t.Errorf("%s: %v for %q", name, res.Outcome, header)
		}
	}
}

// lowerParamNames rewrites a credentials header the way a compliant parser
// reads it: parameter names lowercased (they are case-insensitive, RFC 7235
// §2.1) and unknown extension parameters dropped (any token is a legal name,
// e.g. "!"), because the reference parser this test judges by knows neither.
func lowerParamNames(h string) string {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return h
	}
	known := map[string]bool{"username": true, "realm": true, "nonce": true, "uri": true, "response": true,
		"algorithm": true, "cnonce": true, "opaque": true, "qop": true, "nc": true, "userhash": true}
	var params []string
	quoted, start := false, 0
	flush := func(end int) {
		p := strings.TrimSpace(rest[start:end])
		name, value, ok := strings.Cut(p, "=")
		if ok && known[strings.ToLower(strings.TrimSpace(name))] {
			params = append(params, strings.ToLower(strings.TrimSpace(name))+"="+value)
		} else if !ok && p != "" {
			params = append(params, p) // not a parameter at all: let the reference parser refuse it
		}
	}
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c == '"':
			quoted = !quoted
		case quoted && c == '\\':
			i++
		case !quoted && c == ',':
			flush(i)
			start = i + 1
		}
	}
	flush(len(rest))
	return scheme + " " + strings.Join(params, ",")
}
