package control_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
	"switchboard/switch/voicemail"
	"switchboard/switch/voicemail/smtpfake"
)

func TestTestSMTP(t *testing.T) {
	for _, mode := range []string{"local", "socket"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			st := openStore(t, dir)
			var ops control.Ops = &control.Local{Store: st, Mail: &voicemail.SMTP{Settings: st, Hostname: "switchboard.test"}}
			if mode == "socket" {
				ops = serve(t, dir, ops.(*control.Local))
			}
			c := ctx(t)
			_, err := ops.TestSMTP(c, "alice@example.com")
			wantStatus(t, err, http.StatusNotFound) // no server set up
			srv := smtpfake.Start(t, smtpfake.Options{RejectTo: "nobody@example.com"})
			if err := st.PutSMTP(store.SMTPSettings{Host: "127.0.0.1", Port: srv.Port(), From: "pbx@example.com", TLS: store.TLSOff}); err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"", "alice", "a@example.com\r\nBcc: x@y.z", "<a@example.com>"} {
				_, err := ops.TestSMTP(c, bad)
				wantStatus(t, err, http.StatusBadRequest)
			}
			res, err := ops.TestSMTP(c, " alice@example.com ")
			if err != nil || res.To != "alice@example.com" || res.Server != "127.0.0.1:"+strconv.Itoa(srv.Port()) {
				t.Fatalf("test email: %+v %v", res, err)
			}
			if m := srv.Messages(); len(m) != 1 || m[0].To != "alice@example.com" || !strings.Contains(m[0].Data, "Switchboard test email") {
				t.Fatalf("sent: %+v", m)
			}
			_, err = ops.TestSMTP(c, "nobody@example.com")
			wantStatus(t, err, http.StatusBadGateway)
			if !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "550") {
				t.Fatalf("refused: %v", err)
			}
			// A port nobody listens on.
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			st.PutSMTP(store.SMTPSettings{Host: "127.0.0.1", Port: port, From: "pbx@example.com", TLS: store.TLSOff})
			_, err = ops.TestSMTP(c, "alice@example.com")
			wantStatus(t, err, http.StatusBadGateway)
			if !strings.Contains(err.Error(), "cannot reach the mail server") {
				t.Fatalf("unreachable: %v", err)
			}
		})
	}
	_, err := (&control.Local{Store: openStore(t, t.TempDir())}).TestSMTP(ctx(t), "a@example.com")
	wantStatus(t, err, http.StatusNotFound)
}
