package route

import (
	"testing"
	"time"

	"switchboard/store"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestInFrame(t *testing.T) {
	berlin, newYork := mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York")
	business := store.TimeFrame{Name: "Business hours", Weekly: []store.WeeklyRange{{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}}}
	overnight := store.TimeFrame{Name: "Saturday night", Weekly: []store.WeeklyRange{{Days: []int{6}, Start: "22:00", End: "06:00"}}}
	holidays := store.TimeFrame{Name: "Christmas", Dates: []store.DateRange{{From: "2026-12-24", To: "2026-12-26"}}}
	newYearsEve := store.TimeFrame{Name: "NYE afternoon", Dates: []store.DateRange{{From: "2026-12-31", Start: "12:00", End: "24:00"}}}
	sundayTwoAM := store.TimeFrame{Name: "2-3 am Sunday", Weekly: []store.WeeklyRange{{Days: []int{0}, Start: "02:00", End: "03:00"}}}
	sundayOneAM := store.TimeFrame{Name: "1-2 am Sunday", Weekly: []store.WeeklyRange{{Days: []int{0}, Start: "01:00", End: "02:00"}}}
	leapDay := store.TimeFrame{Name: "leap", Dates: []store.DateRange{{From: "2028-02-29"}}}
	lateShift := store.TimeFrame{Name: "stocktaking", Dates: []store.DateRange{{From: "2026-12-30", To: "2026-12-30", Start: "20:00", End: "02:00"}}}
	allWeekend := store.TimeFrame{Name: "weekend", Weekly: []store.WeeklyRange{{Days: []int{0, 6}, Start: "00:00", End: "24:00"}}}

	tests := []struct {
		name string
		tf   store.TimeFrame
		loc  *time.Location
		t    string
		want bool
	}{
		// Friday before the spring change (UTC+1) and Monday after it (UTC+2): the same
		// UTC instant is 08:30 local one week and 09:30 local the next.
		{"business, Fri before DST, 08:30 local", business, berlin, "2026-03-27T07:30:00Z", false},
		{"business, Mon after DST, 09:30 local", business, berlin, "2026-03-30T07:30:00Z", true},
		{"business, last minute", business, berlin, "2026-03-27T15:59:00Z", true},
		{"business, 17:00 is out", business, berlin, "2026-03-27T16:00:00Z", false},
		{"business, Saturday", business, berlin, "2026-03-28T10:00:00Z", false},
		{"business, autumn change Monday 09:00", business, berlin, "2026-10-26T08:00:00Z", true},
		{"overnight, Saturday 21:59", overnight, berlin, "2026-06-06T19:59:00Z", false},
		{"overnight, Saturday 22:00", overnight, berlin, "2026-06-06T20:00:00Z", true},
		{"overnight, Sunday 05:59", overnight, berlin, "2026-06-07T03:59:00Z", true},
		{"overnight, Sunday 06:00", overnight, berlin, "2026-06-07T04:00:00Z", false},
		{"overnight, Friday 23:00", overnight, berlin, "2026-06-05T21:00:00Z", false},
		{"holiday starts at local midnight", holidays, berlin, "2026-12-23T23:30:00Z", true},
		{"holiday, the evening before (local)", holidays, berlin, "2026-12-23T22:30:00Z", false},
		{"holiday ends at local midnight", holidays, berlin, "2026-12-26T23:30:00Z", false},
		{"holiday, last evening", holidays, berlin, "2026-12-26T22:30:00Z", true},
		{"date with times, 11:59", newYearsEve, newYork, "2026-12-31T16:59:00Z", false},
		{"date with times until 24:00", newYearsEve, newYork, "2027-01-01T04:59:00Z", true},
		{"date with times, next day", newYearsEve, newYork, "2027-01-01T05:00:00Z", false},
		// New York springs forward on 2026-03-08 at 02:00: the hour 02:00–03:00 does not exist.
		{"skipped hour: 01:59 EST", sundayTwoAM, newYork, "2026-03-08T06:59:00Z", false},
		{"skipped hour: 03:00 EDT", sundayTwoAM, newYork, "2026-03-08T07:00:00Z", false},
		{"ordinary Sunday 02:30", sundayTwoAM, newYork, "2026-03-15T06:30:00Z", true},
		// …and falls back on 2026-11-01: 01:00–02:00 happens twice, and both count.
		{"repeated hour, first 01:30 (EDT)", sundayOneAM, newYork, "2026-11-01T05:30:00Z", true},
		{"repeated hour, second 01:30 (EST)", sundayOneAM, newYork, "2026-11-01T06:30:00Z", true},
		{"after the repeated hour, 02:00 EST", sundayOneAM, newYork, "2026-11-01T07:00:00Z", false},
		{"leap day", leapDay, berlin, "2028-02-29T12:00:00Z", true},
		{"day after leap day", leapDay, berlin, "2028-03-01T12:00:00Z", false},
		{"date range crossing midnight, 23:00", lateShift, berlin, "2026-12-30T22:00:00Z", true},
		{"date range crossing midnight, 01:30 next day", lateShift, berlin, "2026-12-31T00:30:00Z", true},
		{"date range crossing midnight, 02:00 next day", lateShift, berlin, "2026-12-31T01:00:00Z", false},
		{"whole weekend, Sunday 23:59", allWeekend, berlin, "2026-06-07T21:59:00Z", true},
		{"whole weekend, Monday 00:00", allWeekend, berlin, "2026-06-07T22:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InFrame(tt.tf, at(tt.t), tt.loc); got != tt.want {
				t.Fatalf("%s at %s (%s local) = %v, want %v", tt.tf.Name, tt.t,
					at(tt.t).In(tt.loc).Format("Mon 2006-01-02 15:04 MST"), got, tt.want)
			}
		})
	}
}

func TestCheckTimeFrame(t *testing.T) {
	ok := store.WeeklyRange{Days: []int{1}, Start: "09:00", End: "17:00"}
	tests := []struct {
		name string
		tf   store.TimeFrame
		bad  bool
	}{
		{"good", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{ok}}, false},
		{"good dates", store.TimeFrame{Name: "x", Dates: []store.DateRange{{From: "2026-12-24", To: "2026-12-26"}}}, false},
		{"until 24:00", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Days: []int{0}, Start: "12:00", End: "24:00"}}}, false},
		{"no name", store.TimeFrame{Weekly: []store.WeeklyRange{ok}}, true},
		{"empty", store.TimeFrame{Name: "x"}, true},
		{"no days", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Start: "09:00", End: "17:00"}}}, true},
		{"day 7", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Days: []int{7}, Start: "09:00", End: "17:00"}}}, true},
		{"9:00", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Days: []int{1}, Start: "9:00", End: "17:00"}}}, true},
		{"25:00", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Days: []int{1}, Start: "09:00", End: "25:00"}}}, true},
		{"24:30", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Days: []int{1}, Start: "09:00", End: "24:30"}}}, true},
		{"09:60", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Days: []int{1}, Start: "09:60", End: "17:00"}}}, true},
		{"start 24:00", store.TimeFrame{Name: "x", Weekly: []store.WeeklyRange{{Days: []int{1}, Start: "24:00", End: "17:00"}}}, true},
		{"bad date", store.TimeFrame{Name: "x", Dates: []store.DateRange{{From: "2026-02-30"}}}, true},
		{"backwards", store.TimeFrame{Name: "x", Dates: []store.DateRange{{From: "2026-12-26", To: "2026-12-24"}}}, true},
		{"date bad time", store.TimeFrame{Name: "x", Dates: []store.DateRange{{From: "2026-12-24", Start: "noon"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckTimeFrame(tt.tf); (err != nil) != tt.bad {
				t.Fatalf("CheckTimeFrame = %v, want error %v", err, tt.bad)
			}
		})
	}
}
