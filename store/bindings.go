package store

import (
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
// batches so a REGISTER never waits for an fsync.
func (s *Store) SaveBindings(byDevice map[string][]Binding) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBindings)
		for id, list := range byDevice {
			var err error
			if len(list) == 0 {
				err = b.Delete([]byte(id))
			} else {
				err = putJSON(b, id, list)
			}
			if err != nil {
				return err
			}
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
