package registrar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/switch/auth"
	"switchboard/switch/phonetest"
)

// sippUsers is how many devices SIPp registers, as 3000…3099.
const sippUsers = 100

func sippExt(i int) string { return strconv.Itoa(3000 + i) }

// TestSIPpRegisters: SIPp, a real SIP implementation, registers 100
// devices with digest authentication, then unregisters them; with wrong
// passwords it is refused and nothing is bound.
func TestSIPpRegisters(t *testing.T) {
	sipp := phonetest.RequireTool(t, "sipp", "apt-get install sip-tester")
	// Every wrong password must be answered 403 here; slowing and blocking
	// a guessing address is tested in TestGuessingIsSlowedThenBlockedPerAddress.
	lenient := auth.DefaultLimits
	lenient.SlowAfter, lenient.BlockAfter = 10*sippUsers, 10*sippUsers
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{AuthLimits: lenient})
	addSIPpUsers(t, sw)
	port := freeUDPPort(t) // both runs use one port: the unregister names the same contact

	t.Run("wrong passwords", func(t *testing.T) {
		runSIPp(t, sipp, sw.Addr(), "register_auth_forbidden.xml", port, "3600", func(ext string) string { return "wrong-" + ext })
		if d, b := sw.Registrar().Counts(); d != 0 || b != 0 {
			t.Fatalf("%d devices with %d bindings after wrong passwords, want none", d, b)
		}
	})
	t.Run("register", func(t *testing.T) {
		runSIPp(t, sipp, sw.Addr(), "register_auth.xml", port, "3600", sippPassword)
		for i := range sippUsers {
			b := sw.Registrar().Lookup(sippExt(i))
			want := fmt.Sprintf("sip:%s@127.0.0.1:%d", sippExt(i), port)
			if len(b) != 1 || !strings.HasPrefix(b[0].Contact, want) || b[0].UserAgent != "switchboard-harness/sipp" {
				t.Fatalf("device %s: bindings %+v, want one to %s", sippExt(i), b, want)
			}
		}
	})
	t.Run("unregister", func(t *testing.T) {
		runSIPp(t, sipp, sw.Addr(), "register_auth.xml", port, "0", sippPassword)
		if d, b := sw.Registrar().Counts(); d != 0 || b != 0 {
			t.Fatalf("%d devices with %d bindings after unregistering, want none", d, b)
		}
	})
}

func sippPassword(ext string) string { return "secret" + ext }

// addSIPpUsers creates the users in one transaction (100 single ones
// would cost 100 fsyncs).
func addSIPpUsers(t *testing.T, sw *phonetest.Switch) {
	t.Helper()
	realm, err := sw.Store.SIPRealm()
	if err != nil {
		t.Fatal(err)
	}
	var users []store.User
	var devices []store.Device
	for i := range sippUsers {
		ext := sippExt(i)
		d := store.Device{ID: ext, Ext: ext, Created: time.Now()}
		d.SetSIPPassword(realm, sippPassword(ext))
		users = append(users, store.User{Ext: ext, FirstName: "SIPp", LastName: ext, Role: store.RoleUser, Created: time.Now()})
		devices = append(devices, d)
	}
	if err := sw.Store.CreateUsers(users, devices); err != nil {
		t.Fatal(err)
	}
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runSIPp runs one scenario from testdata/sipp for every SIPp user, from
// 127.0.0.1:port, and fails the test, with SIPp's error log, unless every
// call succeeds.
func runSIPp(t *testing.T, sipp, server, scenario string, port int, expires string, password func(ext string) string) {
	t.Helper()
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for i := range sippUsers {
		ext := sippExt(i)
		fmt.Fprintf(&csv, "%s;[authentication username=%s password=%s];127.0.0.1\n", ext, ext, password(ext))
	}
	users := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(users, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	sf, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	errLog := filepath.Join(dir, "errors.log")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, server, "-sf", sf, "-inf", users, "-key", "expires", expires,
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-bind_local",
		"-m", strconv.Itoa(sippUsers), "-r", "100", "-nostdin", "-recv_timeout", "5000",
		"-timeout", "30s", "-timeout_error", "-trace_err", "-error_file", errLog)
	cmd.Dir = dir // SIPp may write other files next to it
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run() // on timeout, CommandContext kills SIPp by its PID
	if err == nil {
		return
	}
	code := -1
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	errors, _ := os.ReadFile(errLog)
	tail := out.String()
	if len(tail) > 4000 {
		tail = tail[len(tail)-4000:]
	}
	t.Fatalf("sipp %s exited with %d (%v)\n--- error log:\n%s\n--- output (end):\n%s", scenario, code, err, errors, tail)
}
