package store

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// openTest opens a store in a new temporary directory and, at cleanup, runs
// bbolt's consistency check over it before closing it.
func openTest(t testing.TB) *Store {
	t.Helper()
	return openTestIn(t, t.TempDir())
}

func openTestIn(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil && !errors.Is(err, errClosed) {
			t.Errorf("store check: %v", err)
		}
		s.Close()
	})
	return s
}

var created = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func testUser(ext string) User {
	return User{Ext: ext, FirstName: "User", LastName: ext, Role: RoleUser, Emails: []string{ext + "@example.com"}, Created: created}
}

func testDevice(id, ext string) Device {
	d := Device{ID: id, Ext: ext, Created: created}
	d.SetSIPPassword("switchboard", "secret-"+id)
	return d
}

func mustCreate(t testing.TB, s *Store, exts ...string) {
	t.Helper()
	for _, ext := range exts {
		if err := s.CreateUser(testUser(ext), testDevice(ext, ext)); err != nil {
			t.Fatalf("create user %s: %v", ext, err)
		}
	}
}

// nextDevice adds the given id, as control picks "200b", "200c", ….
func nextDevice(id string) func([]string) (Device, error) {
	return func([]string) (Device, error) { return testDevice(id, ""), nil }
}

func TestUserCRUD(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200")

	u, err := s.User("200")
	if err != nil {
		t.Fatal(err)
	}
	if want := testUser("200"); !reflect.DeepEqual(u, want) {
		t.Fatalf("stored user = %+v, want %+v", u, want)
	}
	if d, err := s.Device("200"); err != nil || d.Ext != "200" || d.HA1MD5 == "" || d.HA1SHA256 == "" {
		t.Fatalf("primary device = %+v, %v", d, err)
	}

	// Taken extension, or a free extension whose first device id is taken: nothing is written.
	if err := s.CreateUser(testUser("200"), testDevice("200x", "200")); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate extension: err = %v, want ErrExists", err)
	}
	if err := s.CreateUser(testUser("201"), testDevice("200", "201")); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate device: err = %v, want ErrExists", err)
	}
	if _, err := s.User("201"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("user 201 after failed create: %v", err)
	}

	u, err = s.UpdateUser("200", func(u *User) error {
		u.FirstName, u.Disabled, u.Ext = "Alice", true, "999" // the extension cannot change
		return nil
	})
	if err != nil || u.Ext != "200" || u.Name() != "Alice 200" || !u.Disabled {
		t.Fatalf("update = %+v, %v", u, err)
	}
	if got, _ := s.User("200"); !reflect.DeepEqual(got, u) {
		t.Fatalf("after update stored %+v, returned %+v", got, u)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateUser("200", func(u *User) error { u.FirstName = "Bob"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing change: %v", err)
	}
	if got, _ := s.User("200"); got.FirstName != "Alice" {
		t.Fatalf("a failed change was stored: %+v", got)
	}
	if _, err := s.UpdateUser("404", func(*User) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing user: %v", err)
	}

	if _, err := s.AddDevice("200", nextDevice("200b")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveBindings(map[string][]Binding{"200": {liveBinding("a")}, "200b": {liveBinding("b")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser("200"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser("200"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if devices, _ := s.Devices(""); len(devices) != 0 {
		t.Fatalf("devices left after deleting their user: %+v", devices)
	}
	if b, _ := s.Bindings(time.Now()); len(b) != 0 {
		t.Fatalf("registrations left after deleting their user: %+v", b)
	}
}

func TestDevices(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "20", "200", "2000")

	if _, err := s.AddDevice("404", nextDevice("404b")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("device for missing user: %v", err)
	}
	// The existing ids handed to next are the user's own, not those of
	// extensions that merely start with the same digits.
	var seen []string
	d, err := s.AddDevice("20", func(existing []string) (Device, error) {
		seen = existing
		return testDevice("20b", "ignored"), nil
	})
	if err != nil || d.Ext != "20" {
		t.Fatalf("add device = %+v, %v", d, err)
	}
	if !reflect.DeepEqual(seen, []string{"20"}) {
		t.Fatalf("existing ids of 20 = %q, want [20]", seen)
	}
	if _, err := s.AddDevice("200", nextDevice("20b")); !errors.Is(err, ErrExists) {
		t.Fatalf("taken device id: %v", err)
	}
	for _, id := range []string{"2001", "21b", "x200"} { // not 200 followed by letters
		if _, err := s.AddDevice("200", nextDevice(id)); err == nil {
			t.Fatalf("device id %q accepted for extension 200", id)
		}
	}
	if _, err := s.AddDevice("200", func([]string) (Device, error) { return Device{}, errors.New("full") }); err == nil {
		t.Fatal("an error of next must fail AddDevice")
	}
	for _, id := range []string{"200c", "200b"} {
		if _, err := s.AddDevice("200", nextDevice(id)); err != nil {
			t.Fatal(err)
		}
	}

	d, err = s.UpdateDevice("200b", func(d *Device) error { d.Disabled = true; d.ID = "x"; return nil })
	if err != nil || d.ID != "200b" || !d.Disabled {
		t.Fatalf("update device = %+v, %v", d, err)
	}
	if _, err := s.UpdateDevice("404", func(*Device) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing device: %v", err)
	}

	if err := s.DeleteDevice("200"); err == nil {
		t.Fatal("the primary device must go only with its user")
	}
	if err := s.DeleteDevice("200c"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDevice("200c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	ids := func(ext string) []string {
		t.Helper()
		devices, err := s.Devices(ext)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range devices {
			out = append(out, d.ID)
		}
		return out
	}
	if got, want := ids(""), []string{"20", "20b", "200", "200b", "2000"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("all devices = %q, want %q", got, want)
	}
	if got, want := ids("200"), []string{"200", "200b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("devices of 200 = %q, want %q", got, want)
	}
}

func TestOrdering(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "1000", "201", "99", "200", "2000", "10")
	for _, id := range []string{"200c", "200b", "99b"} {
		ext := id[:len(id)-1]
		if _, err := s.AddDevice(ext, nextDevice(id)); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.Users()
	if err != nil {
		t.Fatal(err)
	}
	var exts []string
	for _, u := range users {
		exts = append(exts, u.Ext)
	}
	if want := []string{"10", "99", "200", "201", "1000", "2000"}; !reflect.DeepEqual(exts, want) {
		t.Fatalf("users in order %q, want %q", exts, want)
	}
	devices, _ := s.Devices("")
	var ids []string
	for _, d := range devices {
		ids = append(ids, d.ID)
	}
	if want := []string{"10", "99", "99b", "200", "200b", "200c", "201", "1000", "2000"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("devices in order %q, want %q", ids, want)
	}
}

// Two operators adding devices to one user at once must get different ids:
// next sees the ids inside the writing transaction.
func TestAddDeviceConcurrent(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "200")
	const n = 12
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := s.AddDevice("200", func(existing []string) (Device, error) {
				return testDevice(fmt.Sprintf("200%c", 'a'+len(existing)), ""), nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if devices, _ := s.Devices("200"); len(devices) != n+1 {
		t.Fatalf("%d devices, want %d", len(devices), n+1)
	}
}

func TestCreateUsersAllOrNone(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "205")
	batch := func(exts ...string) ([]User, []Device) {
		var us []User
		var ds []Device
		for _, e := range exts {
			us, ds = append(us, testUser(e)), append(ds, testDevice(e, e))
		}
		return us, ds
	}
	for name, exts := range map[string][]string{
		"taken in store": {"201", "202", "205", "206"},
		"twice in batch": {"201", "202", "201"},
	} {
		if err := s.CreateUsers(batch(exts...)); !errors.Is(err, ErrExists) {
			t.Fatalf("%s: err = %v, want ErrExists", name, err)
		}
		if users, _ := s.Users(); len(users) != 1 {
			t.Fatalf("%s: %d users after a refused batch, want 1", name, len(users))
		}
		if devices, _ := s.Devices(""); len(devices) != 1 {
			t.Fatalf("%s: %d devices after a refused batch, want 1", name, len(devices))
		}
	}
	if err := s.CreateUsers(batch("201", "202", "203")); err != nil {
		t.Fatal(err)
	}
	if users, _ := s.Users(); len(users) != 4 {
		t.Fatalf("%d users, want 4", len(users))
	}
}

func TestSettings(t *testing.T) {
	s := openTest(t)
	type hours struct {
		Open  string `json:"open"`
		Close string `json:"close"`
	}
	var h hours
	if err := s.Setting("hours", &h); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unset setting: %v", err)
	}
	want := hours{"08:00", "17:30"}
	if err := s.PutSetting("hours", want); err != nil {
		t.Fatal(err)
	}
	if err := s.Setting("hours", &h); err != nil || h != want {
		t.Fatalf("setting = %+v, %v", h, err)
	}

	calls := 0
	for range 3 {
		v, err := SettingOrInit(s, "counter", func() int { calls++; return 41 + calls })
		if err != nil || v != 42 {
			t.Fatalf("SettingOrInit = %d, %v", v, err)
		}
	}
	if calls != 1 {
		t.Fatalf("init ran %d times, want once", calls)
	}

	realm, err := s.SIPRealm()
	if err != nil || realm == "" {
		t.Fatalf("realm %q, %v", realm, err)
	}
	secret, err := s.NonceSecret()
	if err != nil || len(secret) != 64 {
		t.Fatalf("nonce secret %q, %v", secret, err)
	}
	again, _ := s.NonceSecret()
	if string(again) != string(secret) {
		t.Fatal("the nonce secret changed")
	}
}

func liveBinding(contact string) Binding {
	return Binding{Contact: "sip:" + contact + "@127.0.0.1:5062", Source: "127.0.0.1:5062", Transport: "UDP",
		Expires: time.Now().Add(time.Hour).Round(0).UTC(), CallID: "c-" + contact, CSeq: 7, Updated: created}
}

func TestBindings(t *testing.T) {
	s := openTest(t)
	now := time.Now()
	live, other := liveBinding("a"), liveBinding("b")
	expired := liveBinding("old")
	expired.Expires = now.Add(-time.Second)

	err := s.SaveBindings(map[string][]Binding{
		"200":  {expired, live},
		"200b": {expired},
		"201":  {live, other},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Bindings(now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Binding{"200": {live}, "201": {live, other}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bindings = %+v\nwant %+v", got, want)
	}

	// An empty list removes the device's record; others are untouched.
	if err := s.SaveBindings(map[string][]Binding{"201": nil, "200b": nil}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Bindings(now)
	if !reflect.DeepEqual(got, map[string][]Binding{"200": {live}}) {
		t.Fatalf("after removal = %+v", got)
	}
	// Later everything has expired.
	if got, _ := s.Bindings(now.Add(2 * time.Hour)); len(got) != 0 {
		t.Fatalf("after expiry = %+v", got)
	}
}

func TestClosedStore(t *testing.T) {
	s := openTest(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := s.Users(); !errors.Is(err, errClosed) {
		t.Fatalf("use after close: %v", err)
	}
}

func TestLockedByOther(t *testing.T) {
	dir := t.TempDir()
	openTestIn(t, dir)
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: err = %v, want ErrLocked", err)
	}
}
