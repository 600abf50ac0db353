package store

import (
	"errors"
	"testing"
)

func TestTimeFramesRoundTrip(t *testing.T) {
	s := openTest(t)
	org := TimeFrame{ID: "business", Name: "Business hours",
		Weekly: []WeeklyRange{{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}}}
	mine := TimeFrame{ID: "200-gym", Name: "Gym", Owner: "200",
		Dates: []DateRange{{From: "2026-12-24", To: "2026-12-26", Start: "12:00", End: "13:00"}}}
	other := TimeFrame{ID: "201-x", Name: "Another's", Owner: "201", Dates: []DateRange{{From: "2026-01-01"}}}
	for _, tf := range []TimeFrame{org, mine, other} {
		if err := s.PutTimeFrame(tf); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.TimeFrame("200-gym")
	if err != nil || got.Dates[0].End != "13:00" || got.Owner != "200" {
		t.Fatalf("TimeFrame = %+v, %v", got, err)
	}
	list, err := s.TimeFrames("200")
	if err != nil || len(list) != 2 || list[0].Name != "Business hours" || list[1].Name != "Gym" {
		t.Fatalf("frames of 200 = %+v, %v (want the organisation's and 200's own)", list, err)
	}
	if all, _ := s.TimeFrames("*"); len(all) != 3 {
		t.Fatalf("all frames: %d", len(all))
	}
	if err := s.DeleteTimeFrame("200-gym"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTimeFrame("200-gym"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
}
