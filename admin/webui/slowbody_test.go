package webui

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/admin/webauth"
	"switchboard/store"
)

// A login whose body never comes does not hold its connection: the server
// gives up after the body's time and closes it.
func TestSlowBodyIsCutOff(t *testing.T) {
	defer func(d time.Duration) { bodyTime = d }(bodyTime)
	bodyTime = 300 * time.Millisecond
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	conn, err := tls.Dial("tcp", e.srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	host := e.srv.Listener.Addr().String()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nOrigin: https://%s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\nlogin=200&pass", host, host)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	for n > 0 { // whatever the server answers, it then closes
		n, _ = conn.Read(buf)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the connection was held %v", took)
	}
	if strings.Contains(string(buf), "Set-Cookie") {
		t.Fatal("logged in without a password")
	}
}

// An API upload that waited for an upload slot still has its whole time
// to send its body.
func TestUploadWaitKeepsBodyTime(t *testing.T) {
	defer func(d time.Duration) { bodyTime = d }(bodyTime)
	bodyTime = 300 * time.Millisecond
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/", e.app)
	mux.HandleFunc("PUT /test-upload", e.app.apiUpload(anyone, 1<<16-1, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		return map[string]int{"n": len(b)}, nil
	}))
	e.srv.Config.Handler = mux
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.apiLogin("200")
	e.app.uploads <- struct{}{} // both slots taken for a second
	e.app.uploads <- struct{}{}
	go func() {
		time.Sleep(time.Second)
		<-e.app.uploads
		<-e.app.uploads
	}()
	req, _ := http.NewRequest("PUT", e.srv.URL+"/test-upload", bytes.NewReader(make([]byte, 60000)))
	req.Header.Set(webauth.CSRFHeader, b.csrf)
	if r := b.do(req); r.code != 200 {
		t.Fatalf("the upload that waited failed: %d %s", r.code, r.body)
	}
}
