package store

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

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
		case d != nil && (!ok || hex.EncodeToString(got.HA1MD5[:]) != d.HA1MD5 || hex.EncodeToString(got.HA1SHA256[:]) != d.HA1SHA256):
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
	if got, ok := s.DeviceSecrets("200"); !ok || hex.EncodeToString(got.HA1MD5[:]) != d.HA1MD5 {
		t.Fatalf("after restore: %+v %v", got, ok)
	}
}

// A write that failed leaves the snapshot right.
func TestDeviceSecretsAfterFailedWrite(t *testing.T) {
	s := openTest(t)
	d := addUser(t, s, "200", "first-password")
	err := s.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketDevices).Delete([]byte("200")); err != nil {
			return err
		}
		return ErrExists // rolls the delete back
	})
	if err != ErrExists {
		t.Fatal(err)
	}
	if got, ok := s.DeviceSecrets("200"); !ok || hex.EncodeToString(got.HA1MD5[:]) != d.HA1MD5 {
		t.Fatalf("after a failed write: %+v %v", got, ok)
	}
}

// A snapshot read before a write (by a slow reader) must never replace one
// read after it.
func TestOlderSnapshotNeverWins(t *testing.T) {
	s := openTest(t)
	addUser(t, s, "200", "first-password")
	stale := s.secrets.Load()
	if err := s.DeleteUser("200"); err != nil {
		t.Fatal(err)
	}
	fresh := s.secrets.Load()
	if fresh.gen <= stale.gen {
		t.Fatalf("generation %d after a write, was %d", fresh.gen, stale.gen)
	}
	if got := s.publishSecrets(stale); got != fresh || s.secrets.Load() != fresh {
		t.Fatal("an older snapshot replaced a newer one")
	}
	if _, ok := s.DeviceSecrets("200"); ok {
		t.Fatal("deleted device has secrets")
	}
}

func TestDeviceSecretsAfterClose(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addUser(t, s, "200", "first-password")
	s.Close()
	if _, ok := s.DeviceSecrets("200"); ok {
		t.Fatal("a closed store answered")
	}
}

// Readers never see a torn or missing snapshot while writers change devices
// (run with -race).
func TestDeviceSecretsConcurrent(t *testing.T) {
	s := openTest(t)
	addUser(t, s, "200", "first-password")
	addUser(t, s, "201", "first-password")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			s.UpdateUser("201", func(u *User) error { u.Disabled = !u.Disabled; return nil })
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		if _, ok := s.DeviceSecrets("200"); !ok {
			t.Fatal("an untouched device lost its secrets")
		}
	}
}

// A device record whose HA1 is not exactly a digest's length in hex (a
// hand-edited or foreign file) cannot register; it never crashes the load.
func TestDecodeHex(t *testing.T) {
	var md5 [16]byte
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"00112233445566778899aabbccddeeff", true},
		{"00112233445566778899AABBCCDDEEFF", true},
		{"00112233445566778899aabbccddeeff00", false},
		{"00112233445566778899aabbccddeeff" + strings.Repeat("0", 1000), false},
		{"00112233445566778899aabbccddee", false},
		{"00112233445566778899aabbccddeexx", false},
		{"", false},
	} {
		if got := decodeHex(md5[:], tc.in); got != tc.want {
			t.Errorf("decodeHex(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
