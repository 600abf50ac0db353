package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names. Every record type has its own top-level bucket.
var (
	bucketMeta       = []byte("meta")
	bucketSettings   = []byte("settings")
	bucketUsers      = []byte("users")
	bucketDevices    = []byte("devices")
	bucketBindings   = []byte("bindings")
	bucketCalls      = []byte("calls") // key: start time (8 bytes BE ns) + call id hash
	bucketTimeFrames = []byte("timeframes")
	bucketHandling   = []byte("handling")  // key: extension → CallHandling (DND, answering rules)
	bucketMailboxes  = []byte("mailboxes") // key: extension → Mailbox (PIN, greeting settings, email)
	bucketMessages   = []byte("messages")  // one nested bucket per extension; key: time (8 bytes BE ns) + id
	bucketAudio      = []byte("audio")     // G.711 μ-law blobs: music on hold, intros, greetings
	bucketSessions   = []byte("sessions")  // key: SHA-256 of a web session token → Session
)

// knownBuckets are the buckets a store of any version up to this binary's may have.
var knownBuckets = map[string]bool{"meta": true, "settings": true, "users": true, "devices": true, "bindings": true}

var (
	keySchema    = []byte("schema_version")
	keyMagic     = []byte("magic")
	keyInstallID = []byte("install_id")
	magic        = []byte("switchboard")
)

// migration moves a store from version i to i+1 (migrations[i]): it creates
// the buckets that version adds, then runs its extra step if any. Each runs
// inside the one Update that also writes the new version, so an upgrade is
// all or nothing.
type migration struct {
	buckets [][]byte
	extra   func(tx *bolt.Tx) error
}

var migrations = []migration{
	// 0 → 1: the first layout.
	{buckets: [][]byte{bucketSettings, bucketUsers, bucketDevices, bucketBindings}, extra: func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyMagic, magic); err != nil {
			return err
		}
		return meta.Put(keyInstallID, []byte(RandomToken(16)))
	}},
	// 1 → 2: call records.
	{buckets: [][]byte{bucketCalls}},
	// 2 → 3: time frames.
	{buckets: [][]byte{bucketTimeFrames}},
	// 3 → 4: answering rules, voicemail, audio blobs and web sessions.
	{buckets: [][]byte{bucketHandling, bucketMailboxes, bucketMessages, bucketAudio, bucketSessions}},
}

func (m migration) run(tx *bolt.Tx) error {
	for _, name := range m.buckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	if m.extra != nil {
		return m.extra(tx)
	}
	return nil
}

// missingBucket names a bucket a store of version v must have but tx lacks
// (damage that a page walk cannot see: the name itself was hit), or "".
func missingBucket(tx *bolt.Tx, v uint32) string {
	for _, m := range migrations[:min(int(v), len(migrations))] {
		for _, name := range m.buckets {
			if tx.Bucket(name) == nil {
				return string(name)
			}
		}
	}
	return ""
}

// SchemaVersion is the layout this binary writes.
func SchemaVersion() uint32 { return uint32(len(migrations)) }

func readVersion(tx *bolt.Tx) uint32 {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0
	}
	v := meta.Get(keySchema)
	if len(v) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// migrate brings the file at path up to SchemaVersion. A file written by a
// newer binary is refused; an older non-empty file is copied aside first.
func migrate(db *bolt.DB, path string) error {
	var have uint32
	var fresh bool
	if err := db.View(func(tx *bolt.Tx) error {
		have = readVersion(tx)
		var names []string
		tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
		fresh = len(names) == 0
		if have > 0 && string(tx.Bucket(bucketMeta).Get(keyMagic)) != string(magic) {
			return fmt.Errorf("%s: %w (no switchboard marker)", path, ErrInvalid)
		}
		// Before version 1 there was no marker: such a file may hold only our buckets.
		// Anything else is some other program's bbolt file, which we must not rewrite.
		for _, name := range names {
			if have == 0 && !knownBuckets[name] {
				return fmt.Errorf("%s: %w (it has a bucket %q switchboard does not know)", path, ErrInvalid, name)
			}
		}
		if name := missingBucket(tx, have); name != "" {
			return fmt.Errorf("%s: %w (the %q records are missing: the file is damaged; restore a backup)", path, ErrInvalid, name)
		}
		return nil
	}); err != nil {
		return err
	}
	want := SchemaVersion()
	if have > want {
		return fmt.Errorf("%s has schema version %d, newer than this binary's %d: upgrade switchboard to use it: %w",
			path, have, want, ErrNewer)
	}
	if have == want {
		return nil
	}
	if !fresh {
		backup := fmt.Sprintf("%s.pre-v%d-%s", path, want, time.Now().UTC().Format("20060102T150405"))
		if err := db.View(func(tx *bolt.Tx) error { return tx.CopyFile(backup, 0o600) }); err != nil {
			return fmt.Errorf("copy store before migration: %w", err)
		}
	}
	return db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		for v := have; v < want; v++ {
			if err := migrations[v].run(tx); err != nil {
				return fmt.Errorf("migrate store to version %d: %w", v+1, err)
			}
		}
		var buf [4]byte
		binary.BigEndian.PutUint32(buf[:], want)
		return meta.Put(keySchema, buf[:])
	})
}

// InstallID identifies this installation (stable across restarts and restores of its own backups).
func (s *Store) InstallID() (string, error) {
	var id string
	err := s.view(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(keyInstallID))
		return nil
	})
	return id, err
}

// removeIfExists removes a file, ignoring that it is already gone.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
