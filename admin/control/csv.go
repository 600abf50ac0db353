package control

import (
	"regexp"
	"strings"
)

// phoneNumber is a dialled number or extension: +digits (harmless to a
// spreadsheet), or digits with * and # (a feature code such as *97).
var phoneNumber = regexp.MustCompile(`^(\+[0-9]+|[0-9*#]+)$`)

// CSVCell keeps a spreadsheet from running a cell of an export as a formula
// (CSV injection): text starting with = + - @ or a control character gets a
// leading apostrophe. Plain numbers such as +4930123456 stay as they are.
// Every text a phone or a person chose (names, dialled strings, Call-IDs)
// goes through it; encoding/csv does the quoting.
func CSVCell(s string) string {
	if s == "" || phoneNumber.MatchString(s) {
		return s
	}
	if strings.ContainsRune("=+-@\t\r\n", rune(s[0])) {
		return "'" + s
	}
	return s
}
