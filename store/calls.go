package store

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Disposition is how a call ended, from the caller's point of view.
type Disposition string

const (
	Answered  Disposition = "answered"
	Missed    Disposition = "missed"    // rang, nobody answered in time
	Busy      Disposition = "busy"      // every callee was busy
	Failed    Disposition = "failed"    // unreachable, not found, declined, media or network trouble
	Cancelled Disposition = "cancelled" // the caller hung up while it rang
	Voicemail Disposition = "voicemail" // the caller reached voicemail
)

// Direction says where a call came from and went to.
type Direction string

const (
	Internal Direction = "internal"
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// CallRecord is one call, written once when it ends.
type CallRecord struct {
	ID           string      `json:"id"` // the caller's Call-ID
	Direction    Direction   `json:"direction"`
	Caller       string      `json:"caller"`        // extension or number
	CallerDevice string      `json:"caller_device"` // device id, when a device of ours called
	CallerName   string      `json:"caller_name,omitempty"`
	Callee       string      `json:"callee"` // what was dialled
	AnsweredBy   string      `json:"answered_by,omitempty"`
	Start        time.Time   `json:"start"`
	Answer       time.Time   `json:"answer,omitzero"`
	End          time.Time   `json:"end"`
	Disposition  Disposition `json:"disposition"`
	Cause        string      `json:"cause"` // who hung up or why it failed: "caller bye", "callee bye", "486 busy", …
	// Transfers are the blind transfers of the call, in order: each time a
	// party handed the call on and left. Records written before transfer
	// existed have none (an optional field: no migration).
	Transfers []Transfer `json:"transfers,omitempty"`
}

// Transfer is one blind transfer: By left the call, the other party went on to To.
type Transfer struct {
	By         string      `json:"by"` // the device that transferred the call (and left it)
	To         string      `json:"to"` // the extension the call was transferred to
	At         time.Time   `json:"at"`
	AnsweredBy string      `json:"answered_by,omitempty"` // the target's device that answered, or "voicemail"
	Result     Disposition `json:"result"`                // how reaching the target ended: answered, voicemail, missed, busy, failed, cancelled
}

// Duration is the talk time (zero for unanswered calls).
func (c CallRecord) Duration() time.Duration {
	if c.Answer.IsZero() || c.End.Before(c.Answer) {
		return 0
	}
	return c.End.Sub(c.Answer)
}

// callKey orders records by start time: 8 bytes of big-endian Unix
// nanoseconds, then 4 bytes of the call id's hash to keep keys unique.
func callKey(c CallRecord) []byte {
	var k [12]byte
	binary.BigEndian.PutUint64(k[:8], uint64(c.Start.UnixNano()))
	h := fnv.New32a()
	h.Write([]byte(c.ID))
	binary.BigEndian.PutUint32(k[8:], h.Sum32())
	return k[:]
}

// SaveCall stores a call record. Many calls end at once under load, so the
// writes are batched into shared transactions; saving the same record twice
// is harmless.
func (s *Store) SaveCall(c CallRecord) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errClosed
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		packBuckets(tx)
		return tx.Bucket(bucketCalls).Put(callKey(c), data)
	})
}

// Calls returns up to limit records that started in [since, until), newest
// first; a zero until means now, a limit ≤ 0 means all.
func (s *Store) Calls(since, until time.Time, limit int) ([]CallRecord, error) {
	if until.IsZero() {
		until = time.Now().Add(time.Minute)
	}
	var out []CallRecord
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCalls).Cursor()
		var lo, hi [8]byte
		binary.BigEndian.PutUint64(lo[:], uint64(max(since.UnixNano(), 0)))
		binary.BigEndian.PutUint64(hi[:], uint64(until.UnixNano()))
		k, v := c.Seek(hi[:])
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && string(k[:8]) >= string(lo[:]); k, v = c.Prev() {
			var rec CallRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, rec)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}
