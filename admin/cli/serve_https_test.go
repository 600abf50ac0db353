package cli

import (
	"strings"
	"testing"
)

func TestServeHTTPSFlag(t *testing.T) {
	_, _, stderr, served := execute(t, "--data", t.TempDir(), "serve", "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0")
	if served == nil || served.HTTPS != "0.0.0.0:8443" {
		t.Fatalf("default --https: %+v %s", served, stderr)
	}
	_, _, _, served = execute(t, "--data", t.TempDir(), "serve", "--https", "127.0.0.1:0")
	if served == nil || served.HTTPS != "127.0.0.1:0" {
		t.Fatalf("--https 127.0.0.1:0: %+v", served)
	}
	for _, bad := range []string{"8443", "127.0.0.1:https", "127.0.0.1:70000"} {
		code, _, stderr, served := execute(t, "--data", t.TempDir(), "serve", "--https", bad)
		if code != 2 || served != nil || !strings.Contains(stderr, "--https") {
			t.Errorf("--https %s: code %d, served %v, %s", bad, code, served, stderr)
		}
	}
}
