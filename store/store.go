// Package store keeps everything Switchboard remembers in one bbolt file:
// settings, users, devices, registrations (and later call records, voicemail,
// music). One file is one backup. It imports nothing of ours.
package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the store's file inside the data directory.
const FileName = "switchboard.db"

var (
	ErrNotFound = errors.New("not found")
	// ErrBadValue marks a record a caller tried to store that is not valid
	// (a rule without a target, a PIN with letters); the message says why.
	ErrBadValue = errors.New("invalid value")
	ErrExists   = errors.New("already exists")
	// ErrLocked means another process (usually a running `switchboard serve`) holds the file.
	ErrLocked = errors.New("store is in use by another process")
	// ErrInvalid marks a file that is not a usable Switchboard store.
	ErrInvalid = errors.New("not a valid switchboard store")
	// ErrNewer marks a store written by a newer switchboard than this binary.
	ErrNewer = errors.New("store is from a newer switchboard")

	errClosed = errors.New("store is closed")
)

// Store is the open data file. All methods are safe for concurrent use; a
// restore swaps the underlying file while callers wait briefly.
type Store struct {
	mu   sync.RWMutex // held shared by every operation, exclusively by Restore
	db   *bolt.DB
	dir  string
	path string

	// gen counts writes that may change users or devices, so that a
	// snapshot of device secrets is never replaced by an older one.
	gen       atomic.Uint64
	secrets   atomic.Pointer[secretsTable]
	secretsMu sync.Mutex
}

// Open opens (or creates) the store in dir and runs pending migrations.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	s := &Store{dir: dir, path: filepath.Join(dir, FileName)}
	db, err := openDB(s.path)
	if err != nil {
		return nil, err
	}
	s.db = db
	// A restore that was killed leaves its upload behind; we hold the lock,
	// so no restore of another process is under way.
	if stale, _ := filepath.Glob(filepath.Join(dir, restoreTempPattern)); len(stale) > 0 {
		for _, p := range stale {
			os.Remove(p)
		}
	}
	return s, nil
}

func openDB(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 500 * time.Millisecond})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(db, path); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the file. The store is unusable afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets.Store(nil)
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// Dir is the data directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Path is the store file.
func (s *Store) Path() string { return s.path }

func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errClosed
	}
	return s.db.View(fn)
}

// update runs fn in a write transaction, then replaces the in-memory
// snapshot of device secrets before it returns, whatever fn changed: new
// writers are safe by default. (At 10,000 devices that costs ~40 ms, a
// fraction of the bcrypt most changes of users already cost.) Only writers
// that touch neither users nor devices may use updateNoSecrets instead.
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	err := s.updateNoSecrets(fn)
	s.refreshSecrets()
	return err
}

// updateNoSecrets is update for writes that cannot change who may register
// and with which secret (the registrar's binding flushes, many a second).
func (s *Store) updateNoSecrets(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errClosed
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		packBuckets(tx)
		return fn(tx)
	})
}

// packBuckets fills pages to 90 % instead of bbolt's 50 % when they split,
// in the buckets whose records are mostly added in key order (extensions,
// call times) and then rewritten in place: half the pages, so half the
// file the switch reads into memory at startup. (Random keys, like session
// tokens, keep the default.)
func packBuckets(tx *bolt.Tx) {
	for _, name := range [][]byte{bucketUsers, bucketDevices, bucketBindings, bucketCalls} {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = 0.9
		}
	}
}

// Check runs bbolt's consistency check over the whole file.
func (s *Store) Check() error {
	return s.view(checkTx)
}

func checkTx(tx *bolt.Tx) error {
	// Read every error: bbolt's checker runs on its own goroutine and would
	// block forever on a channel nobody drains any more.
	var errs []error
	more := 0
	for err := range tx.Check() {
		if len(errs) < 10 {
			errs = append(errs, err)
		} else {
			more++
		}
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("and %d more", more))
	}
	return errors.Join(errs...)
}

func getJSON(b *bolt.Bucket, key string, v any) error {
	data := b.Get([]byte(key))
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode record %q: %w", key, err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// RandomToken returns n random bytes, hex encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux; a failure means no safe randomness at all
	}
	return hex.EncodeToString(b)
}
