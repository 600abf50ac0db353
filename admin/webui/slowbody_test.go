package webui

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

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
