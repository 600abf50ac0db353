package call

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseReferTo(t *testing.T) {
	tests := []struct {
		in       string
		user     string // "" = refused
		replaces bool
	}{
		{"<sip:202@192.168.1.10>", "202", false},
		{`"Carol" <sip:202@pbx.example.com;user=phone>`, "202", false},
		{"sip:202@10.0.0.1:5060", "202", false},
		{"  <sip:202@10.0.0.1;transport=udp>;x=1 ", "202", false},
		{"<sip:202@pbx;method=invite>", "202", false},
		{"<sips:%32%30%32@pbx.example.com>", "202", false},
		{"<sip:%2A97@pbx>", "*97", false},
		{"<sip:202@pbx?Replaces=1%40h%3Bto-tag%3D2%3Bfrom-tag%3D3>", "202", true},
		{"<sip:202@pbx?replaces=x>", "202", true},
		{"<sip:202@pbx;method=BYE>", "", false},
		{"<tel:+15551234>", "", false},
		{"<sip:pbx.example.com>", "", false},
		{"<sip:20 2@pbx>", "", false},
		{"<sip:%zz@pbx>", "", false},
		{"<sip:%3Cb%3E@pbx>", "", false},
		{"<sip:" + strings.Repeat("1", 65) + "@pbx>", "", false},
		{"<sip:202@", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := parseReferTo(tt.in)
		if tt.user == "" {
			if err == nil {
				t.Errorf("parseReferTo(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.user != tt.user || got.replaces != tt.replaces {
			t.Errorf("parseReferTo(%q) = %+v, %v; want user %q replaces %v", tt.in, got, err, tt.user, tt.replaces)
		}
	}
}

// FuzzParseReferTo: whatever a phone puts in Refer-To, parsing neither
// panics nor lets through a user that routing or a log line could choke on.
func FuzzParseReferTo(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/fuzz/FuzzParseReferTo/*")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseReferTo(v)
		if err == nil && !dialable(got.user) {
			t.Fatalf("parseReferTo(%q) accepted user %q", v, got.user)
		}
	})
}
