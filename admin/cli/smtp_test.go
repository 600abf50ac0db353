package cli

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
	"switchboard/switch/voicemail"
	"switchboard/switch/voicemail/smtpfake"
)

func TestSMTPTestCommand(t *testing.T) {
	srv := smtpfake.Start(t, smtpfake.Options{RejectTo: "nobody@example.com"})
	check := func(t *testing.T, dir string) {
		run := func(want int, args ...string) string {
			t.Helper()
			code, stdout, stderr, _ := execute(t, append([]string{"--data", dir}, args...)...)
			if code != want {
				t.Fatalf("%q: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
			}
			return stdout + stderr
		}
		run(2, "smtp", "test")
		run(2, "smtp", "test", "--to", "")
		if out := run(3, "smtp", "test", "--to", "alice@example.com"); !strings.Contains(out, "no SMTP server is set up") {
			t.Fatalf("no server: %s", out)
		}
		run(0, "smtp", "set", "--host", "127.0.0.1", "--port", strconv.Itoa(srv.Port()), "--from", "pbx@example.com", "--tls", "off")
		run(2, "smtp", "test", "--to", "not-an-address")
		if out := run(0, "smtp", "test", "--to", "alice@example.com"); !strings.Contains(out, "test email sent to alice@example.com through 127.0.0.1:") {
			t.Fatalf("sent: %s", out)
		}
		if out := run(1, "smtp", "test", "--to", "nobody@example.com"); !strings.Contains(out, "refused") || !strings.Contains(out, "550") {
			t.Fatalf("refused: %s", out)
		}
	}
	t.Run("local", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		check(t, dir)
	})
	t.Run("server", func(t *testing.T) {
		dir := t.TempDir()
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		l, err := control.Listen(dir)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			control.Serve(ctx, l, &control.Local{Store: st, Mail: &voicemail.SMTP{Settings: st}}, slog.New(slog.DiscardHandler))
		})
		defer wg.Wait()
		defer cancel()
		check(t, dir)
	})
	if n := len(srv.Messages()); n != 2 {
		t.Fatalf("%d test emails, want 2", n)
	}
}
