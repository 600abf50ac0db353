package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the package graph of ARCHITECTURE.md: store and media
// are leaves, switch never reaches into admin, and no package but main wires
// everything together.
func TestImportRules(t *testing.T) {
	forbidden := map[string][]string{
		"switchboard/store":    {"switchboard/"},
		"switchboard/media":    {"switchboard/switch", "switchboard/admin", "switchboard/firmware"},
		"switchboard/switch/":  {"switchboard/admin", "switchboard/firmware"},
		"switchboard/firmware": {"switchboard/switch", "switchboard/admin"},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		for prefix, bans := range forbidden {
			if pkg != strings.TrimSuffix(prefix, "/") && !strings.HasPrefix(pkg, prefix) {
				continue
			}
			for _, dep := range deps {
				for _, ban := range bans {
					if strings.HasPrefix(dep, ban) {
						t.Errorf("%s must not depend on %s (via %s)", pkg, ban, dep)
					}
				}
			}
		}
	}
}
