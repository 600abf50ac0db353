package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestMailboxDefaultsAndUpdate(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200")

	m, err := s.Mailbox("200")
	if err != nil {
		t.Fatal(err)
	}
	if m != DefaultMailbox("200") || !m.KeepAfterEmail || m.HasPIN() || m.Email != "" {
		t.Fatalf("default mailbox = %+v", m)
	}
	if _, err := s.Mailbox("201"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: err = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateMailbox("201", func(*Mailbox) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown user: err = %v, want ErrNotFound", err)
	}

	m, err = s.UpdateMailbox("200", func(m *Mailbox) error {
		m.Email, m.EmailAudio, m.KeepAfterEmail = "alice@example.com", false, false
		m.Ext = "999" // ignored
		return nil
	})
	if err != nil || m.Ext != "200" {
		t.Fatalf("update: %+v, %v", m, err)
	}
	if got, _ := s.Mailbox("200"); got != m {
		t.Fatalf("stored %+v, want %+v", got, m)
	}

	for _, bad := range []string{"alice", "alice@", "Alice <alice@example.com>", "a@b.com\r\nBcc: x@y.com", "a b@c.com", "a@localhost"} {
		if _, err := s.UpdateMailbox("200", func(m *Mailbox) error { m.Email = bad; return nil }); !errors.Is(err, ErrBadValue) {
			t.Errorf("email %q: err = %v, want ErrBadValue", bad, err)
		}
	}
	if got, _ := s.Mailbox("200"); got.Email != "alice@example.com" {
		t.Fatalf("a refused change was stored: %+v", got)
	}
}

func TestSetMailboxPINValidation(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200")
	for _, tc := range []struct {
		pin string
		ok  bool
	}{
		{"1234", true}, {"0000000000", true}, {"123", false}, {"12345678901", false},
		{"12a4", false}, {"", false}, {"12 34", false}, {"١٢٣٤", false},
	} {
		err := s.SetMailboxPIN("200", tc.pin)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadValue)) {
			t.Errorf("PIN %q: err = %v, want ok=%v", tc.pin, err, tc.ok)
		}
	}
	if err := s.SetMailboxPIN("201", "1234"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: err = %v", err)
	}
	m, _ := s.Mailbox("200")
	if !m.HasPIN() || m.PINHash == "0000000000" {
		t.Fatalf("PIN not stored as a hash: %+v", m)
	}
}

func TestCheckMailboxPINLockoutSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTestIn(t, dir)
	mustCreate(t, s, "200")
	if err := s.SetMailboxPIN("200", "4321"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	check := func(s *Store, pin string, at time.Time) (bool, time.Time) {
		t.Helper()
		ok, until, err := s.CheckMailboxPIN("200", pin, at)
		if err != nil {
			t.Fatalf("check %q: %v", pin, err)
		}
		return ok, until
	}
	if ok, _ := check(s, "4321", now); !ok {
		t.Fatal("right PIN refused")
	}
	// A right PIN resets the count: 4 wrong, 1 right, 4 wrong never locks.
	for round := 0; round < 2; round++ {
		for i := 0; i < MaxFailedPINs-1; i++ {
			if ok, until := check(s, "0000", now); ok || !until.IsZero() {
				t.Fatalf("wrong PIN %d: ok=%v locked until %v", i+1, ok, until)
			}
		}
		if round == 0 {
			if ok, _ := check(s, "4321", now); !ok {
				t.Fatal("right PIN refused after 4 wrong ones")
			}
		}
	}
	// The fifth wrong PIN in a row locks the box.
	ok, until := check(s, "9999", now)
	if ok || !until.Equal(now.Add(PINLockout)) {
		t.Fatalf("fifth wrong PIN: ok=%v until=%v", ok, until)
	}

	// A restart does not lift the lock.
	s.Close()
	s = openTestIn(t, dir)
	if ok, until := check(s, "4321", now.Add(time.Minute)); ok || !until.Equal(now.Add(PINLockout)) {
		t.Fatalf("after reopen, right PIN while locked: ok=%v until=%v", ok, until)
	}
	// After the lock, a fresh start: the right PIN works, a wrong one does not re-lock at once.
	later := now.Add(PINLockout)
	if ok, until := check(s, "0000", later); ok || !until.IsZero() {
		t.Fatalf("first wrong PIN after the lock: ok=%v until=%v", ok, until)
	}
	if ok, _ := check(s, "4321", later); !ok {
		t.Fatal("right PIN refused after the lock ran out")
	}
	if m, _ := s.Mailbox("200"); m.FailedPINs != 0 || !m.LockedUntil.IsZero() {
		t.Fatalf("after a right PIN: %+v", m)
	}

	// Setting a new PIN lifts a lock.
	for i := 0; i < MaxFailedPINs; i++ {
		check(s, "0000", later)
	}
	if err := s.SetMailboxPIN("200", "5555"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := check(s, "5555", later); !ok {
		t.Fatal("new PIN refused")
	}
}

func TestCheckMailboxPINUnknownAndNoPIN(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200")
	now := time.Now()
	if ok, until, err := s.CheckMailboxPIN("299", "1234", now); ok || !until.IsZero() || !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown box: %v %v %v", ok, until, err)
	}
	// No PIN: every attempt fails and counts, so it locks like any box.
	for i := 1; i <= MaxFailedPINs; i++ {
		ok, until, err := s.CheckMailboxPIN("200", "", now)
		if ok || !errors.Is(err, ErrNoPIN) {
			t.Fatalf("no PIN, attempt %d: ok=%v err=%v", i, ok, err)
		}
		if locked := !until.IsZero(); locked != (i == MaxFailedPINs) {
			t.Fatalf("attempt %d: locked until %v", i, until)
		}
	}
}

func TestMessages(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200", "201", "2000")
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var saved []VoiceMessage
	for i := range 3 {
		m, err := s.SaveMessage(VoiceMessage{Ext: "200", Caller: "201", CallerName: "Bob", Time: base.Add(time.Duration(i) * time.Minute),
			Duration: time.Duration(i+1) * time.Second, CallID: "c" + string(rune('0'+i))}, bytes.Repeat([]byte{byte(i)}, 800))
		if err != nil {
			t.Fatal(err)
		}
		if m.ID == "" || m.Read {
			t.Fatalf("saved %+v", m)
		}
		saved = append(saved, m)
	}
	if _, err := s.SaveMessage(VoiceMessage{Ext: "2000", Caller: "200"}, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveMessage(VoiceMessage{Ext: "299"}, []byte{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("message for unknown user: %v", err)
	}
	if _, err := s.SaveMessage(VoiceMessage{Ext: "200"}, make([]byte, MaxMessageBytes+1)); !errors.Is(err, ErrBadValue) {
		t.Fatalf("huge message: %v", err)
	}

	msgs, err := s.Messages("200")
	if err != nil || len(msgs) != 3 {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
	for i, m := range msgs {
		if m != saved[2-i] {
			t.Fatalf("message %d = %+v, want %+v (newest first)", i, m, saved[2-i])
		}
	}
	if u, r, err := s.MessageCounts("200"); u != 3 || r != 0 || err != nil {
		t.Fatalf("counts = %d/%d %v", u, r, err)
	}
	audio, err := s.MessageAudio("200", saved[1].ID)
	if err != nil || !bytes.Equal(audio, bytes.Repeat([]byte{1}, 800)) {
		t.Fatalf("audio = %d bytes, %v", len(audio), err)
	}
	if _, err := s.MessageAudio("2000", saved[1].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another box's message: %v", err)
	}

	if err := s.SetMessageRead("200", saved[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if u, r, _ := s.MessageCounts("200"); u != 2 || r != 1 {
		t.Fatalf("after read: %d/%d", u, r)
	}
	if m, _ := s.Message("200", saved[0].ID); !m.Read {
		t.Fatalf("message not read: %+v", m)
	}
	if err := s.SetMessageRead("200", saved[0].ID, false); err != nil {
		t.Fatal(err)
	}
	if u, r, _ := s.MessageCounts("200"); u != 3 || r != 0 {
		t.Fatalf("after unread: %d/%d", u, r)
	}
	if err := s.DeleteMessage("200", saved[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MessageAudio("200", saved[1].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted message's audio: %v", err)
	}
	for _, fn := range []func() error{
		func() error { return s.DeleteMessage("200", saved[1].ID) },
		func() error { return s.SetMessageRead("200", "nope", true) },
		func() error { return s.DeleteMessage("201", saved[0].ID) },
		func() error { _, err := s.Message("200", ""); return err },
	} {
		if err := fn(); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	}
	if msgs, _ := s.Messages("200"); len(msgs) != 2 {
		t.Fatalf("after delete: %d messages", len(msgs))
	}
	if _, _, err := s.MessageCounts("299"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("counts of unknown user: %v", err)
	}
	if msgs, err := s.Messages("201"); err != nil || len(msgs) != 0 {
		t.Fatalf("empty box: %v %v", msgs, err)
	}
}

func TestGreeting(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200")
	if _, err := s.Greeting("200"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no greeting: %v", err)
	}
	if err := s.PutGreeting("200", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Greeting("200"); err != nil || !bytes.Equal(g, []byte{1, 2, 3}) {
		t.Fatalf("greeting = %v, %v", g, err)
	}
	if m, _ := s.Mailbox("200"); !m.CustomGreeting {
		t.Fatal("mailbox does not know its greeting")
	}
	if err := s.PutGreeting("200", nil); !errors.Is(err, ErrBadValue) {
		t.Fatalf("empty greeting: %v", err)
	}
	if err := s.PutGreeting("200", make([]byte, MaxGreetingBytes+1)); !errors.Is(err, ErrBadValue) {
		t.Fatalf("huge greeting: %v", err)
	}
	if err := s.PutGreeting("201", []byte{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("greeting of unknown user: %v", err)
	}
	if err := s.DeleteGreeting("200"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Greeting("200"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted greeting: %v", err)
	}
	if m, _ := s.Mailbox("200"); m.CustomGreeting {
		t.Fatal("mailbox still has a custom greeting")
	}
}

func TestDeleteUserRemovesVoicemail(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200", "2000")
	for _, ext := range []string{"200", "2000"} {
		if err := s.SetMailboxPIN(ext, "1234"); err != nil {
			t.Fatal(err)
		}
		if err := s.PutGreeting(ext, []byte{1}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := s.SaveMessage(VoiceMessage{Ext: ext}, []byte{2}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.DeleteUser("200"); err != nil {
		t.Fatal(err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMailboxes).Get([]byte("200")) != nil {
			t.Error("mailbox record left")
		}
		if tx.Bucket(bucketMessages).Bucket([]byte("200")) != nil {
			t.Error("messages bucket left")
		}
		return tx.Bucket(bucketAudio).ForEach(func(k, _ []byte) error {
			if bytes.Contains(k, []byte("/200/")) || bytes.HasSuffix(k, []byte("/200")) {
				t.Errorf("audio %q left", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// A longer extension with the same prefix keeps everything.
	if msgs, _ := s.Messages("2000"); len(msgs) != 2 {
		t.Fatalf("2000 has %d messages", len(msgs))
	}
	if _, err := s.Greeting("2000"); err != nil {
		t.Fatalf("2000 lost its greeting: %v", err)
	}
	if m, _ := s.Mailbox("2000"); !m.HasPIN() {
		t.Fatal("2000 lost its PIN")
	}
	// A new user on the old extension starts with an empty box.
	mustCreate(t, s, "200")
	if m, _ := s.Mailbox("200"); m != DefaultMailbox("200") {
		t.Fatalf("recreated user's mailbox = %+v", m)
	}
}

func TestValidateChecksVoicemail(t *testing.T) {
	src := openTest(t)
	mustCreate(t, src, "200")
	if err := src.SetMailboxPIN("200", "1234"); err != nil {
		t.Fatal(err)
	}
	if _, err := src.SaveMessage(VoiceMessage{Ext: "200", Caller: "201"}, bytes.Repeat([]byte{0xff}, 8000)); err != nil {
		t.Fatal(err)
	}
	good := backupBytes(t, src)
	path := filepath.Join(t.TempDir(), "good.db")
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(path); err != nil {
		t.Fatalf("validate good backup: %v", err)
	}

	for name, damage := range map[string]func(tx *bolt.Tx) error{
		"message metadata": func(tx *bolt.Tx) error {
			box := tx.Bucket(bucketMessages).Bucket([]byte("200"))
			k, _ := box.Cursor().First()
			return box.Put(k, []byte("{not json"))
		},
		"mailbox record": func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMailboxes).Put([]byte("200"), []byte(`{"failed_pins":"x"}`))
		},
		"record in messages": func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMessages).Put([]byte("201"), []byte(`{}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, FileName)
			if err := os.WriteFile(p, good, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(p, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(damage); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if _, err := Validate(p); !errors.Is(err, ErrInvalid) {
				t.Fatalf("validate: err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSMTPSettings(t *testing.T) {
	s := openTest(t)
	if _, err := s.SMTP(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unset: %v", err)
	}
	good := SMTPSettings{Host: "mail.example.com", Username: "pbx", Password: "pw", From: "pbx@example.com"}
	if err := s.PutSMTP(good); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SMTP(); err != nil || got != good {
		t.Fatalf("stored %+v, %v", got, err)
	}
	if good.Addr() != "mail.example.com:587" {
		t.Fatalf("addr %s", good.Addr())
	}
	if a := (SMTPSettings{Host: "::1", TLS: TLSImplicit}).Addr(); a != "[::1]:465" {
		t.Fatalf("addr %s", a)
	}
	for name, bad := range map[string]SMTPSettings{
		"no host":          {From: "a@b.com"},
		"host with space":  {Host: "a b", From: "a@b.com"},
		"bad port":         {Host: "h", Port: 70000, From: "a@b.com"},
		"no from":          {Host: "h"},
		"bad from":         {Host: "h", From: "pbx"},
		"header injection": {Host: "h", From: "a@b.com\r\nBcc: x@y.com"},
		"password no user": {Host: "h", From: "a@b.com", Password: "x"},
		"line break":       {Host: "h", From: "a@b.com", Username: "u\r\n", Password: "x"},
		"tls mode":         {Host: "h", From: "a@b.com", TLS: "maybe"},
	} {
		if err := s.PutSMTP(bad); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: err = %v, want ErrBadValue", name, err)
		}
	}
	if got, _ := s.SMTP(); got != good {
		t.Fatal("a refused setting was stored")
	}
	for in, want := range map[string]TLSMode{"auto": TLSAuto, "": TLSAuto, "Require": TLSRequire, "off": TLSOff, "implicit": TLSImplicit} {
		if m, err := ParseTLSMode(in); err != nil || m != want {
			t.Errorf("ParseTLSMode(%q) = %q, %v", in, m, err)
		}
	}
	if _, err := ParseTLSMode("ssl"); !errors.Is(err, ErrBadValue) {
		t.Errorf("ParseTLSMode(ssl): %v", err)
	}
}
