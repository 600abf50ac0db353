package presence

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccepts(t *testing.T) {
	for _, tc := range []struct {
		values []string
		ctype  string
		want   bool
	}{
		{nil, ContentTypeDialog, true}, // the package's default
		{[]string{""}, ContentTypeDialog, true},
		{[]string{"application/dialog-info+xml"}, ContentTypeDialog, true},
		{[]string{"Application/Dialog-Info+XML"}, ContentTypeDialog, true},
		{[]string{"application/pidf+xml, application/xpidf+xml"}, ContentTypePIDF, true},
		{[]string{"multipart/related", "application/rlmi+xml, application/pidf+xml"}, ContentTypePIDF, true},
		{[]string{"application/*"}, ContentTypeMWI, true},
		{[]string{"*/*;q=0.5"}, ContentTypeMWI, true},
		{[]string{"application/xpidf+xml"}, ContentTypePIDF, false},
		{[]string{"application/simple-message-summary"}, ContentTypeDialog, false},
		{[]string{"application/dialog-info+xml;q=0"}, ContentTypeDialog, false},
		{[]string{"application/dialog-info+xml ; q = 0.000"}, ContentTypeDialog, false},
		{[]string{"application/dialog-info+xml;q=0, */*;q=0.1"}, ContentTypeDialog, true},
		{[]string{"application/dialog-info+xml;q=oops"}, ContentTypeDialog, true}, // not a refusal
		{[]string{"text/plain"}, ContentTypeDialog, false},
	} {
		if got := accepts(tc.values, tc.ctype); got != tc.want {
			t.Errorf("accepts(%q, %s) = %v, want %v", tc.values, tc.ctype, got, tc.want)
		}
	}
}

// corpus adds every file of the repository's testdata/fuzz/<name> to f.
func corpus(f *testing.F, name string) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "fuzz", name, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/fuzz/%s: %v", name, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzAccepts: the Accept header of every SUBSCRIBE goes through accepts.
// It must never panic, and naming the type outright always accepts it.
func FuzzAccepts(f *testing.F) {
	corpus(f, "accept")
	f.Fuzz(func(t *testing.T, v []byte) {
		values := strings.Split(string(v), "\n")
		for _, ct := range []string{ContentTypeMWI, ContentTypeDialog, ContentTypePIDF} {
			accepts(values, ct)
			if !accepts(append(values, ct), ct) {
				t.Fatalf("accepts(%q + %s) refused", values, ct)
			}
		}
	})
}
