package store

import (
	"errors"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// TimeFrame is a named set of times, in the office's time zone: weekly
// ranges ("Mon–Fri 09:00–17:00") and specific dates or date ranges
// ("2026-12-24 to 2026-12-26", all day or between two times). Answering
// rules and auto attendants use it; switch/route decides whether a moment
// falls inside.
type TimeFrame struct {
	ID     string        `json:"id"`
	Name   string        `json:"name"`
	Owner  string        `json:"owner,omitempty"` // extension of a user's own frame; "" for the organisation's
	Weekly []WeeklyRange `json:"weekly,omitempty"`
	Dates  []DateRange   `json:"dates,omitempty"`
}

// WeeklyRange is a time of day on some weekdays. Start after End crosses
// midnight (22:00–06:00 runs into the next morning).
type WeeklyRange struct {
	Days  []int  `json:"days"`  // 0 = Sunday … 6 = Saturday (time.Weekday)
	Start string `json:"start"` // "HH:MM"
	End   string `json:"end"`   // "HH:MM"; "24:00" means midnight at the end of the day
}

// DateRange is one date or a run of dates, optionally only between two times.
type DateRange struct {
	From  string `json:"from"`            // "YYYY-MM-DD"
	To    string `json:"to,omitempty"`    // "YYYY-MM-DD", inclusive; empty means From only
	Start string `json:"start,omitempty"` // "HH:MM"; empty means the whole day
	End   string `json:"end,omitempty"`
}

// TimeZoneKey is the setting with the office's IANA time zone name.
const TimeZoneKey = "time_zone"

// PutTimeFrame stores (creates or replaces) a time frame.
func (s *Store) PutTimeFrame(tf TimeFrame) error {
	return s.update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketTimeFrames), tf.ID, tf) })
}

// TimeFrame returns one time frame by id.
func (s *Store) TimeFrame(id string) (TimeFrame, error) {
	var tf TimeFrame
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketTimeFrames), id, &tf) })
	return tf, err
}

// TimeFrames returns the organisation's frames and those owned by owner
// (all frames when owner is "*"), ordered by name.
func (s *Store) TimeFrames(owner string) ([]TimeFrame, error) {
	var out []TimeFrame
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTimeFrames)
		return b.ForEach(func(k, _ []byte) error {
			var tf TimeFrame
			if err := getJSON(b, string(k), &tf); err != nil {
				return err
			}
			if owner == "*" || tf.Owner == "" || tf.Owner == owner {
				out = append(out, tf)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// DeleteTimeFrame removes a time frame.
func (s *Store) DeleteTimeFrame(id string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTimeFrames)
		if b.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(id))
	})
}

// TimeZone is the office's IANA time zone name; "" when never set.
func (s *Store) TimeZone() (string, error) {
	var tz string
	err := s.Setting(TimeZoneKey, &tz)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return tz, err
}
