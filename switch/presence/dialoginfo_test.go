package presence

import (
	"reflect"
	"strings"
	"testing"
)

func TestDialogInfoBody(t *testing.T) {
	alice := Party{Display: "Alice <Sales> & Co", URI: "sip:200@pbx"}
	bob := Party{URI: "sip:201@pbx"}
	for _, tc := range []struct {
		name string
		doc  DialogInfo
		want []string // in this order
		not  []string
	}{
		{"idle", DialogInfo{Entity: "sip:201@pbx", Version: 0, State: "full"},
			[]string{`<?xml version="1.0" encoding="UTF-8"?>`, `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:201@pbx"></dialog-info>`},
			[]string{"<dialog "}},
		{"ringing", DialogInfo{Entity: "sip:201@pbx", Version: 3, State: "full", Dialogs: []DialogEntry{
			{ID: "call-1-r", Direction: "recipient", State: "early", Local: bob, Remote: alice}}},
			[]string{`version="3"`, `<dialog id="call-1-r" direction="recipient">`, `<state>early</state>`,
				`<local>`, `<identity>sip:201@pbx</identity>`, `<target uri="sip:201@pbx"></target>`,
				`<remote>`, `<identity display="Alice &lt;Sales&gt; &amp; Co">sip:200@pbx</identity>`},
			[]string{"call-id="}},
		{"talking and one ended", DialogInfo{Entity: "sip:200@pbx", Version: 7, State: "full", Dialogs: []DialogEntry{
			{ID: "call-2-i", CallID: "abc@phone", Direction: "initiator", State: "confirmed", Local: alice, Remote: bob},
			{ID: "call-1-i", Direction: "initiator", State: "terminated", Local: alice}}},
			[]string{`<dialog id="call-2-i" call-id="abc@phone" direction="initiator">`, `<state>confirmed</state>`,
				`<dialog id="call-1-i" direction="initiator">`, `<state>terminated</state>`},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.doc.Body()
			if err != nil {
				t.Fatal(err)
			}
			body, at := string(b), 0
			for _, w := range tc.want {
				i := strings.Index(body[at:], w)
				if i < 0 {
					t.Fatalf("no %q after offset %d in\n%s", w, at, body)
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Fatalf("%q in\n%s", n, body)
				}
			}
			back, err := ParseDialogInfo(b)
			if err != nil || !reflect.DeepEqual(back, tc.doc) {
				t.Fatalf("round trip: %+v %v, want %+v", back, err, tc.doc)
			}
		})
	}
}

func TestParseDialogInfoFromOtherServers(t *testing.T) {
	// As Asterisk writes it: namespace prefixes, extra elements, a terminated dialog.
	asterisk := `<?xml version="1.0" encoding="UTF-8"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="5" state="full" entity="sip:201@10.0.0.1">
 <dialog id="201" direction="recipient" call-id="x1" local-tag="a" remote-tag="b">
  <state>confirmed</state>
  <duration>12</duration>
  <remote><identity display="Alice">sip:200@10.0.0.1</identity><target uri="sip:200@10.0.0.1"/></remote>
 </dialog>
</dialog-info>`
	d, err := ParseDialogInfo([]byte(asterisk))
	if err != nil || d.Version != 5 || len(d.Dialogs) != 1 || d.Dialogs[0].State != "confirmed" ||
		d.Dialogs[0].Remote.Display != "Alice" || d.Dialogs[0].Local.URI != "" {
		t.Fatalf("asterisk: %+v %v", d, err)
	}
	for _, bad := range []string{"", "<dialog-info>", `<presence xmlns="urn:ietf:params:xml:ns:pidf"/>`,
		`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="-1"/>`} {
		if _, err := ParseDialogInfo([]byte(bad)); err == nil {
			t.Errorf("ParseDialogInfo(%q) accepted", bad)
		}
	}
}

func TestPIDFBody(t *testing.T) {
	for _, tc := range []struct {
		st   Status
		want PIDF
		has  []string
	}{
		{Status{Ext: "201"}, PIDF{Entity: "sip:201@pbx", Note: "Offline"}, []string{"<basic>closed</basic>"}},
		{Status{Ext: "201", Online: true}, PIDF{Entity: "sip:201@pbx", Open: true, Note: "Ready"}, []string{"<basic>open</basic>"}},
		{Status{Ext: "201", Online: true, Dialogs: []Dialog{{Direction: Recipient, State: Early}}},
			PIDF{Entity: "sip:201@pbx", Open: true, Note: "Ringing"}, []string{"<note>Ringing</note>"}},
		{Status{Ext: "201", Dialogs: []Dialog{{Direction: Recipient, State: Confirmed}}}, // registration lapsed mid-call
			PIDF{Entity: "sip:201@pbx", Open: true, Note: "On the phone", OnThePhone: true},
			[]string{"<basic>open</basic>", "<rpid:activities><rpid:on-the-phone/></rpid:activities>", "<dm:note>On the phone</dm:note>"}},
	} {
		p := pidfFor("sip:201@pbx", tc.st)
		if p != tc.want {
			t.Errorf("pidfFor(%+v) = %+v, want %+v", tc.st, p, tc.want)
		}
		body := string(p.Body())
		for _, h := range tc.has {
			if !strings.Contains(body, h) {
				t.Errorf("no %q in\n%s", h, body)
			}
		}
		if back, err := ParsePIDF(p.Body()); err != nil || back != p {
			t.Errorf("round trip: %+v %v, want %+v", back, err, p)
		}
	}
	odd := PIDF{Entity: `sip:"x"&<y>@pbx`, Note: "a\x00b"}
	if back, err := ParsePIDF(odd.Body()); err != nil || back.Entity != odd.Entity {
		t.Fatalf("escaping: %+v %v", back, err)
	}
}

func TestActivity(t *testing.T) {
	ringing := Dialog{Direction: Recipient, State: Early}
	for _, tc := range []struct {
		st   Status
		want string
	}{
		{Status{}, "offline"},
		{Status{Online: true}, "online"},
		{Status{Online: true, Dialogs: []Dialog{ringing}}, "ringing"},
		{Status{Online: true, Dialogs: []Dialog{{Direction: Initiator, State: Trying}}}, "on_call"}, // dialling
		{Status{Online: true, Dialogs: []Dialog{ringing, {Direction: Recipient, State: Confirmed}}}, "on_call"},
	} {
		if got := tc.st.Activity().String(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.st, got, tc.want)
		}
	}
}

// FuzzParseDialogInfo: BLF bodies are read by phonetest and by anything
// that watches the switch; a document must never panic the parser and
// what it accepts must survive a round trip through Body.
func FuzzParseDialogInfo(f *testing.F) {
	corpus(f, "dialog-info")
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ParseDialogInfo(body)
		if err != nil {
			return
		}
		b, err := d.Body()
		if err != nil {
			return // strings encoding/xml cannot write
		}
		again, err := ParseDialogInfo(b)
		if err != nil || again.Version != d.Version || len(again.Dialogs) != len(d.Dialogs) {
			t.Fatalf("re-parse of %+v: %+v %v\n%s", d, again, err, b)
		}
	})
}

// FuzzParsePIDF: the same for presence documents.
func FuzzParsePIDF(f *testing.F) {
	f.Add(PIDF{Entity: "sip:1@h", Open: true, Note: "Ready", OnThePhone: true}.Body())
	f.Add([]byte(`<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple><status><basic> open </basic></status></tuple></presence>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePIDF(body)
		if err != nil {
			return
		}
		again, err := ParsePIDF(p.Body())
		if err != nil || again.Open != p.Open || again.OnThePhone != p.OnThePhone {
			t.Fatalf("re-parse of %+v: %+v %v", p, again, err)
		}
	})
}
