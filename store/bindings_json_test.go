package store

import (
	"encoding/json"
	"testing"
	"time"
)

func sampleBindings() []Binding {
	now := time.Date(2026, 11, 24, 22, 30, 0, 123456789, time.UTC)
	return []Binding{
		{Contact: "sip:200@192.168.1.20:5060;transport=udp", Source: "192.168.1.20:5060", Transport: "UDP",
			Expires: now.Add(time.Hour), CallID: "a84b4c76e66710@pc33", CSeq: 314159,
			UserAgent: "Yealink SIP-T46U 108.86.0.45", Updated: now},
		{Contact: "sip:200@[2001:db8::9]:5070", Source: "[2001:db8::9]:5070", Transport: "TCP",
			Expires: now.In(time.FixedZone("CET", 3600)), CallID: "x", Instance: "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>",
			Updated: now.Add(-time.Second)},
		{Contact: "sip:\"quoted\"\\back\tslash\n&<>\u2028\u2029\x01\x7f", UserAgent: "bad utf-8 \xff\xfe end é ☎"},
		{},
	}
}

// appendBindingsJSON must write exactly what encoding/json writes: records
// already in the store were written by it and both must read back alike.
func TestBindingsJSONMatchesEncodingJSON(t *testing.T) {
	for _, list := range [][]Binding{nil, {}, sampleBindings(), sampleBindings()[:1]} {
		want, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendBindingsJSON(nil, list); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzBindingsJSON(f *testing.F) {
	for _, b := range sampleBindings() {
		f.Add(b.Contact, b.Source, b.UserAgent, b.Instance, b.CSeq, b.Expires.UnixNano())
	}
	f.Fuzz(func(t *testing.T, contact, source, ua, instance string, cseq uint32, nanos int64) {
		// Bindings' times are near now; encoding/json refuses years past 9999.
		at := time.Unix(0, nanos%(200*365*24*int64(time.Hour))).UTC()
		list := []Binding{{Contact: contact, Source: source, Transport: "UDP", Expires: at, CallID: source,
			CSeq: cseq, UserAgent: ua, Instance: instance, Updated: at.Add(time.Minute)}}
		want, err := json.Marshal(list)
		if err != nil {
			return // outside what encoding/json itself can write: nothing to compare
		}
		got := appendBindingsJSON(nil, list)
		if string(got) != string(want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
		var back []Binding
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if len(back) != 1 || back[0].UserAgent == "" && ua != "" {
			t.Fatalf("decoded %d bindings", len(back))
		}
	})
}

func BenchmarkBindingsJSON(b *testing.B) {
	list := sampleBindings()[:1]
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendBindingsJSON(buf[:0], list)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(list)
		}
	})
}
