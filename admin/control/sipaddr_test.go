package control

import "testing"

// A forward target is written into the INVITE as it is: only SIP addresses
// whose characters may stand there unescaped pass.
func TestSIPAddrPattern(t *testing.T) {
	for addr, want := range map[string]bool{
		"sip:help@example.com":                      true,
		"sips:help@example.com:5061;transport=tls":  true,
		"sip:192.0.2.1":                             true,
		"sip:help@[2001:db8::1]:5060;transport=tcp": true,
		"sip:+4930123456@gw.example.com;user=phone": true,
		"sip:help.desk-2@example.com;lr;x=1":        true,
		"sip:a%20b@example.com":                     true,
		"help@example.com":                          false,
		"sip:a>b@example.com":                       false,
		`sip:a"b@example.com`:                       false,
		"sip:help@example.com?Subject=x":            false,
		"sip:help@example.com;x=a>b":                false,
		"sip:help@example.com;x=a b":                false,
		"sip:a\x00b@example.com":                    false,
		"sip:help@example.com\r\nVia: x":            false,
		"sip:help@exa<mple.com":                     false,
		"sip:help@example.com;":                     false,
	} {
		if got := sipAddrPattern.MatchString(addr); got != want {
			t.Errorf("%q: %v, want %v", addr, got, want)
		}
	}
}
