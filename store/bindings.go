package store

import (
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Binding is one registered contact of a device: where the device can be reached.
type Binding struct {
	Contact   string    `json:"contact"`   // the Contact URI the device registered
	Source    string    `json:"source"`    // ip:port the REGISTER really came from (NAT)
	Transport string    `json:"transport"` // UDP, TCP, TLS, WS, WSS
	Expires   time.Time `json:"expires"`   // absolute expiry
	CallID    string    `json:"call_id"`   // the registering dialog, for CSeq ordering
	CSeq      uint32    `json:"cseq"`
	UserAgent string    `json:"user_agent,omitempty"`
	Instance  string    `json:"instance,omitempty"` // +sip.instance (RFC 5626), when given
	Updated   time.Time `json:"updated"`
}

// SaveBindings writes the current bindings of several devices in one
// transaction; a device with no bindings is removed. Registrars call it in
// batches so a REGISTER never waits for an fsync. The records are encoded
// before the transaction and written in key order, which keeps the write
// lock short and bbolt's page splits few.
func (s *Store) SaveBindings(byDevice map[string][]Binding) error {
	ids := slices.Sorted(maps.Keys(byDevice))
	var buf []byte
	ends := make([]int, len(ids))
	for i, id := range ids {
		if list := byDevice[id]; len(list) > 0 {
			buf = appendBindingsJSON(buf, list)
		}
		ends[i] = len(buf)
	}
	return s.updateNoSecrets(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBindings)
		start := 0
		for i, id := range ids {
			var err error
			if ends[i] == start {
				err = b.Delete([]byte(id))
			} else {
				err = b.Put([]byte(id), buf[start:ends[i]:ends[i]])
			}
			if err != nil {
				return err
			}
			start = ends[i]
		}
		return nil
	})
}

// Bindings returns every stored binding that has not expired at now, by device.
func (s *Store) Bindings(now time.Time) (map[string][]Binding, error) {
	out := map[string][]Binding{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBindings)
		return b.ForEach(func(k, _ []byte) error {
			var list []Binding
			if err := getJSON(b, string(k), &list); err != nil {
				return err
			}
			live := list[:0]
			for _, bd := range list {
				if bd.Expires.After(now) {
					live = append(live, bd)
				}
			}
			if len(live) > 0 {
				out[string(k)] = live
			}
			return nil
		})
	})
	return out, err
}
