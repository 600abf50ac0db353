package route

import (
	"fmt"
	"slices"
	"time"

	"switchboard/store"
)

// InFrame reports whether the moment t falls inside tf, read on the wall
// clock of loc (the office's time zone). Wall-clock reading is what people
// mean by "09:00–17:00": across a DST change the frame keeps its local hours,
// a skipped hour never matches and a repeated hour matches twice.
func InFrame(tf store.TimeFrame, t time.Time, loc *time.Location) bool {
	local := t.In(loc)
	minute := local.Hour()*60 + local.Minute()
	day := int(local.Weekday())
	yesterday := (day + 6) % 7
	for _, w := range tf.Weekly {
		start, end := hm(w.Start), hm(w.End)
		switch {
		case start < end:
			if slices.Contains(w.Days, day) && minute >= start && minute < end {
				return true
			}
		default: // crosses midnight; equal start and end is the whole day
			if (slices.Contains(w.Days, day) && minute >= start) || (slices.Contains(w.Days, yesterday) && minute < end) {
				return true
			}
		}
	}
	today := local.Format(dateLayout)
	prev := local.AddDate(0, 0, -1).Format(dateLayout)
	for _, d := range tf.Dates {
		to := d.To
		if to == "" {
			to = d.From
		}
		inRange := func(date string) bool { return date >= d.From && date <= to }
		if d.Start == "" && d.End == "" {
			if inRange(today) {
				return true
			}
			continue
		}
		start, end := hm(d.Start), hm(d.End)
		if start < end {
			if inRange(today) && minute >= start && minute < end {
				return true
			}
		} else if (inRange(today) && minute >= start) || (inRange(prev) && minute < end) {
			return true
		}
	}
	return false
}

const dateLayout = "2006-01-02"

// hm turns a checked "HH:MM" into minutes since midnight ("24:00" is 1440).
func hm(s string) int {
	if len(s) != 5 {
		return 0
	}
	return int(s[0]-'0')*600 + int(s[1]-'0')*60 + int(s[3]-'0')*10 + int(s[4]-'0')
}

// CheckTimeFrame says what is wrong with a time frame a person entered, or nil.
func CheckTimeFrame(tf store.TimeFrame) error {
	if tf.Name == "" {
		return fmt.Errorf("a time frame needs a name")
	}
	if len(tf.Weekly) == 0 && len(tf.Dates) == 0 {
		return fmt.Errorf("time frame %q has no times: add days of the week or dates", tf.Name)
	}
	for i, w := range tf.Weekly {
		if len(w.Days) == 0 {
			return fmt.Errorf("weekly range %d: pick at least one day", i+1)
		}
		for _, d := range w.Days {
			if d < 0 || d > 6 {
				return fmt.Errorf("weekly range %d: day %d is not 0 (Sunday) to 6 (Saturday)", i+1, d)
			}
		}
		if err := checkHM(w.Start, w.End); err != nil {
			return fmt.Errorf("weekly range %d: %v", i+1, err)
		}
	}
	for i, d := range tf.Dates {
		from, err := time.Parse(dateLayout, d.From)
		if err != nil {
			return fmt.Errorf("date %d: %q is not a date like 2026-12-24", i+1, d.From)
		}
		if d.To != "" {
			to, err := time.Parse(dateLayout, d.To)
			if err != nil {
				return fmt.Errorf("date %d: %q is not a date like 2026-12-26", i+1, d.To)
			}
			if to.Before(from) {
				return fmt.Errorf("date %d: %s is before %s", i+1, d.To, d.From)
			}
		}
		if d.Start != "" || d.End != "" {
			if err := checkHM(d.Start, d.End); err != nil {
				return fmt.Errorf("date %d: %v", i+1, err)
			}
		}
	}
	return nil
}

func checkHM(start, end string) error {
	for _, v := range []string{start, end} {
		if len(v) != 5 || v[2] != ':' || !digits(v[:2]) || !digits(v[3:]) || hm(v) > 24*60 || v[3] > '5' ||
			(v != "24:00" && v[:2] == "24") {
			return fmt.Errorf("%q is not a time like 09:00 (00:00 to 24:00)", v)
		}
	}
	if start == "24:00" {
		return fmt.Errorf("a range cannot start at 24:00")
	}
	return nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
