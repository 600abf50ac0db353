package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/media"
	"switchboard/store"
)

func TestVoicemailCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	run := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		code, stdout, stderr, _ := execute(t, append([]string{"--data", dir}, args...)...)
		if code != wantCode {
			t.Fatalf("%q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, stdout, stderr)
		}
		return stdout, stderr
	}
	run(0, "user", "add", "--ext", "200", "--name", "Alice", "--sip-password", "sip-pass-200")
	audio := bytes.Repeat([]byte{0x42}, 12000)
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.SaveMessage(store.VoiceMessage{Ext: "200", Caller: "201", CallerName: "Bob\x1b[31m"}, audio)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	out, _ := run(0, "voicemail", "list", "--ext", "200")
	if !strings.Contains(out, "mailbox 200: 1 new, 0 saved; no PIN") || !strings.Contains(out, m.ID) ||
		!strings.Contains(out, "Bob[31m (201)") || strings.Contains(out, "\x1b") {
		t.Fatalf("list:\n%s", out)
	}
	out, _ = run(0, "voicemail", "set", "--ext", "200", "--pin", "1234", "--email", "alice@example.com", "--attach=false")
	if !strings.Contains(out, "PIN set; emailed to alice@example.com without the recording, kept in the box") {
		t.Fatalf("set: %s", out)
	}

	wav := filepath.Join(t.TempDir(), "msg.wav")
	run(0, "voicemail", "export", "--ext", "200", "--id", m.ID, wav)
	if b, err := os.ReadFile(wav); err != nil || !bytes.Equal(b, media.WAV(audio)) {
		t.Fatalf("exported %d bytes, %v", len(b), err)
	}
	out, _ = run(0, "voicemail", "export", "--ext", "200", "--id", m.ID, "-")
	if out != string(media.WAV(audio)) {
		t.Fatal("export to stdout differs")
	}

	// Bad input: exit 2; unknown things: exit 3; nothing written.
	for _, args := range [][]string{
		{"voicemail", "set", "--ext", "200"},
		{"voicemail", "set", "--ext", "200", "--pin", "12"},
		{"voicemail", "set", "--ext", "200", "--pin", "abcd"},
		{"voicemail", "set", "--ext", "200", "--email", "not-an-address"},
		{"voicemail", "set", "--ext", "2x", "--keep=true"},
		{"voicemail", "set", "--ext", "200", "--keep=maybe"},
		{"voicemail", "list"},
		{"voicemail", "export", "--ext", "200", "--id", "../x", wav},
		{"voicemail", "export", "--ext", "200", "--id", m.ID},
		{"voicemail", "delete", "--ext", "200"},
		{"smtp", "set"},
		{"smtp", "set", "--port", "0"},
		{"smtp", "set", "--tls", "sometimes"},
		{"smtp", "set", "--host", "mail.example.com"}, // no sender yet
		{"smtp", "set", "--host", "mail example", "--from", "pbx@example.com"},
	} {
		run(2, args...)
	}
	run(3, "voicemail", "list", "--ext", "299")
	run(3, "voicemail", "set", "--ext", "299", "--keep=false")
	run(3, "voicemail", "export", "--ext", "200", "--id", "abcdef", wav)
	run(3, "voicemail", "delete", "--ext", "200", "--id", "abcdef")
	if b, _ := os.ReadFile(wav); !bytes.Equal(b, media.WAV(audio)) {
		t.Fatal("a failed export touched the file")
	}

	run(0, "voicemail", "delete", "--ext", "200", "--id", m.ID)
	if out, _ := run(0, "voicemail", "list", "--ext", "200"); !strings.Contains(out, "no messages") {
		t.Fatalf("after delete:\n%s", out)
	}

	out, _ = run(0, "smtp", "show")
	if !strings.Contains(out, "no SMTP server set") {
		t.Fatalf("smtp show: %s", out)
	}
	run(0, "smtp", "set", "--host", "mail.example.com", "--from", "pbx@example.com", "--user", "pbx", "--password", "hunter2-secret")
	out, _ = run(0, "smtp", "show")
	if !strings.Contains(out, "mail.example.com:587") || !strings.Contains(out, "password  set") || strings.Contains(out, "hunter2") {
		t.Fatalf("smtp show:\n%s", out)
	}
	out, _ = run(0, "smtp", "show", "--json")
	if strings.Contains(out, "hunter2") || !strings.Contains(out, `"password_set":true`) {
		t.Fatalf("smtp show --json: %s", out)
	}
	run(0, "smtp", "set", "--tls", "implicit", "--port", "465")
	if out, _ := run(0, "smtp", "show"); !strings.Contains(out, "mail.example.com:465") || !strings.Contains(out, "implicit") {
		t.Fatalf("smtp show:\n%s", out)
	}
}
