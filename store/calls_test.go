package store

import (
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A transferred call keeps its transfers; a record written before transfers
// existed (no "transfers" key) still reads, with none.
func TestCallRecordTransfers(t *testing.T) {
	s := openTest(t)
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	rec := CallRecord{ID: "a@x", Direction: Internal, Caller: "200", CallerDevice: "200", Callee: "201", AnsweredBy: "201",
		Start: start, Answer: start.Add(2 * time.Second), End: start.Add(time.Minute), Disposition: Answered,
		Cause: "200 hung up", Transfers: []Transfer{{By: "201", To: "202", At: start.Add(20 * time.Second),
			AnsweredBy: "202b", Result: Answered}}}
	if err := s.SaveCall(rec); err != nil {
		t.Fatal(err)
	}
	old := []byte(`{"id":"b@x","direction":"internal","caller":"200","caller_device":"200","callee":"201",` +
		`"start":"2026-01-05T09:00:00Z","end":"2026-01-05T09:00:10Z","disposition":"missed","cause":"no answer"}`)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCalls).Put(callKey(CallRecord{ID: "b@x", Start: start.Add(-time.Hour)}), old)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Calls(time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d records, want 2", len(got))
	}
	if !reflect.DeepEqual(got[0], rec) {
		t.Errorf("transferred call read back as\n%+v\nwant\n%+v", got[0], rec)
	}
	if got[1].ID != "b@x" || got[1].Transfers != nil || got[1].Disposition != Missed {
		t.Errorf("old record read back as %+v", got[1])
	}
}
