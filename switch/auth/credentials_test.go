package auth

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/icholy/digest"
)

// Authorization headers as phones and SIP stacks send them.
var realCredentials = []string{
	// SIPp (register_auth.xml)
	`Digest username="1000",realm="switchboard",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="GOscLoTKco7hVkTBZX4Mryd0PWv8HfZG",response="a5ff4a8bd3dbb8b1c0e1b8d0c3dd7a1e",algorithm=MD5`,
	// Yealink
	`Digest username="200", realm="switchboard", nonce="GOscLoTKco7hVkTBZX4Mryd0PWv8HfZG", uri="sip:pbx.example.com", response="8e9c5c4bb2a0b4ad1b1bd6a4f5c0c2cd", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`,
	// Polycom (no spaces after commas, opaque)
	`Digest username="201",realm="switchboard",nonce="abc",uri="sip:10.0.0.1;transport=tcp",response="0123456789abcdef0123456789abcdef",cnonce="xyz",qop=auth,nc=0000000a,opaque="5ccc069c403ebaf9f0171e9517f40e41",algorithm=MD5`,
	// RFC 8760 SHA-256, tab separators, quoted algorithm/qop (some stacks quote them)
	"Digest\tusername=\"202\",\trealm=\"switchboard\", nonce=\"n\", uri=\"sip:x\", algorithm=\"SHA-256\", qop=\"auth\", nc=00000002, cnonce=\"c\", response=\"" + strings.Repeat("ab", 32) + "\"",
	// RFC 2069 style: no qop
	`DIGEST USERNAME="203", REALM="switchboard", NONCE="n", URI="sip:x", RESPONSE="0123456789abcdef0123456789abcdef"`,
	// escapes in a quoted string
	`Digest username="a\"b\\c", realm="switchboard", nonce="n", uri="sip:x", response="r"`,
	// sipgo's own client (icholy/digest)
	`Digest username="204", realm="switchboard", nonce="n", uri="sip:127.0.0.1", algorithm=MD5, cnonce="c", qop=auth, nc=00000001, response="r"`,
}

func TestParseCredentials(t *testing.T) {
	c, err := parseCredentials(realCredentials[2])
	if err != nil {
		t.Fatal(err)
	}
	want := credentials{username: "201", realm: "switchboard", nonce: "abc", uri: "sip:10.0.0.1;transport=tcp",
		response: "0123456789abcdef0123456789abcdef", cnonce: "xyz", qop: "auth", nc: "0000000a",
		opaque: "5ccc069c403ebaf9f0171e9517f40e41", algorithm: "MD5"}
	if c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	for _, h := range realCredentials {
		if _, err := parseCredentials(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if c, _ := parseCredentials(realCredentials[3]); c.algorithm != "SHA-256" || c.qop != "auth" || c.username != "202" {
		t.Errorf("quoted algorithm and qop: %+v", c)
	}
	if c, _ := parseCredentials(realCredentials[4]); c.username != "203" || c.response == "" {
		t.Errorf("upper-case names: %+v", c)
	}
	if c, _ := parseCredentials(realCredentials[5]); c.username != `a"b\c` {
		t.Errorf("escapes: %q", c.username)
	}
	for _, bad := range []string{
		``, `Digest`, `Digest `, `Basic dXNlcjpwYXNz`, `Digestusername="a"`,
		`Digest username`, `Digest username=`, `Digest username="a`, `Digest username="a\`,
		`Digest username="a" realm="b"`, `Digest username="a",`, `Digest ,username="a"`,
		`Digest username="a", username="b"`, `Digest username="a", USERNAME="b"`,
		`Digest nc=1`, `Digest nc=0000000g`, `Digest username=a b`, `Digest =x`,
	} {
		if c, err := parseCredentials(bad); err == nil {
			t.Errorf("%q parsed as %+v, want an error", bad, c)
		}
	}
}

func TestParseCredentialsAllocatesNothing(t *testing.T) {
	h := realCredentials[1]
	if n := testing.AllocsPerRun(100, func() { parseCredentials(h) }); n != 0 {
		t.Fatalf("%v allocations per parse", n)
	}
}

// FuzzParseCredentials checks that the parser never panics, and agrees with
// icholy/digest (which sipgo's client uses to write these headers) wherever
// that parser accepts the input: it is stricter than ours only about case,
// whitespace and token characters, never different in meaning.
func FuzzParseCredentials(f *testing.F) {
	for _, h := range realCredentials {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c, err := parseCredentials(h)
		if err != nil || !utf8.ValidString(h) {
			return
		}
		ref, refErr := digest.ParseCredentials(h)
		if refErr != nil {
			return
		}
		for _, f := range []struct{ name, ref, ours string }{
			{"username", ref.Username, c.username}, {"realm", ref.Realm, c.realm}, {"nonce", ref.Nonce, c.nonce},
			{"uri", ref.URI, c.uri}, {"response", ref.Response, c.response}, {"algorithm", ref.Algorithm, c.algorithm},
			{"cnonce", ref.Cnonce, c.cnonce}, {"opaque", ref.Opaque, c.opaque}, {"qop", ref.QOP, c.qop},
		} {
			if f.ref != "" && f.ref != f.ours {
				t.Fatalf("%s: icholy/digest %q, ours %q", f.name, f.ref, f.ours)
			}
		}
		if ref.Nc != 0 {
			if n, err := strconv.ParseInt(c.nc, 16, 64); err != nil || int(n) != ref.Nc {
				t.Fatalf("nc: icholy/digest %d, ours %q", ref.Nc, c.nc)
			}
		}
	})
}
