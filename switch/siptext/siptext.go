// Package siptext moves text between the switch and SIP headers. Inside the
// switch a name is plain text (call records, events, voicemail, the UI);
// sipgo does neither direction itself: it keeps a parsed display name as it
// was between the quotes, escapes included, and writes display names and
// URI user parts back as they are.
package siptext

import (
	"strings"
	"unicode"
)

// MaxName is how many characters of a caller's display name the switch
// keeps: enough for any real name, and a mail subject or a phone's screen
// never gets a kilobyte of it.
const MaxName = 100

// DisplayPlain is the plain text of a display name sipgo parsed: the
// quoted-pair escapes of RFC 3261 §25.1 undone, control characters
// dropped, at most MaxName characters.
func DisplayPlain(s string) string {
	if len(s) <= MaxName && strings.IndexFunc(s, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) < 0 {
		return s
	}
	var b strings.Builder
	escaped, n := false, 0
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
			continue
		}
		if unicode.IsControl(r) {
			continue
		}
		if n++; n > MaxName {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DisplayQuoted is a plain-text name as it goes between a header's quotes:
// backslashes and quotes escaped, control characters (which no
// quoted-string may carry as they are) dropped.
func DisplayQuoted(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r == '\\' || r == '"' || unicode.IsControl(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
		case unicode.IsControl(r):
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// User is s as the user part of a SIP URI: characters RFC 3261 §25.1 does
// not allow there as they are (such as > " @ ; or a space) percent-escaped.
func User(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !userChar(r) }) < 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; userChar(rune(c)) {
			b.WriteByte(c)
		} else {
			b.Write([]byte{'%', hex[c>>4], hex[c&15]})
		}
	}
	return b.String()
}

// userChar: unreserved, and the user-unreserved marks but ; ? and /, which
// sipgo's parser takes for URI parameters, headers or "sip://"; % is kept,
// as the text may be escaped already.
func userChar(r rune) bool {
	return r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("-_.!~*'()&=+$,%", r))
}
