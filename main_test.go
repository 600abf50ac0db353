package main

// Tests of the built binary: the CLI as an operator runs it, with and
// without a running server, and the server surviving kill -9.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/store"
	"switchboard/switch/phonetest"
)

// binary is the switchboard executable under test: $SWITCHBOARD_BIN (set by
// `make test`), else built once into a temporary directory.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	binary = os.Getenv("SWITCHBOARD_BIN")
	if binary == "" {
		dir, err := os.MkdirTemp("", "switchboard-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "switchboard")
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build switchboard: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs `switchboard --data dir args…` as its own process.
func run(t testing.TB, dir string, stdin []byte, args ...string) result {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, binary, append([]string{"--data", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil: // not started, or killed at the timeout; Errorf: writers call this from goroutines
		t.Errorf("run %v: %v", args, err)
		r.code = -1
	}
	return r
}

// ok runs a command that must succeed and whose stdout must contain every want.
func ok(t testing.TB, dir string, args []string, want ...string) result {
	t.Helper()
	r := run(t, dir, nil, args...)
	if r.code != 0 {
		t.Fatalf("%q failed:\n%s", args, r)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Fatalf("%q: stdout lacks %q:\n%s", args, w, r)
		}
	}
	return r
}

// hasRow fails unless a line of r's stdout starts with the given fields.
func hasRow(t testing.TB, r result, fields ...string) {
	t.Helper()
	for line := range strings.Lines(r.stdout) {
		got := strings.Fields(line)
		if len(got) >= len(fields) && slices.Equal(got[:len(fields)], fields) {
			return
		}
	}
	t.Fatalf("no row %q in:\n%s", fields, r)
}

// fails runs a command that must exit with code, saying msg on stderr.
func fails(t testing.TB, dir string, code int, msg string, args ...string) {
	t.Helper()
	r := run(t, dir, nil, args...)
	if r.code != code || !strings.Contains(r.stderr, msg) || r.stdout != "" {
		t.Fatalf("%q: want exit %d and %q on stderr, got\n%s", args, code, msg, r)
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveProc is a running `switchboard serve`.
type serveProc struct {
	cmd            *exec.Cmd
	dir            string
	stdout, stderr *lockedBuffer
	exited         chan struct{}
	waitErr        error
	sip            string
}

var servingLine = regexp.MustCompile(`msg="switchboard serving".* sip=(\S+)`)

// startServer starts `switchboard serve` on dir with free loopback ports and
// waits until its control socket answers. The test stops it at cleanup.
func startServer(t testing.TB, dir string) *serveProc {
	t.Helper()
	s := &serveProc{dir: dir, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve", "--data", dir, "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0", "--https", "127.0.0.1:0")
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("server stdout:\n%s\nserver stderr:\n%s", s.stdout, s.stderr)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(s.stderr.String()); m != nil {
			if _, err := control.Dial(dir); err == nil {
				s.sip = m[1]
				return s
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited at start: %v\nstdout:\n%s\nstderr:\n%s", s.waitErr, s.stdout, s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 15 s\nstderr:\n%s", s.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the server with SIGTERM (SIGKILL if it does not stop) and waits for it.
func (s *serveProc) stop(t testing.TB) {
	t.Helper()
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Errorf("server did not stop on SIGTERM")
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// kill ends the server with SIGKILL and waits for it.
func (s *serveProc) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

var loginLine = regexp.MustCompile(`extension 100, password (\S+)`)

// exercise runs the everyday commands against dir; online says whether a
// server runs there (and answers at sip).
func exercise(t *testing.T, dir string, srv *serveProc) {
	online := srv != nil
	r := ok(t, dir, []string{"user", "add", "--ext", "200", "--name", "Alice Smith", "--email", "alice@example.com", "--sip-password", "sip-pass-200"},
		"created user 200 (Alice Smith, user), device 200", "web password: ")
	if strings.Contains(r.stdout, "SIP password") {
		t.Fatalf("a given SIP password was echoed:\n%s", r)
	}
	ok(t, dir, []string{"user", "add", "--ext", "201", "--name", "Bob", "--role", "admin",
		"--password", "web-pass-201", "--sip-password", "sip-pass-201"}, "created user 201 (Bob, admin), device 201")
	r = ok(t, dir, []string{"user", "list"}, "EXT")
	hasRow(t, r, "200", "Alice", "Smith", "user", "alice@example.com", "200", "0", "active")
	hasRow(t, r, "201", "Bob", "admin", "-", "201")

	var users []control.UserView
	r = ok(t, dir, []string{"user", "list", "--json"})
	if err := json.Unmarshal([]byte(r.stdout), &users); err != nil {
		t.Fatalf("user list --json: %v\n%s", err, r)
	}
	if want := map[bool]int{true: 3, false: 2}[online]; len(users) != want { // online: the first-run office manager too
		t.Fatalf("%d users, want %d: %+v", len(users), want, users)
	}

	ok(t, dir, []string{"user", "set", "--ext", "200", "--name", "Alice Jones", "--email", ""}, "updated user 200 (Alice Jones)")
	ok(t, dir, []string{"device", "add", "--ext", "200"}, "created device 200b for extension 200", "SIP user 200b, SIP password: ")
	hasRow(t, ok(t, dir, []string{"device", "list", "--ext", "200"}), "200b", "200", "offline")

	if online { // a registered phone shows up
		phone := phonetest.New(t, phonetest.Options{User: "201", Password: "sip-pass-201", Server: srv.sip})
		res, err := phone.Register(context.Background(), 600)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("register 201: %v %v", res, err)
		}
		hasRow(t, ok(t, dir, []string{"device", "list", "--ext", "201"}), "201", "201", "online", "sip:201@"+phone.Addr()+";transport=udp", phone.Addr()+"/UDP")
	}

	backup := filepath.Join(t.TempDir(), "before-removal.db")
	ok(t, dir, []string{"backup", backup}, "backup written to "+backup)
	if info, err := store.Validate(backup); err != nil || info.Devices != map[bool]int{true: 4, false: 3}[online] {
		t.Fatalf("backup file: %+v, %v", info, err)
	}
	r = ok(t, dir, []string{"backup", "-"})
	stdoutBackup := filepath.Join(t.TempDir(), "stdout.db")
	os.WriteFile(stdoutBackup, []byte(r.stdout), 0o600)
	if _, err := store.Validate(stdoutBackup); err != nil || r.stderr != "" {
		t.Fatalf("backup -: %v, stderr %q", err, r.stderr)
	}

	ok(t, dir, []string{"device", "remove", "--id", "200b"}, "removed device 200b")
	ok(t, dir, []string{"user", "remove", "--ext", "200"}, "removed user 200")
	ok(t, dir, []string{"device", "list"}, "201")
	fails(t, dir, 3, "extension 200 not found", "user", "set", "--ext", "200", "--name", "X")

	r = ok(t, dir, []string{"restore", backup}, "restored ", "previous data kept in "+filepath.Join(dir, store.FileName)+".before-restore-")
	if got := strings.Contains(r.stdout, "the running server now uses the restored data"); got != online {
		t.Fatalf("restore (server running: %v) says:\n%s", online, r)
	}
	hasRow(t, ok(t, dir, []string{"user", "list"}), "200", "Alice", "Jones", "user", "-", "200,200b")
	if online { // the restored 200 registers with the running switch
		phone := phonetest.New(t, phonetest.Options{User: "200", Password: "sip-pass-200", Server: srv.sip})
		res, err := phone.Register(context.Background(), 600)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("register 200 after restore: %v %v", res, err)
		}
	}
	// Restore from standard input.
	r = run(t, dir, readFile(t, stdoutBackup), "restore", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "restored ") {
		t.Fatalf("restore -:\n%s", r)
	}
}

func TestCLIWithServer(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	m := loginLine.FindStringSubmatch(srv.stdout.String())
	if m == nil || !strings.Contains(srv.stdout.String(), "Office manager login") ||
		!strings.Contains(srv.stdout.String(), "server "+srv.sip) {
		t.Fatalf("the first run did not print the login with the SIP address %s:\n%s", srv.sip, srv.stdout)
	}
	exercise(t, dir, srv)

	// Bad input through the server: same messages and exit codes, nothing changes.
	before := run(t, dir, nil, "user", "list", "--json").stdout
	fails(t, dir, 2, "role \"boss\" must be admin or user", "user", "add", "--ext", "300", "--name", "X", "--role", "boss")
	fails(t, dir, 4, "extension 201 already exists", "user", "add", "--ext", "201", "--name", "X")
	fails(t, dir, 3, "extension 999 not found", "device", "add", "--ext", "999")
	fails(t, dir, 2, "primary device", "device", "remove", "--id", "201")
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a backup "), 1000), 0o600)
	fails(t, dir, 2, "restore refused, nothing changed", "restore", garbage)
	r := run(t, dir, bytes.Repeat([]byte("junk"), 5000), "restore", "-") // checked by the server
	if r.code != 2 || !strings.Contains(r.stderr, "restore refused, nothing changed") {
		t.Fatalf("restore - of junk through the server:\n%s", r)
	}
	if after := run(t, dir, nil, "user", "list", "--json").stdout; after != before {
		t.Fatalf("refused commands changed the users:\n%s\n%s", before, after)
	}

	// A second run prints no login.
	srv.stop(t)
	if srv.waitErr != nil {
		t.Fatalf("serve did not exit cleanly on SIGTERM: %v\n%s", srv.waitErr, srv.stderr)
	}
	again := startServer(t, dir)
	if strings.Contains(again.stdout.String(), "password") {
		t.Fatalf("the second run printed a login:\n%s", again.stdout)
	}
}

// TestFirstServeAfterCLIUsers: an operator who adds users with the CLI before
// the first serve still gets an office-manager login, on a free extension.
func TestFirstServeAfterCLIUsers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ok(t, dir, []string{"user", "add", "--ext", "100", "--name", "Alice Jones"}, "created user 100")
	srv := startServer(t, dir)
	if !strings.Contains(srv.stdout.String(), "Office manager login") || !strings.Contains(srv.stdout.String(), "extension 101, password ") {
		t.Fatalf("first serve after CLI users printed no office-manager login on 101:\n%s", srv.stdout)
	}
	hasRow(t, ok(t, dir, []string{"user", "list"}), "101", "Office", "Manager", "admin")
	hasRow(t, ok(t, dir, []string{"user", "list"}), "100", "Alice", "Jones", "user")
	srv.stop(t)
	if again := startServer(t, dir); strings.Contains(again.stdout.String(), "password") {
		t.Fatalf("the second run printed a login:\n%s", again.stdout)
	}
}

func TestCLIWithoutServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	exercise(t, dir, nil)
}

func TestCLIBadInputWritesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	garbage := filepath.Join(parent, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 4096), 0o600)
	empty := filepath.Join(parent, "empty.db")
	os.WriteFile(empty, nil, 0o600)

	// No data directory yet: nothing may create it.
	for _, tc := range []struct {
		code int
		msg  string
		args []string
	}{
		{2, "unknown flag: --bogus", []string{"user", "add", "--ext", "200", "--name", "X", "--bogus"}},
		{2, "unknown command", []string{"frobnicate"}},
		{2, `required flag(s) "name" not set`, []string{"user", "add", "--ext", "200"}},
		{2, `extension "20a" must be 2 to 7 digits`, []string{"user", "add", "--ext", "20a", "--name", "X"}},
		{2, `role "boss" must be admin or user`, []string{"user", "add", "--ext", "200", "--name", "X", "--role", "boss"}},
		{2, "at least 8 characters", []string{"user", "add", "--ext", "200", "--name", "X", "--password", "short"}},
		{2, "a name is required", []string{"user", "add", "--ext", "200", "--name", " "}},
		{2, "line breaks or control characters", []string{"user", "add", "--ext", "200", "--name", "Alice\r\nX-Injected: 1"}},
		{2, "no Switchboard data", []string{"user", "list"}},
		{2, "no Switchboard data", []string{"user", "set", "--ext", "200", "--name", "X"}},
		{2, "no Switchboard data", []string{"backup", filepath.Join(parent, "b.db")}},
		{2, "restore refused, nothing changed", []string{"restore", garbage}},
		{2, "restore refused, nothing changed", []string{"restore", empty}},
		{2, "no such file", []string{"restore", filepath.Join(parent, "missing.db")}},
		{2, `--rtp-ports "5-3"`, []string{"serve", "--rtp-ports", "5-3"}},
		{2, `--sip "nonsense"`, []string{"serve", "--sip", "nonsense"}},
		{2, "accepts 1 arg(s)", []string{"backup"}},
	} {
		fails(t, dir, tc.code, tc.msg, tc.args...)
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%q created the data directory", tc.args)
		}
	}
	r := run(t, dir, []byte("junk"), "restore", "-")
	if r.code != 2 || !strings.Contains(r.stderr, "restore refused") {
		t.Fatalf("restore - of junk:\n%s", r)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("restore - of junk created the data directory")
	}

	// With data: refused commands leave the store file byte for byte.
	ok(t, dir, []string{"user", "add", "--ext", "200", "--name", "Alice", "--sip-password", "sip-pass-200"})
	good := filepath.Join(parent, "good.db")
	ok(t, dir, []string{"backup", good})
	truncated := filepath.Join(parent, "truncated.db")
	os.WriteFile(truncated, readFile(t, good)[:8192], 0o600)
	path := filepath.Join(dir, store.FileName)
	before := readFile(t, path)
	for _, tc := range []struct {
		code int
		msg  string
		args []string
	}{
		{4, "extension 200 already exists", []string{"user", "add", "--ext", "200", "--name", "X"}},
		{3, "extension 999 not found", []string{"user", "set", "--ext", "999", "--name", "X"}},
		{3, "extension 999 not found", []string{"user", "remove", "--ext", "999"}},
		{3, "extension 999 not found", []string{"device", "add", "--ext", "999"}},
		{3, "extension 999 not found", []string{"device", "list", "--ext", "999"}},
		{2, "primary device", []string{"device", "remove", "--id", "200"}},
		{2, "nothing to change", []string{"user", "set", "--ext", "200"}},
		{2, "at least 8 characters", []string{"user", "set", "--ext", "200", "--password", "short"}},
		{2, "line breaks or control characters", []string{"user", "set", "--ext", "200", "--name", "Alice\nSmith"}},
		{2, "longer than 200 characters", []string{"user", "set", "--ext", "200", "--name", strings.Repeat("A", 201)}},
		{2, "restore refused, nothing changed", []string{"restore", garbage}},
		{2, "restore refused, nothing changed", []string{"restore", truncated}},
	} {
		fails(t, dir, tc.code, tc.msg, tc.args...)
		if !bytes.Equal(readFile(t, path), before) {
			t.Fatalf("%q changed the store file", tc.args)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("%q left files behind: %v", tc.args, entries)
		}
	}
}

// kill -9 of the server while operators write loses no acknowledged record;
// the store checks out and serve starts again on it.
func TestKill9LosesNoAcknowledgedRecord(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	client, err := control.Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := context.Background()
	var specs []control.UserSpec
	for i := range 20 {
		specs = append(specs, control.UserSpec{Ext: fmt.Sprint(300 + i), Name: "Base", SIPPassword: "sip-pass-base"})
	}
	if _, err := client.ImportUsers(c, specs); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var users, devices []string // acknowledged
	var wg sync.WaitGroup
	enough := make(chan struct{})
	var once sync.Once
	var killed atomic.Bool
	for w := range 4 {
		wg.Go(func() {
			// After the kill a CLI command finds no server and would go on
			// offline; what it reports as done still counts.
			for i := 0; !killed.Load(); i++ {
				if w%2 == 0 { // users, through the CLI as an operator would
					ext := fmt.Sprint(1000 + w*1000 + i)
					r := run(t, dir, nil, "user", "add", "--ext", ext, "--name", "Load", "--password", "web-pass-1", "--sip-password", "sip-pass-1")
					if r.code != 0 {
						return // the server is gone
					}
					mu.Lock()
					users = append(users, ext)
					mu.Unlock()
					continue
				}
				d, err := client.AddDevice(c, fmt.Sprint(300+(w*7+i)%20), "device-pass-1")
				if err != nil {
					var e *control.Error
					if errors.As(err, &e) && e.Status == 409 { // that user has all 25 devices
						continue
					}
					return
				}
				mu.Lock()
				devices = append(devices, d.Device.ID)
				if len(devices) >= 120 && len(users) >= 6 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("the writers did not get going")
	}
	killed.Store(true)
	srv.kill() // mid-stream: the writers are still writing
	wg.Wait()
	t.Logf("%d users and %d devices acknowledged before kill -9", len(users), len(devices))

	if _, err := os.Stat(filepath.Join(dir, control.SocketName)); err != nil {
		t.Fatalf("expected the killed server's socket file: %v", err)
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Fatalf("store after kill -9: %v", err)
	}
	for _, ext := range users {
		if _, err := st.User(ext); err != nil {
			t.Fatalf("acknowledged user %s lost: %v", ext, err)
		}
	}
	for _, id := range devices {
		if _, err := st.Device(id); err != nil {
			t.Fatalf("acknowledged device %s lost: %v", id, err)
		}
	}
	st.Close()

	// serve starts again: the stale socket is replaced.
	again := startServer(t, dir)
	if strings.Contains(again.stdout.String(), "password") {
		t.Fatalf("the restart printed a login:\n%s", again.stdout)
	}
	ok(t, dir, []string{"user", "list"}, users[len(users)-1])
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
