package server

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
)

func TestBehindNAT(t *testing.T) {
	for _, tc := range []struct {
		contact, source string
		nat             bool
	}{
		{"sip:200@192.168.1.20:5062;transport=UDP", "192.168.1.20:5062", false},
		{"sip:200@192.168.1.20:5062;transport=UDP", "203.0.113.7:40123", true},
		{"sip:200@192.168.1.20", "192.168.1.20:5060", false},
		{"sip:200@192.168.1.20;transport=udp", "192.168.1.20:5062", true},
		{"sip:192.168.1.20:5062", "192.168.1.20:5062", false},
		{"sip:200@[fd00::20]:5062", "[fd00::20]:5062", false},
		{"sip:200@[fd00::20]", "[fd00::20]:5060", false},
		{"sip:200@[FD00::20]:5062", "[fd00::20]:5062", false},
		{"sips:200@phone.lan:5061", "phone.lan:5061", false},
		{"sip:a;b@192.168.1.20:5062", "192.168.1.20:5062", false}, // parsed in full
		{"sip:200@192.168.1.20:5062?x=a@b", "192.168.1.20:5062", false},
		{"not a uri", "192.168.1.20:5062", true},
		{"sip:200@192.168.1.20:5062", "no port", true},
	} {
		b := store.Binding{Contact: tc.contact, Source: tc.source}
		if got := behindNAT(&b); got != tc.nat {
			t.Errorf("behindNAT(%q from %q) = %v, want %v", tc.contact, tc.source, got, tc.nat)
		}
	}
}

// FuzzContactAddr: for a contact as the registrar keeps it (a URI sipgo
// parsed and printed), the quick reading agrees with sipgo's full parse
// wherever it answers; any other text must merely not crash it.
func FuzzContactAddr(f *testing.F) {
	for _, s := range []string{"sip:200@192.168.1.20:5062;transport=UDP", "sip:[fd00::20]:5062", "sips:h", "sip:a@b@c", "sip:[::1]", "sip:x?y@z:1", "sip:0?[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		contactAddr(raw)
		var u sip.Uri
		if sip.ParseUri(raw, &u) != nil {
			return
		}
		kept := u.String()
		if sip.ParseUri(kept, &u) != nil {
			return // the registrar refuses a contact that does not read back
		}
		host, port, ok := contactAddr(kept)
		if ok && (host != strings.Trim(u.Host, "[]") || port != u.Port) {
			t.Fatalf("contactAddr(%q) = %q %d; sipgo reads %q %d", kept, host, port, u.Host, u.Port)
		}
	})
}

func BenchmarkKeepAliveCheck(b *testing.B) {
	bind := store.Binding{Contact: "sip:200@192.168.1.20:5062;transport=UDP", Source: "203.0.113.7:40123", Transport: "UDP"}
	b.ReportAllocs()
	for b.Loop() {
		if !behindNAT(&bind) {
			b.Fatal("not behind NAT")
		}
	}
}
