// Package auth checks SIP digest credentials (RFC 3261 §22, RFC 8760
// SHA-256) for REGISTER and, later, INVITE. Nonces are stateless (a time
// and an HMAC), so the switch keeps no per-challenge memory; failures are
// counted per source address and slowed, then refused, by Limiter.
package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Secrets are the stored digest secrets of one SIP identity.
type Secrets struct {
	HA1MD5    [md5.Size]byte    // MD5(user:realm:password)
	HA1SHA256 [sha256.Size]byte // SHA-256(user:realm:password), RFC 8760
	// WebSocketOnly: these credentials count only over a WebSocket (a
	// webphone's, whose HA1 a browser holds); anywhere else they are refused
	// like a wrong password, so a copied HA1 calls nobody.
	WebSocketOnly bool
}

// IsWebSocket reports whether a SIP transport is a WebSocket's (RFC 7118).
func IsWebSocket(transport string) bool {
	return strings.EqualFold(transport, "WSS") || strings.EqualFold(transport, "WS")
}

// Lookup finds the secrets of a SIP user; ok is false for an unknown user.
type Lookup func(user string) (s Secrets, ok bool)

// Outcome is the verdict on one request.
type Outcome int

const (
	Challenge Outcome = iota // no usable credentials: answer 401/407 with a fresh nonce
	Stale                    // right password, expired nonce: challenge with stale=true
	OK                       // authenticated
	Forbidden                // unknown user or wrong password (deliberately the same)
	Blocked                  // this source failed too often: drop silently
)

func (o Outcome) String() string {
	return [...]string{"challenge", "stale", "ok", "forbidden", "blocked"}[o]
}

// Algorithms the switch can verify, in the order it offers them.
const (
	SHA256 = "SHA-256"
	MD5    = "MD5"
)

// Config sets up an Authenticator.
type Config struct {
	Realm    string
	Secret   []byte        // HMAC key for nonces; keep it across restarts
	NonceTTL time.Duration // after this a nonce is stale (default 5 min)
	// Algorithms are offered in this order, one challenge header each.
	// Default MD5 alone: some phones (baresip 1.x and other libre-based
	// ones) fail the whole 401/407 when any challenge names an algorithm
	// they lack, so offering SHA-256 too must be chosen knowingly.
	Algorithms []string
	Limits     Limits
	// MaxDelayed is how many failed-authentication answers all SIP paths
	// together hold back at once (default 256); beyond it they are dropped,
	// so a flood of bad credentials cannot pile up sleeping goroutines.
	MaxDelayed int
	Now        func() time.Time
}

// Authenticator verifies digest credentials. Safe for concurrent use.
type Authenticator struct {
	cfg     Config
	Limiter *Limiter
	dummy   Secrets   // compared against for unknown users, so they cost the same
	macs    sync.Pool // of *nonceMAC: keyed HMACs, reset rather than rebuilt per nonce
	delayed chan struct{}
}

// nonceMAC is a keyed HMAC-SHA256 with room for its input and output, so
// signing a nonce allocates nothing.
type nonceMAC struct {
	h   hash.Hash
	in  []byte
	sum []byte
}

// New returns an Authenticator for cfg.
func New(cfg Config) *Authenticator {
	if cfg.NonceTTL == 0 {
		cfg.NonceTTL = 5 * time.Minute
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{MD5}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxDelayed == 0 {
		cfg.MaxDelayed = 256
	}
	a := &Authenticator{
		cfg:     cfg,
		Limiter: NewLimiter(cfg.Limits, cfg.Now),
		dummy:   Secrets{},
		delayed: make(chan struct{}, cfg.MaxDelayed),
	}
	a.macs.New = func() any {
		return &nonceMAC{h: hmac.New(sha256.New, cfg.Secret), in: make([]byte, 0, 8+len(cfg.Realm)), sum: make([]byte, 0, sha256.Size)}
	}
	return a
}

// Realm is the digest realm.
func (a *Authenticator) Realm() string { return a.cfg.Realm }

// headerNames returns the credentials and challenge header names.
func headerNames(proxy bool) (cred, chal string) {
	if proxy {
		return "Proxy-Authorization", "Proxy-Authenticate"
	}
	return "Authorization", "WWW-Authenticate"
}

// Result is the verdict on one request.
type Result struct {
	User    string // the authenticated digest username (OK, Stale)
	Outcome Outcome
	Delay   time.Duration // with Forbidden: wait this long before answering
}

// Verify checks req's credentials. proxy selects Proxy-Authorization (INVITE)
// over Authorization (REGISTER). A failure counts against the request's
// source address (see Limiter); the Result says how long to hold back the
// answer.
func (a *Authenticator) Verify(req *sip.Request, proxy bool, lookup Lookup) Result {
	r := a.Check(req, proxy, lookup)
	if r.Outcome == Forbidden {
		r.Delay = a.Limiter.Fail(SourceIP(req))
	}
	return r
}

// Check is Verify without counting a failure, for a caller that hands every
// Forbidden on to Verify (the registrar's stateless path).
func (a *Authenticator) Check(req *sip.Request, proxy bool, lookup Lookup) Result {
	ip := SourceIP(req)
	if a.Limiter.Blocked(ip) {
		return Result{Outcome: Blocked}
	}
	name, _ := headerNames(proxy)
	h := findHeader(req, name)
	if h == nil {
		return Result{Outcome: Challenge}
	}
	cred, err := parseCredentials(spaceLWS(h.Value()))
	if err != nil || cred.username == "" || cred.nonce == "" || cred.response == "" ||
		(cred.qop != "" && (cred.nc == "" || cred.cnonce == "")) {
		return Result{Outcome: Forbidden}
	}
	if cred.realm != a.cfg.Realm {
		return Result{Outcome: Challenge}
	}
	fresh, valid := a.checkNonce(cred.nonce)
	if !valid {
		return Result{Outcome: Challenge}
	}
	var sha bool
	switch {
	case cred.algorithm == "" || strings.EqualFold(cred.algorithm, MD5):
	case strings.EqualFold(cred.algorithm, SHA256):
		sha = true
	default:
		return Result{Outcome: Challenge}
	}
	if cred.qop != "" && cred.qop != "auth" && cred.qop != "auth-int" {
		return Result{Outcome: Challenge}
	}
	secrets, known := lookup(cred.username)
	if !known {
		secrets = a.dummy
	}
	var ha1 [2 * sha256.Size]byte // the hex HA1 the response is made of
	n := hex.Encode(ha1[:], secrets.HA1MD5[:])
	if sha {
		n = hex.Encode(ha1[:], secrets.HA1SHA256[:])
	}
	var want [2 * sha256.Size]byte
	if !equalHex(response(&want, sha, ha1[:n], &cred, req.Method.String(), req.Body()), cred.response) || !known ||
		(secrets.WebSocketOnly && !IsWebSocket(req.Transport())) {
		return Result{Outcome: Forbidden}
	}
	if !fresh {
		return Result{User: cred.username, Outcome: Stale}
	}
	return Result{User: cred.username, Outcome: OK}
}

// Challenge builds a 401 (or 407 for proxy) carrying one challenge per
// offered algorithm, each with a fresh nonce.
func (a *Authenticator) Challenge(req *sip.Request, proxy, stale bool) *sip.Response {
	code, reason := 401, "Unauthorized"
	if proxy {
		code, reason = 407, "Proxy Authentication Required"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	_, hname := headerNames(proxy)
	nonce := a.newNonce()
	for _, alg := range a.cfg.Algorithms {
		var b strings.Builder
		b.WriteString(`Digest realm="`)
		b.WriteString(a.cfg.Realm)
		b.WriteString(`", nonce="`)
		b.WriteString(nonce)
		b.WriteString(`", algorithm=`)
		b.WriteString(alg)
		b.WriteString(`, qop="auth"`)
		if stale {
			b.WriteString(", stale=true")
		}
		res.AppendHeader(sip.NewHeader(hname, b.String()))
	}
	return res
}

// nonce layout: 8 bytes unix nanoseconds, 16 bytes HMAC-SHA256 truncated.
func (a *Authenticator) newNonce() string {
	var raw [24]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(a.cfg.Now().UnixNano()))
	a.sign(raw[:8], raw[8:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (a *Authenticator) sign(ts, out []byte) {
	m := a.macs.Get().(*nonceMAC)
	m.h.Reset()
	m.in = append(append(m.in[:0], ts...), a.cfg.Realm...)
	m.h.Write(m.in)
	m.sum = m.h.Sum(m.sum[:0])
	copy(out, m.sum)
	a.macs.Put(m)
}

// checkNonce reports whether nonce was made by us (valid) and is still young (fresh).
func (a *Authenticator) checkNonce(nonce string) (fresh, valid bool) {
	var raw [24]byte
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != len(raw) {
		return false, false
	}
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce)); err != nil {
		return false, false
	}
	var mac [16]byte
	a.sign(raw[:8], mac[:])
	if !hmac.Equal(mac[:], raw[8:]) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	age := a.cfg.Now().Sub(issued)
	return age >= -time.Minute && age < a.cfg.NonceTTL, true
}

// response computes into dst the expected digest response for cred, as
// lowercase hex (RFC 2617 §3.2.2, RFC 7616 §3.4.1), without allocating.
func response(dst *[2 * sha256.Size]byte, sha bool, ha1 []byte, cred *credentials, method string, body []byte) []byte {
	var buf [512]byte // grows onto the heap only for very long URIs
	var a2, hbody [2 * sha256.Size]byte
	b := append(append(append(buf[:0], method...), ':'), cred.uri...)
	if cred.qop == "auth-int" {
		b = append(append(b, ':'), hexHash(&hbody, sha, body)...)
	}
	ha2 := hexHash(&a2, sha, b)
	b = append(append(append(append(buf[:0], ha1...), ':'), cred.nonce...), ':')
	if cred.qop != "" {
		b = append(append(b, cred.nc...), ':')
		b = append(append(b, cred.cnonce...), ':')
		b = append(append(b, cred.qop...), ':')
	}
	return hexHash(dst, sha, append(b, ha2...))
}

// hexHash writes the lowercase hex MD5 or SHA-256 of b into dst.
func hexHash(dst *[2 * sha256.Size]byte, sha bool, b []byte) []byte {
	if sha {
		sum := sha256.Sum256(b)
		return dst[:hex.Encode(dst[:], sum[:])]
	}
	sum := md5.Sum(b)
	return dst[:hex.Encode(dst[:], sum[:])]
}

// equalHex compares the expected lowercase hex want with the response a
// phone sent, ignoring the case of its letters, in time independent of
// where they differ.
func equalHex(want []byte, got string) bool {
	if len(want) != len(got) {
		return false
	}
	var diff byte
	for i := 0; i < len(got); i++ {
		g := got[i]
		if 'A' <= g && g <= 'Z' {
			g += 'a' - 'A'
		}
		diff |= want[i] ^ g
	}
	return diff == 0
}

// findHeader is req.GetHeader(name) without its cost: sipgo lowercases
// (and so copies) the name of every header it passes.
func findHeader(req *sip.Request, name string) sip.Header {
	for _, h := range req.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return h
		}
	}
	return nil
}

// SourceIP is the address the request really came from, without the port.
func SourceIP(req *sip.Request) string {
	src := req.Source()
	if host, _, err := net.SplitHostPort(src); err == nil {
		return host
	}
	return src
}

// spaceLWS turns tabs and line breaks outside quoted strings into spaces:
// SIP allows them around the commas of a credentials list (RFC 3261 §25.1),
// the digest parser only accepts spaces.
func spaceLWS(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	b := []byte(s)
	quoted, escaped := false, false
	for i, c := range b {
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '\t' || c == '\r' || c == '\n'):
			b[i] = ' '
		}
	}
	return string(b)
}

// maxDelay bounds how long one failed answer is held back.
const maxDelay = 2 * time.Second

// HoldBack waits out a failed authentication's Delay (at most 2 s) before
// the refusal is sent. False means too many answers are held back already:
// drop this one rather than keep another goroutine sleeping.
func (a *Authenticator) HoldBack(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case a.delayed <- struct{}{}:
		time.Sleep(min(d, maxDelay))
		<-a.delayed
		return true
	default:
		return false
	}
}
