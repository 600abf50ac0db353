package call

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
)

func TestDisplayName(t *testing.T) {
	for _, tc := range []struct{ header, plain string }{
		{`Alice Smith`, `Alice Smith`},
		{`Dan \"The Man\" Brown`, `Dan "The Man" Brown`},
		{`back\\slash`, `back\slash`},
		{`Zoë Müller`, `Zoë Müller`},
	} {
		if got := displayFromHeader(tc.header); got != tc.plain {
			t.Errorf("displayFromHeader(%q) = %q, want %q", tc.header, got, tc.plain)
		}
		if got := displayForHeader(tc.plain); got != tc.header {
			t.Errorf("displayForHeader(%q) = %q, want %q", tc.plain, got, tc.header)
		}
	}
	if got := displayForHeader("Alice\r\nX-Injected: 1"); got != "AliceX-Injected: 1" {
		t.Errorf("line break kept: %q", got)
	}
}

// Whatever a name holds, the From header written from it is one line that
// sipgo parses back to the same name (less control characters).
func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"Alice Smith", `Dan "The Man" Brown`, `a\`, "a\r\nVia: x", `"`, `\"`, "Zoë"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			return // names come from JSON, CSV and SIP, all UTF-8
		}
		h := sip.FromHeader{DisplayName: displayForHeader(name), Address: sip.Uri{Scheme: "sip", User: "200", Host: "127.0.0.1"}, Params: sip.NewParams()}
		value := h.Value()
		if strings.ContainsAny(value, "\r\n") {
			t.Fatalf("line break in %q", value)
		}
		var uri sip.Uri
		params := sip.NewParams()
		parsed, err := sip.ParseAddressValue(value, &uri, &params)
		if err != nil {
			t.Fatalf("%q does not parse: %v", value, err)
		}
		want := strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, name)
		if got := displayFromHeader(parsed); got != want && strings.TrimSpace(want) != "" {
			t.Fatalf("name %q went out as %q and came back as %q", name, value, got)
		}
		if uri.User != "200" {
			t.Fatalf("%q: the address came back as %v", value, uri)
		}
	})
}
