package store

import (
	"bytes"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openTest opens a store in a temp dir and checks the file's consistency at cleanup.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		s.Close()
	})
	return s
}

func addUser(t *testing.T, s *Store, ext, pw string) Device {
	t.Helper()
	d := Device{ID: ext, Ext: ext}
	d.SetSIPPassword("switchboard", pw)
	if err := s.CreateUser(User{Ext: ext, FirstName: "U", Role: RoleUser}, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// DeviceSecrets answers from memory, so every change to users and devices
// must show at once: a disabled or deleted phone must not register on a
// stale copy, a new password must work immediately.
func TestDeviceSecretsFollowChanges(t *testing.T) {
	s := openTest(t)
	want := func(id string, d *Device) {
		t.Helper()
		got, ok := s.DeviceSecrets(id)
		switch {
		case d == nil && ok:
			t.Fatalf("%s: has secrets %+v, want none", id, got)
		case d != nil && (!ok || got.HA1MD5 != d.HA1MD5 || got.HA1SHA256 != d.HA1SHA256):
			t.Fatalf("%s: secrets %+v %v, want %s", id, got, ok, d.HA1MD5)
		}
	}
	want("200", nil)
	d200 := addUser(t, s, "200", "first-password")
	want("200", &d200)

	d200b, err := s.AddDevice("200", func([]string) (Device, error) {
		d := Device{ID: "200b"}
		d.SetSIPPassword("switchboard", "desk-phone-2")
		return d, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want("200b", &d200b)

	d200, err = s.UpdateDevice("200", func(d *Device) error { d.SetSIPPassword("switchboard", "new-password"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want("200", &d200)

	if _, err := s.UpdateDevice("200b", func(d *Device) error { d.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	want("200b", nil)
	want("200", &d200)

	if _, err := s.UpdateUser("200", func(u *User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	want("200", nil)
	if _, err := s.UpdateUser("200", func(u *User) error { u.Disabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	want("200", &d200)

	if err := s.DeleteUser("200"); err != nil {
		t.Fatal(err)
	}
	want("200", nil)
	want("200b", nil)

	users := []User{{Ext: "300", FirstName: "A"}, {Ext: "301", FirstName: "B"}}
	devs := []Device{{ID: "300", Ext: "300"}, {ID: "301", Ext: "301"}}
	for i := range devs {
		devs[i].SetSIPPassword("switchboard", "imported-"+devs[i].ID)
	}
	if err := s.CreateUsers(users, devs); err != nil {
		t.Fatal(err)
	}
	want("301", &devs[1])
}

// Binding flushes, many a second under load, must not throw the snapshot away.
func TestSaveBindingsKeepsSecretsSnapshot(t *testing.T) {
	s := openTest(t)
	addUser(t, s, "200", "first-password")
	s.DeviceSecrets("200")
	before := s.secrets.Load()
	err := s.SaveBindings(map[string][]Binding{"200": {{Contact: "sip:200@10.0.0.5", Expires: time.Now().Add(time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	s.DeviceSecrets("200")
	if s.secrets.Load() != before {
		t.Fatal("SaveBindings invalidated the secrets snapshot")
	}
}

// A restore swaps the whole file: the snapshot must follow it.
func TestDeviceSecretsAfterRestore(t *testing.T) {
	s := openTest(t)
	d := addUser(t, s, "200", "first-password")
	var backup bytes.Buffer
	if _, err := s.Backup(&backup, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser("200"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.DeviceSecrets("200"); ok {
		t.Fatal("deleted device still has secrets")
	}
	if _, _, err := s.Restore(&backup); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.DeviceSecrets("200"); !ok || got.HA1MD5 != d.HA1MD5 {
		t.Fatalf("after restore: %+v %v", got, ok)
	}
}

// A write that failed still leaves the snapshot out of date (it is cheap to
// reread, and the failed write may have been partly visible to no one).
func TestDeviceSecretsAfterFailedWrite(t *testing.T) {
	s := openTest(t)
	addUser(t, s, "200", "first-password")
	s.DeviceSecrets("200")
	gen := s.gen.Load()
	s.update(func(*bolt.Tx) error { return ErrExists })
	if s.gen.Load() == gen {
		t.Fatal("generation unchanged after a write")
	}
}
