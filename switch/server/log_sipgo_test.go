package server

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSipgoLoggerCutsAndLimits(t *testing.T) {
	now := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	log := sipgoLogger(slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { return now }).
		With("caller", "Transport<UDP>", "peer", strings.Repeat("p", 1000))
	datagram := strings.Repeat("\xff garbage ", 6500)
	for range 1000 {
		log.Error("failed to parse", "data", datagram, "error", errors.New(strings.Repeat("e", 500)),
			slog.Group("g", "inner", datagram))
	}
	log.Info("something else")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != logBurst+1 {
		t.Fatalf("%d lines logged, want %d", len(lines), logBurst+1)
	}
	for _, l := range lines {
		if len(l) > 8*maxLogValue { // four cut values, \xff printed as 4 bytes

			t.Fatalf("line of %d bytes: %.300s…", len(l), l)
		}
	}
	if !strings.Contains(lines[0], "(65000 bytes)") || !strings.Contains(lines[0], "(1000 bytes)") {
		t.Fatalf("a cut value should say how long it was: %.500s", lines[0])
	}

	buf.Reset()
	now = now.Add(logWindow)
	log.Error("failed to parse", "data", "x")
	if !strings.Contains(buf.String(), "suppressed=990") {
		t.Fatalf("after the window: %s", buf.String())
	}
}
