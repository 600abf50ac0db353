package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
)

func TestParseServe(t *testing.T) {
	o, err := parseServe("d", "127.0.0.1:0", "127.0.0.1:0", "10000-10100", "debug", "sha256, md5")
	want := ServeOptions{Data: "d", SIP: "127.0.0.1:0", HTTP: "127.0.0.1:0", RTPLow: 10000, RTPHigh: 10100,
		LogLevel: slog.LevelDebug, Digest: []string{"SHA-256", "MD5"}}
	if err != nil || !reflect.DeepEqual(o, want) {
		t.Fatalf("parseServe = %+v, %v; want %+v (port 0 must be accepted)", o, err, want)
	}
	for name, args := range map[string][5]string{
		"sip without port":  {"127.0.0.1", ":8080", "10000-20000", "info", "md5"},
		"sip port too big":  {"127.0.0.1:70000", ":8080", "10000-20000", "info", "md5"},
		"http port letters": {":5060", ":http", "10000-20000", "info", "md5"},
		"rtp reversed":      {":5060", ":8080", "5-3", "info", "md5"},
		"rtp equal":         {":5060", ":8080", "20000-20000", "info", "md5"},
		"rtp privileged":    {":5060", ":8080", "80-2000", "info", "md5"},
		"rtp one number":    {":5060", ":8080", "10000", "info", "md5"},
		"log level":         {":5060", ":8080", "10000-20000", "loud", "md5"},
		"digest":            {":5060", ":8080", "10000-20000", "info", "sha1"},
	} {
		_, err := parseServe("d", args[0], args[1], args[2], args[3], args[4])
		if ExitCode(err) != 2 {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
}

func TestExitCode(t *testing.T) {
	for err, want := range map[error]int{
		nil:                                   0,
		errors.New("disk on fire"):            1,
		usagef("bad"):                         2,
		&control.Error{Status: 400}:           2,
		fmt.Errorf("x: %w", store.ErrInvalid): 2,
		&control.Error{Status: 404}:           3,
		&control.Error{Status: 409}:           4,
		fmt.Errorf("x: %w", store.ErrLocked):  5,
		&control.Error{Status: 500}:           1,
	} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// execute runs the CLI in-process; serve records the options it got.
func execute(t *testing.T, args ...string) (code int, stdout, stderr string, served *ServeOptions) {
	t.Helper()
	var out, errb bytes.Buffer
	serve := func(_ context.Context, o ServeOptions) error { served = &o; return nil }
	code = Execute(context.Background(), serve, args, &out, &errb)
	return code, out.String(), errb.String(), served
}

func TestExecute(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, _, stderr, served := execute(t, "--data", dir, "serve", "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0")
	if code != 0 || served == nil || served.SIP != "127.0.0.1:0" || served.Data != dir {
		t.Fatalf("serve: code %d, %+v, %s", code, served, stderr)
	}
	if code, _, stderr, served := execute(t, "serve", "--rtp-ports", "5-3"); code != 2 || served != nil || !strings.Contains(stderr, "--rtp-ports") {
		t.Fatalf("bad serve flags: code %d, served %v, %s", code, served, stderr)
	}
	if code, stdout, _, _ := execute(t, "version"); code != 0 || !strings.HasPrefix(stdout, "switchboard ") {
		t.Fatalf("version: %d %q", code, stdout)
	}
	for _, args := range [][]string{{"nope"}, {"user", "add", "--ext", "200"}, {"user", "list", "extra"}, {"backup"}, {"--bogus"}} {
		code, _, stderr, _ := execute(t, append([]string{"--data", dir}, args...)...)
		if code != 2 || !strings.HasPrefix(stderr, "switchboard: ") {
			t.Fatalf("%q: code %d, stderr %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("parsing errors created the data directory")
	}

	code, stdout, stderr, _ := execute(t, "--data", dir, "user", "add", "--ext", "200", "--name", "Alice", "--sip-password", "sip-pass-200")
	if code != 0 || !strings.Contains(stdout, "created user 200") {
		t.Fatalf("user add: %d %s %s", code, stdout, stderr)
	}
	code, _, stderr, _ = execute(t, "--data", dir, "user", "set", "--ext", "200", "--disable", "--enable")
	if code != 2 || !strings.Contains(stderr, "contradict") {
		t.Fatalf("--disable --enable: %d %s", code, stderr)
	}
}

func TestReadUserCSV(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	specs, err := readUserCSV(write("ok.csv", "ext,name,email,role,password,sip_password\n"+
		"200,Alice Smith,alice@example.com,admin,,sip-pass-200\n201,\"Bob, Jr\",,,,sip-pass-201\n"))
	want := []control.UserSpec{
		{Ext: "200", Name: "Alice Smith", Email: "alice@example.com", Role: store.RoleAdmin, SIPPassword: "sip-pass-200"},
		{Ext: "201", Name: "Bob, Jr", SIPPassword: "sip-pass-201"},
	}
	if err != nil || !reflect.DeepEqual(specs, want) {
		t.Fatalf("specs = %+v, %v", specs, err)
	}
	for name, body := range map[string]string{
		"wrong header":   "ext,name\n200,Alice\n",
		"short row":      "ext,name,email,role,password,sip_password\n200,Alice\n",
		"no users":       "ext,name,email,role,password,sip_password\n",
		"empty":          "",
		"unclosed quote": "ext,name,email,role,password,sip_password\n200,\"Alice,,,,x\n",
	} {
		if _, err := readUserCSV(write(name+".csv", body)); ExitCode(err) != 2 {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
	if _, err := readUserCSV(filepath.Join(dir, "missing.csv")); ExitCode(err) != 2 {
		t.Errorf("missing file: %v", err)
	}
}

func TestImportChecksBeforeOpening(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "users.csv")
	os.WriteFile(csv, []byte("ext,name,email,role,password,sip_password\n200,Alice,,,,sip-pass-200\n200,Bob,,,,sip-pass-201\n"), 0o600)
	data := filepath.Join(dir, "data")
	code, _, stderr, _ := execute(t, "--data", data, "user", "import", csv)
	if code != 2 || !strings.Contains(stderr, "appears twice") {
		t.Fatalf("import: %d %s", code, stderr)
	}
	if _, err := os.Stat(data); err == nil {
		t.Fatal("a refused import created the data directory")
	}
	var e *control.Error
	if err := control.CheckImport([]control.UserSpec{{Ext: "200", Name: "A"}}); !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		t.Fatalf("import without SIP password: %v", err)
	}
}
