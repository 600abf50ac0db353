package webui

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"switchboard/admin/control"
	"switchboard/store"
)

// csvColumns is the header row of a call-history export.
var csvColumns = []string{"start", "answer", "end", "duration_s", "from", "to", "direction", "disposition", "answered_by", "cause"}

// writeCallsCSV streams every call the filter selects (no paging) as CSV:
// a header row, then one row per call, newest first; times in RFC 3339 in
// the office's time zone. encoding/csv quotes fields with commas, quotes
// and line breaks; cells a spreadsheet would run as a formula are defused.
func (a *App) writeCallsCSV(w http.ResponseWriter, f callFilter, name string) error {
	loc := a.office()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"-"+f.FromDay+"-to-"+f.ToDay+`.csv"`)
	noStore(w)
	cw := csv.NewWriter(w)
	cw.Write(csvColumns)
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	err := eachCall(a.cfg.Store, f.since, f.until, func(c store.CallRecord) bool {
		if !f.match(c) {
			return true
		}
		cw.Write([]string{stamp(c.Start), stamp(c.Answer), stamp(c.End), strconv.Itoa(int(c.Duration().Round(time.Second).Seconds())),
			control.CSVCell(c.Caller), control.CSVCell(c.Callee), string(c.Direction), string(c.Disposition), control.CSVCell(c.AnsweredBy), control.CSVCell(c.Cause)})
		return cw.Error() == nil
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		a.log.Error("call history export", "err", err) // the header is sent: the download ends short
	}
	return nil
}
