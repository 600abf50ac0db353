package store

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendBindingsJSON appends list as the JSON that encoding/json makes of
// it (the same field names and omitempty rules, see Binding), several times
// faster and without reflection: the registrar rewrites every refreshed
// device's bindings each flush, thousands a second under load. Times that
// encoding/json would refuse (years outside 0–9999) cannot occur here: a
// binding's times are within hours of now.
func appendBindingsJSON(b []byte, list []Binding) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendBindingJSON(b, &list[i])
	}
	return append(b, ']')
}

func appendBindingJSON(b []byte, x *Binding) []byte {
	b = append(b, `{"contact":`...)
	b = appendJSONString(b, x.Contact)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, x.Source)
	b = append(b, `,"transport":`...)
	b = appendJSONString(b, x.Transport)
	b = append(b, `,"expires":`...)
	b = appendJSONTime(b, x.Expires)
	b = append(b, `,"call_id":`...)
	b = appendJSONString(b, x.CallID)
	b = append(b, `,"cseq":`...)
	b = strconv.AppendUint(b, uint64(x.CSeq), 10)
	if x.UserAgent != "" {
		b = append(b, `,"user_agent":`...)
		b = appendJSONString(b, x.UserAgent)
	}
	if x.Instance != "" {
		b = append(b, `,"instance":`...)
		b = appendJSONString(b, x.Instance)
	}
	b = append(b, `,"updated":`...)
	b = appendJSONTime(b, x.Updated)
	return append(b, '}')
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does: control characters,
// quotes, backslashes, <, >, &, U+2028 and U+2029 escaped, invalid UTF-8
// replaced by U+FFFD. Phones choose some of these strings (User-Agent).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
