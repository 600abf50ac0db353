package store

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// DigestSecrets are what the switch needs to check a device's SIP digest
// credentials: the stored HA1 values, never a password. They are kept as
// bytes, not the hex of the records, to halve the snapshot of every device.
type DigestSecrets struct {
	HA1MD5    [md5.Size]byte
	HA1SHA256 [sha256.Size]byte
	// WebSocketOnly: a webphone's, whose HA1 the web session hands to the
	// browser; it is accepted only over the webphone's WebSocket.
	WebSocketOnly bool
}

// secretsTable is an immutable snapshot of the secrets of every device that
// may register, read after the gen-th write.
type secretsTable struct {
	gen  uint64
	byID map[string]DigestSecrets
}

// DeviceSecrets returns the digest secrets of device id. ok is false when
// the device does not exist, is disabled, or belongs to a disabled user:
// all three look the same to a caller, as they must to a phone.
//
// It answers from memory, without a read transaction or a JSON decode per
// REGISTER: a snapshot of all devices, which every write that may change
// users or devices replaces before it returns (see update). Known and
// unknown ids cost the same map lookup, so timing does not tell which
// extensions exist.
func (s *Store) DeviceSecrets(id string) (DigestSecrets, bool) {
	t := s.secrets.Load()
	if t == nil {
		s.secretsMu.Lock() // one reload at a time; the others wait for its result
		if t = s.secrets.Load(); t == nil {
			t, _ = s.reloadSecrets()
		}
		s.secretsMu.Unlock()
		if t == nil {
			return DigestSecrets{}, false
		}
	}
	sec, ok := t.byID[id]
	return sec, ok
}

// LoadSecrets reads the snapshot DeviceSecrets answers from, so that the
// first REGISTER does not wait for it.
func (s *Store) LoadSecrets() error {
	_, err := s.reloadSecrets()
	return err
}

// refreshSecrets replaces the snapshot after a write. If it cannot be read,
// the old one is dropped all the same: better no answer than a stale one.
func (s *Store) refreshSecrets() {
	s.gen.Add(1)
	if _, err := s.reloadSecrets(); err != nil {
		s.secrets.Store(nil)
	}
}

// reloadSecrets reads a snapshot and publishes it unless a newer one (read
// after a later write) was published meanwhile; it returns the one in use.
func (s *Store) reloadSecrets() (*secretsTable, error) {
	// Counted before reading: the snapshot holds every write counted so far.
	t := &secretsTable{gen: s.gen.Load()}
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		t.byID, err = loadSecrets(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.publishSecrets(t), nil
}

// publishSecrets makes t the snapshot in use unless the one in use is as
// new, and returns the one in use.
func (s *Store) publishSecrets(t *secretsTable) *secretsTable {
	for {
		cur := s.secrets.Load()
		if cur != nil && cur.gen >= t.gen {
			return cur
		}
		if s.secrets.CompareAndSwap(cur, t) {
			return t
		}
	}
}

// loadSecrets reads the secrets of every enabled device of an enabled user,
// decoding only the fields it needs.
func loadSecrets(tx *bolt.Tx) (map[string]DigestSecrets, error) {
	users := tx.Bucket(bucketUsers)
	enabled := make(map[string]bool, users.Stats().KeyN)
	err := users.ForEach(func(k, v []byte) error {
		var u struct {
			Disabled bool `json:"disabled"`
		}
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("decode user %q: %w", k, err)
		}
		enabled[string(k)] = !u.Disabled
		return nil
	})
	if err != nil {
		return nil, err
	}
	devices := tx.Bucket(bucketDevices)
	out := make(map[string]DigestSecrets, devices.Stats().KeyN)
	err = devices.ForEach(func(k, v []byte) error {
		var d struct {
			Ext       string `json:"ext"`
			HA1MD5    string `json:"ha1_md5"`
			HA1SHA256 string `json:"ha1_sha256"`
			Disabled  bool   `json:"disabled"`
			Kind      string `json:"kind"`
		}
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("decode device %q: %w", k, err)
		}
		if d.Disabled || !enabled[d.Ext] {
			return nil
		}
		sec := DigestSecrets{WebSocketOnly: d.Kind == KindWebphone}
		// A record whose HA1 is not a digest cannot register, like a disabled one.
		if decodeHex(sec.HA1MD5[:], d.HA1MD5) && decodeHex(sec.HA1SHA256[:], d.HA1SHA256) {
			out[string(k)] = sec
		}
		return nil
	})
	return out, err
}

// decodeHex fills dst from exactly len(dst) bytes of hex; hex.Decode
// writes past dst when s is longer, so the length is checked first.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}
