package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
	"switchboard/store"
	"switchboard/switch/route"
)

func newTimeFrameCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "timeframe",
		Short: "Time frames: named sets of times that answering rules can be limited to",
		Long: "Time frames are named sets of times — days of the week with hours, and dates or date\n" +
			"ranges — read in the office's time zone (`switchboard timezone`). The organisation's\n" +
			"frames can be used by everyone; a frame with --owner only by that user's rules.",
	}
	cmd.AddCommand(newTimeFrameListCmd(g), newTimeFrameAddCmd(g), newTimeFrameEditCmd(g), newTimeFrameRemoveCmd(g))
	return cmd
}

func newTimeFrameListCmd(g *globals) *cobra.Command {
	var owner string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--owner EXT] [--json]",
		Short: "List time frames and the rules using them",
		Long:  "List time frames: every frame, or with --owner those a user's rules can use (the organisation's and their own).",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, asJSON, func(ctx context.Context, ops control.Ops) ([]control.TimeFrameView, error) {
				return ops.ListTimeFrames(ctx, owner)
			}, printTimeFrames)
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "only the frames this user's rules can use")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func dashIf(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}

func newTimeFrameAddCmd(g *globals) *cobra.Command {
	var name, owner string
	var weekly, dates []string
	cmd := &cobra.Command{
		Use:   "add --name NAME [--owner EXT] [--weekly \"DAYS [HH:MM-HH:MM]\"]... [--date \"DATE[..DATE] [HH:MM-HH:MM]\"]...",
		Short: "Create a time frame",
		Long: "Create a time frame from weekly times and dates; give --weekly and --date as often as needed.\n" +
			"Days: mon tue wed thu fri sat sun (or full names), lists (mon,wed,fri), ranges (mon-fri,\n" +
			"fri-mon), weekdays, weekends, daily. Times: HH:MM-HH:MM, several separated by commas; none\n" +
			"means the whole day; a range that ends before it starts runs past midnight (22:00-06:00);\n" +
			"24:00 is the end of the day. Dates: YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD.\n" +
			"The id is made from the name.",
		Example: "  switchboard timeframe add --name \"Office hours\" --weekly \"mon-fri 09:00-12:30,13:30-17:00\" --weekly \"sat 10:00-12:00\"\n" +
			"  switchboard timeframe add --name Holidays --date 2026-12-24..2026-12-26 --date \"2026-12-31 12:00-24:00\"\n" +
			"  switchboard timeframe add --name Gym --owner 200 --weekly \"tue,thu 18:00-20:00\"",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tf, err := buildTimeFrame(name, owner, weekly, dates)
			if err != nil {
				return err
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			out, err := ops.AddTimeFrame(cmd.Context(), tf)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created time frame %s (%s): %s\n", out.ID, out.Name, formatFrame(out.TimeFrame))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "name of the frame (required)")
	f.StringVar(&owner, "owner", "", "extension of the user whose own frame it is (default: the organisation's)")
	f.StringArrayVar(&weekly, "weekly", nil, `days and times every week, e.g. "mon-fri 09:00-17:00" (repeatable)`)
	f.StringArrayVar(&dates, "date", nil, `a date or date range, optionally with times, e.g. "2026-12-24..2026-12-26" or "2026-12-31 12:00-24:00" (repeatable)`)
	cmd.MarkFlagRequired("name")
	return cmd
}

func newTimeFrameEditCmd(g *globals) *cobra.Command {
	var name string
	var weekly, dates []string
	cmd := &cobra.Command{
		Use:   "edit ID|NAME [--name NAME] [--weekly \"DAYS [HH:MM-HH:MM]\"]... [--date \"DATE[..DATE] [HH:MM-HH:MM]\"]...",
		Short: "Rename a time frame or change its times",
		Long: "Change a time frame: --name renames it; --weekly and --date (as for `timeframe add`) replace\n" +
			"all of its times; without them the times stay. Its owner and id stay, and the rules using\n" +
			"it follow the new times at once.",
		Example: "  switchboard timeframe edit office-hours --weekly \"mon-fri 08:30-17:30\"\n" +
			"  switchboard timeframe edit Holidays --name \"Public holidays\"",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !f.Changed("name") && len(weekly) == 0 && len(dates) == 0 {
				return usagef("nothing to change: give --name, --weekly or --date")
			}
			var times store.TimeFrame
			if len(weekly) > 0 || len(dates) > 0 {
				var err error
				if times, err = parseFrameTimes(weekly, dates); err != nil {
					return err
				}
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			frames, err := ops.ListTimeFrames(cmd.Context(), "")
			if err != nil {
				return err
			}
			tf, err := pickFrame(frames, strings.TrimSpace(args[0]))
			if err != nil {
				return err
			}
			if f.Changed("name") {
				tf.Name = strings.TrimSpace(name)
			}
			if len(weekly) > 0 || len(dates) > 0 {
				tf.Weekly, tf.Dates = times.Weekly, times.Dates
			}
			if err := route.CheckTimeFrame(tf); err != nil {
				return usagef("%v", err)
			}
			out, err := ops.UpdateTimeFrame(cmd.Context(), tf)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "changed time frame %s (%s): %s\n", out.ID, out.Name, formatFrame(out.TimeFrame))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name of the frame")
	f.StringArrayVar(&weekly, "weekly", nil, `days and times every week, e.g. "mon-fri 09:00-17:00" (repeatable; replaces the times)`)
	f.StringArrayVar(&dates, "date", nil, `a date or date range, optionally with times (repeatable; replaces the times)`)
	return cmd
}

// parseFrameTimes reads --weekly and --date values into a frame's times
// (route.CheckTimeFrame checks them with the frame's name).
func parseFrameTimes(weekly, dates []string) (store.TimeFrame, error) {
	var tf store.TimeFrame
	for _, w := range weekly {
		ranges, err := parseWeekly(w)
		if err != nil {
			return tf, usagef("--weekly %q: %v", w, err)
		}
		tf.Weekly = append(tf.Weekly, ranges...)
	}
	for _, d := range dates {
		ranges, err := parseDate(d)
		if err != nil {
			return tf, usagef("--date %q: %v", d, err)
		}
		tf.Dates = append(tf.Dates, ranges...)
	}
	return tf, nil
}

// pickFrame finds a frame by id, or by name (any case) when only one has it.
func pickFrame(frames []control.TimeFrameView, ref string) (store.TimeFrame, error) {
	var named []string
	var found store.TimeFrame
	for _, f := range frames {
		if f.ID == ref {
			return f.TimeFrame, nil
		}
		if strings.EqualFold(f.Name, ref) {
			named, found = append(named, f.ID), f.TimeFrame
		}
	}
	switch len(named) {
	case 0:
		return found, &control.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("time frame %q not found", ref)}
	case 1:
		return found, nil
	}
	return found, usagef("several time frames are named %q: give the id (%s)", ref, strings.Join(named, ", "))
}

func newTimeFrameRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID|NAME",
		Short: "Remove a time frame that no rule uses",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			out, err := ops.RemoveTimeFrame(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed time frame %s (%s)\n", out.ID, out.Name)
			return nil
		},
	}
}

// buildTimeFrame turns the flags of `timeframe add` into a checked frame.
func buildTimeFrame(name, owner string, weekly, dates []string) (store.TimeFrame, error) {
	tf := store.TimeFrame{Name: strings.TrimSpace(name), Owner: strings.TrimSpace(owner)}
	if len(weekly) == 0 && len(dates) == 0 {
		return tf, usagef("a time frame needs times: give --weekly or --date (or both)")
	}
	times, err := parseFrameTimes(weekly, dates)
	if err != nil {
		return tf, err
	}
	tf.Weekly, tf.Dates = times.Weekly, times.Dates
	if err := route.CheckTimeFrame(tf); err != nil {
		return tf, usagef("%v", err)
	}
	return tf, nil
}

// dayNames are the days in the order people read a week, Monday first,
// with their time.Weekday numbers.
var dayNames = []struct {
	name string
	day  int
}{{"monday", 1}, {"tuesday", 2}, {"wednesday", 3}, {"thursday", 4}, {"friday", 5}, {"saturday", 6}, {"sunday", 0}}

// dayGroups are words for several days.
var dayGroups = map[string][]int{
	"weekdays": {1, 2, 3, 4, 5},
	"weekends": {6, 0},
	"weekend":  {6, 0},
	"daily":    {1, 2, 3, 4, 5, 6, 0},
	"everyday": {1, 2, 3, 4, 5, 6, 0},
}

// parseDay reads one day name: "mon", "tues", "Thursday" (three letters at least).
func parseDay(s string) (int, error) {
	s = strings.ToLower(s)
	if len(s) >= 3 {
		for _, d := range dayNames {
			if strings.HasPrefix(d.name, s) {
				return d.day, nil
			}
		}
	}
	return 0, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun)", s)
}

// parseDays reads "mon-fri", "mon,wed,fri", "sat-sun", "fri-mon", "weekdays"
// into time.Weekday numbers, Monday first, each once.
func parseDays(s string) ([]int, error) {
	var days []int
	add := func(d int) {
		if !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if group, ok := dayGroups[strings.ToLower(part)]; ok {
			for _, d := range group {
				add(d)
			}
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		first, err := parseDay(from)
		if err != nil {
			return nil, err
		}
		if !isRange {
			add(first)
			continue
		}
		last, err := parseDay(to)
		if err != nil {
			return nil, err
		}
		for d := first; ; d = (d + 1) % 7 { // fri-mon runs over the weekend
			add(d)
			if d == last {
				break
			}
		}
	}
	// Monday first, as written.
	order := func(d int) int { return (d + 6) % 7 }
	slices.SortFunc(days, func(a, b int) int { return order(a) - order(b) })
	return days, nil
}

var clockPattern = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})$`)

// parseClock reads "9:00" or "09:00" into "09:00".
func parseClock(s string) (string, error) {
	m := clockPattern.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not a time like 09:00", s)
	}
	h := m[1]
	if len(h) == 1 {
		h = "0" + h
	}
	v := h + ":" + m[2]
	if v > "24:00" || m[2] > "59" {
		return "", fmt.Errorf("%q is not a time of day (00:00 to 24:00)", s)
	}
	return v, nil
}

// parseTimes reads "09:00-12:00,13:00-17:00" into start/end pairs; "" is
// the whole day.
func parseTimes(s string) ([][2]string, error) {
	if s == "" {
		return [][2]string{{"00:00", "24:00"}}, nil
	}
	var out [][2]string
	for _, part := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return nil, fmt.Errorf("%q is not a time range like 09:00-17:00", part)
		}
		start, err := parseClock(from)
		if err != nil {
			return nil, err
		}
		end, err := parseClock(to)
		if err != nil {
			return nil, err
		}
		if start == end {
			return nil, fmt.Errorf("%s starts and ends at %s", part, start)
		}
		if start == "24:00" {
			return nil, fmt.Errorf("%s: a range cannot start at 24:00", part)
		}
		out = append(out, [2]string{start, end})
	}
	return out, nil
}

// splitSpec splits "mon-fri 09:00-17:00" into the part before the first
// word that starts with a digit and the rest, each without spaces; a dash
// written as "–" counts as "-".
func splitSpec(s string) (head, times string) {
	s = strings.NewReplacer("–", "-", "—", "-").Replace(s)
	fields := strings.Fields(s)
	i := slices.IndexFunc(fields, func(f string) bool { return unicode.IsDigit(rune(f[0])) })
	if i < 0 {
		return strings.Join(fields, ""), ""
	}
	return strings.Join(fields[:i], ""), strings.Join(fields[i:], "")
}

// parseWeekly reads one --weekly value: "DAYS [TIMES]".
func parseWeekly(s string) ([]store.WeeklyRange, error) {
	head, times := splitSpec(s)
	if head == "" {
		return nil, fmt.Errorf(`name the days first, e.g. "mon-fri 09:00-17:00"`)
	}
	days, err := parseDays(head)
	if err != nil {
		return nil, err
	}
	spans, err := parseTimes(times)
	if err != nil {
		return nil, err
	}
	out := make([]store.WeeklyRange, len(spans))
	for i, sp := range spans {
		out[i] = store.WeeklyRange{Days: days, Start: sp[0], End: sp[1]}
	}
	return out, nil
}

const dateLayout = "2006-01-02"

// parseDate reads one --date value: "DATE[..DATE] [TIMES]".
func parseDate(s string) ([]store.DateRange, error) {
	s = strings.NewReplacer("–", "-", "—", "-").Replace(strings.TrimSpace(s))
	datePart, times, _ := strings.Cut(s, " ")
	times = strings.Join(strings.Fields(times), "")
	from, to, isRange := strings.Cut(datePart, "..")
	first, err := time.Parse(dateLayout, from)
	if err != nil {
		return nil, fmt.Errorf("%q is not a date like 2026-12-24", from)
	}
	if isRange {
		last, err := time.Parse(dateLayout, to)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date like 2026-12-26", to)
		}
		if last.Before(first) {
			return nil, fmt.Errorf("%s is before %s", to, from)
		}
		if to == from {
			to = ""
		}
	}
	if times == "" {
		return []store.DateRange{{From: from, To: to}}, nil
	}
	spans, err := parseTimes(times)
	if err != nil {
		return nil, err
	}
	out := make([]store.DateRange, len(spans))
	for i, sp := range spans {
		out[i] = store.DateRange{From: from, To: to, Start: sp[0], End: sp[1]}
	}
	return out, nil
}

// formatDays writes days the way parseDays reads them: "mon-fri", "mon,wed,sat-sun".
func formatDays(days []int) string {
	var on [7]bool // Monday first
	for _, d := range days {
		if d >= 0 && d <= 6 {
			on[(d+6)%7] = true
		}
	}
	var parts []string
	for i := 0; i < 7; {
		if !on[i] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && on[j+1] {
			j++
		}
		if j == i {
			parts = append(parts, dayNames[i].name[:3])
		} else {
			parts = append(parts, dayNames[i].name[:3]+"-"+dayNames[j].name[:3])
		}
		i = j + 1
	}
	if len(parts) == 1 && parts[0] == "mon-sun" {
		return "daily"
	}
	return strings.Join(parts, ",")
}

// formatFrame writes a frame's times in the flags' own syntax.
func formatFrame(tf store.TimeFrame) string {
	var parts []string
	for i, w := range tf.Weekly {
		days := formatDays(w.Days)
		span := w.Start + "-" + w.End
		if span == "00:00-24:00" {
			parts = append(parts, days)
			continue
		}
		// Ranges on the same days read as one: "mon-fri 09:00-12:30,13:30-17:00".
		if i > 0 && formatDays(tf.Weekly[i-1].Days) == days && strings.HasPrefix(parts[len(parts)-1], days+" ") {
			parts[len(parts)-1] += "," + span
			continue
		}
		parts = append(parts, days+" "+span)
	}
	for _, d := range tf.Dates {
		p := d.From
		if d.To != "" && d.To != d.From {
			p += ".." + d.To
		}
		if d.Start != "" || d.End != "" {
			p += " " + d.Start + "-" + d.End
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

func printTimeFrames(w io.Writer, frames []control.TimeFrameView) error {
	if len(frames) == 0 {
		fmt.Fprintln(w, "no time frames")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tOWNER\tWHEN\tUSED BY")
	for _, f := range frames {
		var used []string
		for _, u := range f.UsedBy {
			used = append(used, fmt.Sprintf("%s: %s", u.Ext, u.Rule))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.ID, f.Name, dashIf(f.Owner, "organisation"),
			formatFrame(f.TimeFrame), dashIf(strings.Join(used, ", "), "-"))
	}
	return tw.Flush()
}
