package call

import (
	"strings"
	"unicode"
)

// A display name is kept as plain text (call records, events, voicemail)
// and quoted only where it goes into a SIP header. sipgo does neither: it
// keeps a parsed display name as it was between the quotes, escapes
// included, and writes one back between quotes as it is.

// displayFromHeader is the plain text of a display name sipgo parsed: the
// quoted-pair escapes of RFC 3261 §25.1 undone, control characters dropped.
func displayFromHeader(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) < 0 {
		return s
	}
	var b strings.Builder
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
			continue
		}
		if !unicode.IsControl(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// displayForHeader is a plain-text name as it goes between a header's
// quotes: backslashes and quotes escaped, control characters (which no
// quoted-string may carry as they are) dropped.
func displayForHeader(s string) string {
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
