package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeBolt creates a bbolt file at path holding the given buckets and records.
func writeBolt(t testing.TB, path string, buckets map[string]map[string][]byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for name, recs := range buckets {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range recs {
				if err := b.Put([]byte(k), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setSchema rewrites the schema version of the closed store file at path.
func setSchema(t testing.TB, path string, v uint32) {
	t.Helper()
	var buf [4]byte
	binary.BigEndian.PutUint32(buf[:], v)
	writeBolt(t, path, map[string]map[string][]byte{"meta": {string(keySchema): buf[:]}})
}

func schemaOf(t testing.TB, s *Store) uint32 {
	t.Helper()
	var v uint32
	if err := s.view(func(tx *bolt.Tx) error { v = readVersion(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFreshStoreHasCurrentSchema(t *testing.T) {
	dir := t.TempDir()
	s := openTestIn(t, dir)
	if got := schemaOf(t, s); got != SchemaVersion() || got == 0 {
		t.Fatalf("schema version %d, want %d", got, SchemaVersion())
	}
	id, err := s.InstallID()
	if err != nil || len(id) != 32 {
		t.Fatalf("install id %q, %v", id, err)
	}
	s.Close()
	s = openTestIn(t, dir)
	if again, _ := s.InstallID(); again != id {
		t.Fatalf("install id changed on reopen: %q → %q", id, again)
	}
	if extra := filesExcept(t, dir, FileName); len(extra) != 0 {
		t.Fatalf("a fresh store needs no pre-migration copy, found %q", extra)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTestIn(t, dir)
	mustCreate(t, s, "200")
	s.Close()
	path := filepath.Join(dir, FileName)
	setSchema(t, path, SchemaVersion()+1)
	before := readFile(t, path)

	_, err := Open(dir)
	if !errors.Is(err, ErrNewer) {
		t.Fatalf("open newer store: err = %v, want ErrNewer", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "newer than this binary") || !strings.Contains(msg, "upgrade switchboard") {
		t.Fatalf("unclear error: %q", msg)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("refusing a newer store changed its file")
	}
	if _, err := Validate(path); !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrNewer) {
		t.Fatalf("validate newer store: %v", err)
	}
}

// A store written before schema versions existed (version 0: our buckets,
// no meta) is copied aside, then migrated, keeping its records.
func TestVersion0Migrated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	user, _ := json.Marshal(testUser("200"))
	dev, _ := json.Marshal(testDevice("200", "200"))
	writeBolt(t, path, map[string]map[string][]byte{
		"users":   {"200": user},
		"devices": {"200": dev},
	})

	s := openTestIn(t, dir)
	if got := schemaOf(t, s); got != SchemaVersion() {
		t.Fatalf("schema after migration %d, want %d", got, SchemaVersion())
	}
	if u, err := s.User("200"); err != nil || u.Name() != "User 200" {
		t.Fatalf("user after migration: %+v, %v", u, err)
	}
	if id, _ := s.InstallID(); id == "" {
		t.Fatal("migration set no install id")
	}
	if _, err := s.AddDevice("200", nextDevice("200b")); err != nil {
		t.Fatalf("migrated store is not usable: %v", err)
	}

	copies, _ := filepath.Glob(path + ".pre-v*")
	if len(copies) != 1 {
		t.Fatalf("pre-migration copies: %q, want one", copies)
	}
	db, err := bolt.Open(copies[0], 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil || tx.Bucket(bucketUsers).Get([]byte("200")) == nil {
			t.Error("the pre-migration copy is not the version-0 file")
		}
		return nil
	})
}

func TestForeignFilesRefused(t *testing.T) {
	cases := map[string]map[string]map[string][]byte{
		"another program's bbolt file": {"widgets": {"a": []byte("1")}},
		"our buckets plus a stranger":  {"users": {}, "widgets": {}},
		"a version without our marker": {"meta": {string(keySchema): {0, 0, 0, 1}}, "users": {}},
	}
	for name, buckets := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			writeBolt(t, path, buckets)
			before := readFile(t, path)
			if _, err := Open(dir); !errors.Is(err, ErrInvalid) {
				t.Fatalf("open: err = %v, want ErrInvalid", err)
			}
			if !bytes.Equal(readFile(t, path), before) {
				t.Fatal("a refused file was changed")
			}
			if extra := filesExcept(t, dir, FileName); len(extra) != 0 {
				t.Fatalf("left behind %q", extra)
			}
		})
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// filesExcept lists the names in dir other than keep.
func filesExcept(t testing.TB, dir string, keep ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
outer:
	for _, e := range entries {
		for _, k := range keep {
			if e.Name() == k {
				continue outer
			}
		}
		out = append(out, e.Name())
	}
	return out
}
