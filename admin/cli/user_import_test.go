package cli

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
)

func corpusDir(name string) string { return filepath.Join("..", "..", "testdata", "fuzz", name) }

// FuzzUserCSV gives the import parser arbitrary files. It must not panic;
// a refusal must be a usage error (exit code 2) naming the file; what it
// accepts must survive being written back as CSV and read again.
func FuzzUserCSV(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(corpusDir("usercsv"), "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("seed corpus %s: %v", corpusDir("usercsv"), err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := parseUserCSV(bytes.NewReader(data), "users.csv")
		if err != nil {
			if ExitCode(err) != 2 || !strings.Contains(err.Error(), "users.csv") {
				t.Fatalf("exit code %d for %v", ExitCode(err), err)
			}
			return
		}
		if len(specs) == 0 {
			t.Fatal("no users and no error")
		}
		again, err := parseUserCSV(bytes.NewReader(writeUserCSV(t, specs)), "again.csv")
		if err != nil || !slices.Equal(again, specs) {
			t.Fatalf("written back and read again:\n%q\n%v\nwant\n%q", again, err, specs)
		}
	})
}

func writeUserCSV(t *testing.T, specs []control.UserSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(importColumns)
	for _, s := range specs {
		w.Write([]string{s.Ext, s.Name, s.Email, string(s.Role), s.Password, s.SIPPassword})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUserCSVFromSpreadsheets reads files as spreadsheets save them.
func TestUserCSVFromSpreadsheets(t *testing.T) {
	for file, want := range map[string][]control.UserSpec{
		"excel_utf8_bom_crlf.csv": {
			{Ext: "210", Name: "Zoë Müller", Email: "zoe@example.de", Role: store.RoleUser, SIPPassword: "secret-210"},
			{Ext: "211", Name: "Smith, Jr., John", Role: store.RoleUser, SIPPassword: "secret-211"},
		},
		"libreoffice_quoted.csv": {
			{Ext: "220", Name: `Dan "The Man" Brown`, Email: "dan@example.com", Role: store.RoleUser, SIPPassword: "secret-220"},
		},
		"google_sheets_no_final_newline.csv": {
			{Ext: "230", Name: "Eve Adams", Email: "eve@example.com", Role: store.RoleUser, SIPPassword: "secret-230"},
		},
	} {
		t.Run(file, func(t *testing.T) {
			got, err := readUserCSV(filepath.Join(corpusDir("usercsv"), file))
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, want)
			}
		})
	}
}

// A file the import refuses is named in a usage error that says where.
func TestUserCSVRefused(t *testing.T) {
	const head = "ext,name,email,role,password,sip_password\n"
	for in, want := range map[string]string{
		"":           "users.csv: EOF",
		"ext,name\n": "users.csv: record on line 1: wrong number of fields",
		"extension,name,email,role,password,sip_password\n": "the first line must be ext,name,email,role,password,sip_password",
		head: "users.csv has no users",
		head + "210,\"Alice\nSmith\",,,,secret-210\n": "users.csv line 2: the name has a line break or control character",
		head + "210,Alice,,,,secret\t210\n":           "users.csv line 2: the sip_password has a line break or control character",
	} {
		_, err := parseUserCSV(strings.NewReader(in), "users.csv")
		if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want a usage error with %q", in, err, want)
		}
	}
}
