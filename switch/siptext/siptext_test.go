package siptext

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
		if got := DisplayPlain(tc.header); got != tc.plain {
			t.Errorf("DisplayPlain(%q) = %q, want %q", tc.header, got, tc.plain)
		}
		if got := DisplayQuoted(tc.plain); got != tc.header {
			t.Errorf("DisplayQuoted(%q) = %q, want %q", tc.plain, got, tc.header)
		}
	}
	if got := DisplayQuoted("Alice\r\nX-Injected: 1"); got != "AliceX-Injected: 1" {
		t.Errorf("line break kept: %q", got)
	}
	if got := DisplayPlain(strings.Repeat("Ä", 400)); got != strings.Repeat("Ä", MaxName) {
		t.Errorf("a long name kept %d characters", utf8.RuneCountInString(got))
	}
}

func TestUser(t *testing.T) {
	for in, want := range map[string]string{
		"+4930123456": "+4930123456",
		"help.desk":   "help.desk",
		"a%20b":       "a%20b",
		"a>b":         "a%3Eb",
		`a"b c@d;e?f`: "a%22b%20c%40d%3Be%3Ff",
		"Zoë":         "Zo%C3%AB",
		"//x":         "%2F%2Fx", // sipgo reads sip:// as a path
	} {
		if got := User(in); got != want {
			t.Errorf("User(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever a name holds, the From header written from it is one line that
// sipgo parses back to the same name (less control characters, at most
// MaxName characters), and whatever a user part holds, the address stays
// the one written.
func FuzzHeaderText(f *testing.F) {
	for _, s := range []string{"Alice Smith", `Dan "The Man" Brown`, `a\`, "a\r\nVia: x", `"`, `\"`, "Zoë", "a>b;c@d", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return // names come from JSON, CSV and SIP, all UTF-8
		}
		h := sip.FromHeader{DisplayName: DisplayQuoted(text), Address: sip.Uri{Scheme: "sip", User: User(text), Host: "127.0.0.1"}, Params: sip.NewParams()}
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
		want := []rune(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, text))
		want = want[:min(len(want), MaxName)]
		if got := DisplayPlain(parsed); got != string(want) && strings.TrimSpace(string(want)) != "" {
			t.Fatalf("name %q went out as %q and came back as %q", text, value, got)
		}
		if uri.Host != "127.0.0.1" || uri.User != User(text) || len(params) != 0 {
			t.Fatalf("%q: the address came back as %v with %v", value, uri, params)
		}
	})
}
