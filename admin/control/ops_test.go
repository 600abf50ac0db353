package control_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/store"
)

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// openStore opens a store in dir and checks it at cleanup.
func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		st.Close()
	})
	return st
}

// serve serves ops on the control socket of dir until the test ends and
// returns a client connected to it.
func serve(t testing.TB, dir string, ops control.Ops) *control.Client {
	t.Helper()
	l, err := control.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := control.Serve(c, l, ops, slog.New(slog.DiscardHandler)); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	client, err := control.Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// both runs fn against Local on a store, and against a Client through a
// served control socket, each with its own fresh data directory.
func both(t *testing.T, fn func(t *testing.T, ops control.Ops, st *store.Store)) {
	t.Run("local", func(t *testing.T) {
		st := openStore(t, t.TempDir())
		fn(t, &control.Local{Store: st}, st)
	})
	t.Run("socket", func(t *testing.T) {
		dir := t.TempDir()
		st := openStore(t, dir)
		fn(t, serve(t, dir, &control.Local{Store: st}), st)
	})
}

// wantStatus fails unless err is a *control.Error with the given status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var e *control.Error
	if !errors.As(err, &e) || e.Status != status {
		t.Fatalf("err = %v (%T), want status %d", err, err, status)
	}
	if e.Message == "" {
		t.Fatal("an error without a message")
	}
}

func ptr[T any](v T) *T { return &v }

func TestUsersAndDevices(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		nu, err := ops.AddUser(c, control.UserSpec{Ext: " 200 ", Name: " Alice  Smith ", Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if nu.Password == "" || nu.SIPPassword == "" || len(nu.SIPPassword) != 16 {
			t.Fatalf("generated passwords %q / %q", nu.Password, nu.SIPPassword)
		}
		want := control.UserView{Ext: "200", Name: "Alice Smith", Email: "alice@example.com", Role: store.RoleUser,
			WebLogin: true, Devices: []string{"200"}}
		if !reflect.DeepEqual(nu.User, want) {
			t.Fatalf("new user %+v, want %+v", nu.User, want)
		}
		u, _ := st.User("200")
		if !u.CheckPassword(nu.Password) {
			t.Fatal("the generated web password does not log in")
		}
		// Given passwords are not echoed.
		nu, err = ops.AddUser(c, control.UserSpec{Ext: "201", Name: "Bob", Role: store.RoleAdmin,
			Password: "web-password-1", SIPPassword: "sip-password-1"})
		if err != nil || nu.Password != "" || nu.SIPPassword != "" || nu.User.Role != store.RoleAdmin {
			t.Fatalf("add with passwords: %+v, %v", nu, err)
		}

		_, err = ops.AddUser(c, control.UserSpec{Ext: "200", Name: "Again"})
		wantStatus(t, err, http.StatusConflict)
		for name, spec := range map[string]control.UserSpec{
			"bad extension":  {Ext: "abc", Name: "X"},
			"leading zero":   {Ext: "0200", Name: "X"},
			"no name":        {Ext: "300"},
			"bad role":       {Ext: "300", Name: "X", Role: "boss"},
			"short password": {Ext: "300", Name: "X", Password: "short"},
			"bad email":      {Ext: "300", Name: "X", Email: "not-an-email"},
			"quote in sip":   {Ext: "300", Name: "X", SIPPassword: `pass"word1`},
		} {
			_, err := ops.AddUser(c, spec)
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
			wantStatus(t, err, http.StatusBadRequest)
			if err := control.CheckUserSpec(spec); err == nil {
				t.Fatalf("%s: CheckUserSpec accepted it", name)
			}
		}

		v, err := ops.SetUser(c, "200", control.UserPatch{Name: ptr("Alice Jones"), Role: ptr(store.RoleAdmin), Email: ptr("")})
		if err != nil || v.Name != "Alice Jones" || v.Role != store.RoleAdmin || v.Email != "" {
			t.Fatalf("set user: %+v, %v", v, err)
		}
		before, _ := st.Device("200")
		if _, err := ops.SetUser(c, "200", control.UserPatch{SIPPassword: ptr("new-sip-pass")}); err != nil {
			t.Fatal(err)
		}
		if after, _ := st.Device("200"); after.HA1MD5 == before.HA1MD5 {
			t.Fatal("a new SIP password did not change the device's secret")
		}
		_, err = ops.SetUser(c, "404", control.UserPatch{Name: ptr("X")})
		wantStatus(t, err, http.StatusNotFound)
		_, err = ops.SetUser(c, "200", control.UserPatch{Role: ptr(store.Role("boss"))})
		wantStatus(t, err, http.StatusBadRequest)
		_, err = ops.SetUser(c, "200", control.UserPatch{Password: ptr("short")})
		wantStatus(t, err, http.StatusBadRequest)
		if v, err := ops.SetUser(c, "200", control.UserPatch{Department: ptr(" Sales ")}); err != nil || v.Department != "Sales" {
			t.Fatalf("set department: %+v, %v", v, err)
		}
		_, err = ops.SetUser(c, "200", control.UserPatch{Department: ptr("a\nb")})
		wantStatus(t, err, http.StatusBadRequest)

		nd, err := ops.AddDevice(c, "200", "")
		if err != nil || nd.Device.ID != "200b" || nd.SIPPassword == "" {
			t.Fatalf("add device: %+v, %v", nd, err)
		}
		nd, err = ops.AddDevice(c, "200", "device-pass-2")
		if err != nil || nd.Device.ID != "200c" || nd.SIPPassword != "" {
			t.Fatalf("add device with password: %+v, %v", nd, err)
		}
		_, err = ops.AddDevice(c, "404", "")
		wantStatus(t, err, http.StatusNotFound)
		_, err = ops.AddDevice(c, "200", "short")
		wantStatus(t, err, http.StatusBadRequest)

		devices, err := ops.ListDevices(c, "200")
		if err != nil || len(devices) != 3 || devices[1].ID != "200b" {
			t.Fatalf("devices of 200: %+v, %v", devices, err)
		}
		_, err = ops.ListDevices(c, "404")
		wantStatus(t, err, http.StatusNotFound)
		all, _ := ops.ListDevices(c, "")
		if len(all) != 4 {
			t.Fatalf("all devices: %+v", all)
		}

		wantStatus(t, ops.RemoveDevice(c, "200"), http.StatusBadRequest) // the primary
		wantStatus(t, ops.RemoveDevice(c, "200a"), http.StatusBadRequest)
		wantStatus(t, ops.RemoveDevice(c, "200z"), http.StatusNotFound)
		if err := ops.RemoveDevice(c, "200b"); err != nil {
			t.Fatal(err)
		}
		// The next device fills the gap.
		if nd, _ := ops.AddDevice(c, "200", ""); nd.Device.ID != "200b" {
			t.Fatalf("device after removal: %+v", nd)
		}

		users, err := ops.ListUsers(c)
		if err != nil || len(users) != 2 || users[0].Ext != "200" || len(users[0].Devices) != 3 {
			t.Fatalf("users: %+v, %v", users, err)
		}
		if err := ops.RemoveUser(c, "200"); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, ops.RemoveUser(c, "200"), http.StatusNotFound)
		if devices, _ := st.Devices(""); len(devices) != 1 {
			t.Fatalf("devices after removing 200: %+v", devices)
		}
	})
}

func TestImportAllOrNone(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		if _, err := ops.AddUser(c, control.UserSpec{Ext: "205", Name: "Taken"}); err != nil {
			t.Fatal(err)
		}
		spec := func(ext string) control.UserSpec {
			return control.UserSpec{Ext: ext, Name: "User " + ext, SIPPassword: "sip-pass-" + ext}
		}
		for name, tc := range map[string]struct {
			specs  []control.UserSpec
			status int
		}{
			"taken extension":  {[]control.UserSpec{spec("201"), spec("205")}, http.StatusConflict},
			"twice":            {[]control.UserSpec{spec("201"), spec("202"), spec("201")}, http.StatusBadRequest},
			"no sip password":  {[]control.UserSpec{spec("201"), {Ext: "202", Name: "X"}}, http.StatusBadRequest},
			"a bad extension":  {[]control.UserSpec{spec("201"), spec("2x")}, http.StatusBadRequest},
			"a short password": {[]control.UserSpec{spec("201"), {Ext: "202", Name: "X", SIPPassword: "short"}}, http.StatusBadRequest},
		} {
			_, err := ops.ImportUsers(c, tc.specs)
			wantStatus(t, err, tc.status)
			if users, _ := st.Users(); len(users) != 1 {
				t.Fatalf("%s: %d users after a refused import", name, len(users))
			}
		}
		n, err := ops.ImportUsers(c, []control.UserSpec{spec("201"), spec("202")})
		if err != nil || n != 2 {
			t.Fatalf("import: %d, %v", n, err)
		}
		if u, _ := st.User("201"); u.PasswordHash != "" {
			t.Fatal("an import without a web password must leave web login off")
		}
	})
}

func TestDialNoServer(t *testing.T) {
	dir := t.TempDir()
	if _, err := control.Dial(dir); !errors.Is(err, control.ErrNoServer) {
		t.Fatalf("dial empty dir: %v", err)
	}
	// A socket file left by a server that died.
	l, err := control.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ul, ok := l.(interface{ SetUnlinkOnClose(bool) }); ok {
		ul.SetUnlinkOnClose(false)
	}
	l.Close()
	if _, err := os.Stat(filepath.Join(dir, control.SocketName)); err != nil {
		t.Fatal("expected a stale socket file")
	}
	if _, err := control.Dial(dir); !errors.Is(err, control.ErrNoServer) {
		t.Fatalf("dial stale socket: %v", err)
	}
	// A new server replaces it; a second one is refused while it runs.
	st := openStore(t, dir)
	client := serve(t, dir, &control.Local{Store: st})
	if _, err := client.ListUsers(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := control.Listen(dir); err == nil {
		t.Fatal("a second server on the same directory was allowed")
	}
}

// A backup request that fails before any byte is sent is an error answer,
// not an empty 200.
func TestBackupErrorBeforeStream(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	client := serve(t, dir, &control.Local{Store: st})
	st.Close()
	_, err = client.Backup(ctx(t), io.Discard, nil)
	wantStatus(t, err, http.StatusInternalServerError)
}
