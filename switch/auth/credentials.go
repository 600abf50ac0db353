package auth

import (
	"errors"
	"strings"
)

// credentials is a parsed Authorization or Proxy-Authorization header
// (RFC 3261 §25.1 digest-response, RFC 7616 §3.4). Values are substrings of
// the header, so parsing a well-formed header allocates nothing.
type credentials struct {
	username  string
	realm     string
	nonce     string
	uri       string
	response  string
	algorithm string
	cnonce    string
	opaque    string
	qop       string
	nc        string // exactly as sent: the response covers these 8 hex digits
}

var errCredentials = errors.New("malformed digest credentials")

// parseCredentials parses `Digest k=v, k="v", …`. Parameter names are
// case-insensitive, values are tokens or quoted strings; a parameter the
// switch uses may appear only once, others are skipped.
func parseCredentials(s string) (credentials, error) {
	var c credentials
	const scheme = "digest"
	if len(s) <= len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) || !isSpace(s[len(scheme)]) {
		return c, errCredentials
	}
	i := len(scheme)
	var seen uint16
	for n := 0; ; n++ {
		i = skipSpace(s, i)
		if n > 0 {
			if i == len(s) {
				break
			}
			if s[i] != ',' {
				return c, errCredentials
			}
			i = skipSpace(s, i+1)
		}
		start := i
		for i < len(s) && isToken(s[i]) {
			i++
		}
		key := s[start:i]
		if key == "" {
			return c, errCredentials
		}
		i = skipSpace(s, i)
		if i == len(s) || s[i] != '=' {
			return c, errCredentials
		}
		i = skipSpace(s, i+1)
		var val string
		var err error
		if val, i, err = paramValue(s, i); err != nil {
			return c, err
		}
		field, bit := c.field(key)
		if field == nil {
			continue
		}
		if seen&bit != 0 {
			return c, errCredentials
		}
		seen |= bit
		*field = val
	}
	if c.nc != "" && !isNonceCount(c.nc) {
		return c, errCredentials
	}
	return c, nil
}

// field returns where the value of key goes, and a bit to spot repeats.
func (c *credentials) field(key string) (*string, uint16) {
	switch {
	case strings.EqualFold(key, "username"):
		return &c.username, 1 << 0
	case strings.EqualFold(key, "realm"):
		return &c.realm, 1 << 1
	case strings.EqualFold(key, "nonce"):
		return &c.nonce, 1 << 2
	case strings.EqualFold(key, "uri"):
		return &c.uri, 1 << 3
	case strings.EqualFold(key, "response"):
		return &c.response, 1 << 4
	case strings.EqualFold(key, "algorithm"):
		return &c.algorithm, 1 << 5
	case strings.EqualFold(key, "cnonce"):
		return &c.cnonce, 1 << 6
	case strings.EqualFold(key, "opaque"):
		return &c.opaque, 1 << 7
	case strings.EqualFold(key, "qop"):
		return &c.qop, 1 << 8
	case strings.EqualFold(key, "nc"):
		return &c.nc, 1 << 9
	}
	return nil, 0
}

// paramValue reads a token or a quoted string starting at s[i].
func paramValue(s string, i int) (string, int, error) {
	if i < len(s) && s[i] == '"' {
		return quotedString(s, i+1)
	}
	start := i
	for i < len(s) && isToken(s[i]) {
		i++
	}
	if i == start {
		return "", i, errCredentials
	}
	return s[start:i], i, nil
}

// quotedString reads the rest of a quoted string whose opening quote is just
// before s[i]; escapes (\x) are undone, which allocates only when there are any.
func quotedString(s string, i int) (string, int, error) {
	start := i
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			return s[start:i], i + 1, nil
		case '\\':
			return unescape(s, start)
		}
	}
	return "", i, errCredentials
}

func unescape(s string, i int) (string, int, error) {
	var b strings.Builder
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			i++
			if i == len(s) {
				return "", i, errCredentials
			}
		}
		b.WriteByte(s[i])
	}
	return "", i, errCredentials
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// isToken reports whether b may appear in an RFC 3261 token.
func isToken(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", b) >= 0
}

// isNonceCount reports whether v is 8 hex digits (RFC 7616 nc-value).
func isNonceCount(v string) bool {
	if len(v) != 8 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return false
		}
	}
	return true
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}
