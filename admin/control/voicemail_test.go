package control_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/store"
)

type mwiRecorder struct {
	mu  sync.Mutex
	ext []string
}

func (m *mwiRecorder) Changed(ext string) {
	m.mu.Lock()
	m.ext = append(m.ext, ext)
	m.mu.Unlock()
}

func TestVoicemailOps(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		if _, err := ops.AddUser(c, control.UserSpec{Ext: "200", Name: "Alice", SIPPassword: "secret-200"}); err != nil {
			t.Fatal(err)
		}
		vm, err := ops.Voicemail(c, "200")
		if err != nil || vm.Mailbox.HasPIN || !vm.Mailbox.Keep || vm.Messages == nil || len(vm.Messages) != 0 {
			t.Fatalf("fresh box: %+v %v", vm, err)
		}
		box, err := ops.SetMailbox(c, "200", control.MailboxPatch{PIN: ptr("2468"), Email: ptr("alice@example.com"),
			Attach: ptr(false), Keep: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		want := control.MailboxView{Ext: "200", HasPIN: true, Email: "alice@example.com"}
		if box != want {
			t.Fatalf("box = %+v, want %+v", box, want)
		}
		if ok, _, _ := st.CheckMailboxPIN("200", "2468", time.Now()); !ok {
			t.Fatal("PIN not set")
		}

		audio := bytes.Repeat([]byte{0x55}, 8000)
		m, err := st.SaveMessage(store.VoiceMessage{Ext: "200", Caller: "201", CallerName: "Bob"}, audio)
		if err != nil {
			t.Fatal(err)
		}
		vm, err = ops.Voicemail(c, "200")
		if err != nil || len(vm.Messages) != 1 || vm.Messages[0].ID != m.ID || vm.Mailbox.New != 1 {
			t.Fatalf("list: %+v %v", vm, err)
		}
		got, err := ops.MessageAudio(c, "200", m.ID)
		if err != nil || !bytes.Equal(got, audio) {
			t.Fatalf("audio: %d bytes %v", len(got), err)
		}
		if err := ops.DeleteMessage(c, "200", m.ID); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, ops.DeleteMessage(c, "200", m.ID), http.StatusNotFound)

		for name, err := range map[string]error{
			"short PIN":    second(ops.SetMailbox(c, "200", control.MailboxPatch{PIN: ptr("12")})),
			"letters PIN":  second(ops.SetMailbox(c, "200", control.MailboxPatch{PIN: ptr("12ab")})),
			"bad email":    second(ops.SetMailbox(c, "200", control.MailboxPatch{Email: ptr("alice\r\nBcc: x@y.z")})),
			"bad ext":      second(ops.Voicemail(c, "2x0")),
			"bad id":       ops.DeleteMessage(c, "200", "../../etc"),
			"bad id audio": second(ops.MessageAudio(c, "200", "ZZ")),
		} {
			t.Run(name, func(t *testing.T) { wantStatus(t, err, http.StatusBadRequest) })
		}
		wantStatus(t, second(ops.Voicemail(c, "299")), http.StatusNotFound)
		wantStatus(t, second(ops.SetMailbox(c, "299", control.MailboxPatch{Keep: ptr(true)})), http.StatusNotFound)
		wantStatus(t, second(ops.MessageAudio(c, "200", "abcdef")), http.StatusNotFound)
		if b, _ := st.Mailbox("200"); b.Email != "alice@example.com" {
			t.Fatal("a refused change was stored")
		}

		// SMTP: nothing, then set in steps; the password never comes back.
		v, err := ops.SMTP(c)
		if err != nil || v.Configured {
			t.Fatalf("unset SMTP: %+v %v", v, err)
		}
		wantStatus(t, second(ops.SetSMTP(c, control.SMTPPatch{Host: ptr("mail.example.com")})), http.StatusBadRequest)
		v, err = ops.SetSMTP(c, control.SMTPPatch{Host: ptr("mail.example.com"), From: ptr("pbx@example.com"),
			Username: ptr("pbx"), Password: ptr("top-secret")})
		if err != nil || !v.Configured || !v.PasswordSet || v.Username != "pbx" {
			t.Fatalf("set SMTP: %+v %v", v, err)
		}
		tlsMode := store.TLSRequire
		if v, err = ops.SetSMTP(c, control.SMTPPatch{Port: ptr(2525), TLS: &tlsMode}); err != nil || v.Port != 2525 || v.Host != "mail.example.com" {
			t.Fatalf("change port: %+v %v", v, err)
		}
		if s, _ := st.SMTP(); s.Password != "top-secret" || s.TLS != store.TLSRequire {
			t.Fatalf("stored %+v", s)
		}
		bad := store.TLSMode("sometimes")
		wantStatus(t, second(ops.SetSMTP(c, control.SMTPPatch{TLS: &bad})), http.StatusBadRequest)
		// Removing the user removes the password too.
		if v, err = ops.SetSMTP(c, control.SMTPPatch{Username: ptr("")}); err != nil || v.PasswordSet {
			t.Fatalf("no user: %+v %v", v, err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestDeleteMessageTellsMWI(t *testing.T) {
	st := openStore(t, t.TempDir())
	mwi := &mwiRecorder{}
	ops := &control.Local{Store: st, MWI: mwi}
	if _, err := ops.AddUser(ctx(t), control.UserSpec{Ext: "200", Name: "Alice", SIPPassword: "secret-200"}); err != nil {
		t.Fatal(err)
	}
	m, err := st.SaveMessage(store.VoiceMessage{Ext: "200"}, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ops.DeleteMessage(ctx(t), "200", m.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(mwi.ext, ",") != "200" {
		t.Fatalf("MWI told %v", mwi.ext)
	}
}
