package phonetest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireTool returns the path of a real peer's program (sipp, baresip, …).
// When it is missing the test skips — unless SWITCHBOARD_INTEROP=required
// (as in CI), where it fails. Skips are appended to $SWITCHBOARD_SKIP_LOG so
// `make test` can list them at the end.
func RequireTool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s: needs %s (install: %s)", t.Name(), name, install)
	if os.Getenv("SWITCHBOARD_INTEROP") == "required" {
		t.Fatalf("%s, and SWITCHBOARD_INTEROP=required", msg)
	}
	if log := os.Getenv("SWITCHBOARD_SKIP_LOG"); log != "" {
		if f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, msg)
			f.Close()
		}
	}
	t.Skip(msg)
	return ""
}
