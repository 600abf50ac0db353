package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
	"switchboard/store"
)

func newCallsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "calls", Short: "Call history"}
	cmd.AddCommand(newCallsListCmd(g))
	return cmd
}

func newCallsListCmd(g *globals) *cobra.Command {
	var since string
	var limit int
	var asCSV bool
	cmd := &cobra.Command{
		Use:   "list [--since 24h|2026-11-01] [--limit N] [--csv]",
		Short: "List calls, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since, time.Now())
			if err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit must be 0 (all) or more")
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			calls, err := ops.ListCalls(cmd.Context(), from, limit)
			if err != nil {
				return err
			}
			if asCSV {
				return writeCallsCSV(cmd.OutOrStdout(), calls)
			}
			return printCalls(cmd.OutOrStdout(), calls)
		},
	}
	cmd.Flags().StringVar(&since, "since", "168h", "calls that started after this: a duration back from now (24h) or a date (2026-11-01, RFC 3339)")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many calls (0 = all)")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print CSV with a header line")
	return cmd
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--since %q: want a duration such as 24h or a date such as 2026-11-01", s)
}

var callColumns = []string{"id", "direction", "caller", "caller_name", "callee", "answered_by",
	"start", "answer", "end", "duration_s", "disposition", "cause", "transferred_to"}

func writeCallsCSV(w io.Writer, calls []store.CallRecord) error {
	cw := csv.NewWriter(w)
	cw.Write(callColumns)
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, c := range calls {
		cell := control.CSVCell
		cw.Write([]string{cell(c.ID), string(c.Direction), cell(c.Caller), cell(c.CallerName), cell(c.Callee), cell(c.AnsweredBy),
			stamp(c.Start), stamp(c.Answer), stamp(c.End), strconv.Itoa(int(c.Duration().Seconds())),
			string(c.Disposition), cell(c.Cause), cell(strings.Join(transferTargets(c), " "))})
	}
	cw.Flush()
	return cw.Error()
}

func printCalls(w io.Writer, calls []store.CallRecord) error {
	if len(calls) == 0 {
		_, err := fmt.Fprintln(w, "no calls in that period")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tFROM\tTO\tANSWERED BY\tDURATION\tRESULT\tCAUSE")
	for _, c := range calls {
		answered := strings.Join(append([]string{dash(c.AnsweredBy)}, transferTargets(c)...), " → ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Start.Local().Format("2006-01-02 15:04:05"), c.Caller,
			c.Callee, answered, c.Duration().Round(time.Second), c.Disposition, c.Cause)
	}
	return tw.Flush()
}

// transferTargets are the extensions a call was transferred to, in order.
func transferTargets(c store.CallRecord) []string {
	var out []string
	for _, t := range c.Transfers {
		out = append(out, t.To)
	}
	return out
}
