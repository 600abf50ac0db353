// Package auth checks SIP digest credentials (RFC 3261 §22, RFC 8760
// SHA-256) for REGISTER and, later, INVITE. Nonces are stateless (a time
// and an HMAC), so the switch keeps no per-challenge memory; failures are
// counted per source address and slowed, then refused, by Limiter.
package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Secrets are the stored digest secrets of one SIP identity.
type Secrets struct {
	HA1MD5    string
	HA1SHA256 string
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
	Now        func() time.Time
}

// Authenticator verifies digest credentials. Safe for concurrent use.
type Authenticator struct {
	cfg     Config
	Limiter *Limiter
	dummy   Secrets // compared against for unknown users, so they cost the same
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
	return &Authenticator{
		cfg:     cfg,
		Limiter: NewLimiter(cfg.Limits, cfg.Now),
		dummy:   Secrets{HA1MD5: strings.Repeat("0", 32), HA1SHA256: strings.Repeat("0", 64)},
	}
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
// over Authorization (REGISTER).
func (a *Authenticator) Verify(req *sip.Request, proxy bool, lookup Lookup) Result {
	ip := SourceIP(req)
	if a.Limiter.Blocked(ip) {
		return Result{Outcome: Blocked}
	}
	name, _ := headerNames(proxy)
	h := req.GetHeader(name)
	if h == nil {
		return Result{Outcome: Challenge}
	}
	cred, err := digest.ParseCredentials(spaceLWS(h.Value()))
	if err != nil || cred.Username == "" || cred.Nonce == "" || cred.Response == "" {
		return Result{Outcome: Forbidden, Delay: a.Limiter.Fail(ip)}
	}
	if cred.Realm != a.cfg.Realm {
		return Result{Outcome: Challenge}
	}
	fresh, valid := a.checkNonce(cred.Nonce)
	if !valid {
		return Result{Outcome: Challenge}
	}
	newHash, ok := hashFor(cred.Algorithm)
	if !ok {
		return Result{Outcome: Challenge}
	}
	secrets, known := lookup(cred.Username)
	if !known {
		secrets = a.dummy
	}
	ha1 := secrets.HA1MD5
	if strings.EqualFold(cred.Algorithm, SHA256) {
		ha1 = secrets.HA1SHA256
	}
	want := response(newHash(), ha1, cred, req.Method.String(), req.Body())
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cred.Response))) != 1 {
		return Result{Outcome: Forbidden, Delay: a.Limiter.Fail(ip)}
	}
	if !fresh {
		return Result{User: cred.Username, Outcome: Stale}
	}
	return Result{User: cred.Username, Outcome: OK}
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
	m := hmac.New(sha256.New, a.cfg.Secret)
	m.Write(ts)
	m.Write([]byte(a.cfg.Realm))
	copy(out, m.Sum(nil))
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

func hashFor(alg string) (func() hash.Hash, bool) {
	switch strings.ToUpper(alg) {
	case "", MD5:
		return md5.New, true
	case SHA256:
		return sha256.New, true
	}
	return nil, false
}

// response computes the expected digest response for cred (RFC 2617/7616).
func response(h hash.Hash, ha1 string, cred *digest.Credentials, method string, body []byte) string {
	sum := func(parts ...string) string {
		h.Reset()
		for i, p := range parts {
			if i > 0 {
				h.Write([]byte{':'})
			}
			h.Write([]byte(p))
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	a2 := sum(method, cred.URI)
	switch cred.QOP {
	case "":
		return sum(ha1, cred.Nonce, a2)
	case "auth-int":
		h.Reset()
		h.Write(body)
		a2 = sum(method, cred.URI, hex.EncodeToString(h.Sum(nil)))
	}
	nc := strconv.FormatInt(int64(cred.Nc), 16)
	nc = strings.Repeat("0", max(0, 8-len(nc))) + nc
	return sum(ha1, cred.Nonce, nc, cred.Cnonce, cred.QOP, a2)
}

// SourceIP is the address the request really came from, without the port.
func SourceIP(req *sip.Request) string {
	src := req.Source()
	if host, _, err := net.SplitHostPort(src); err == nil {
		return host
	}
	return src
}
