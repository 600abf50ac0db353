package presence

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// The presence event package (RFC 3856): open while a phone of the
// extension is registered (or it is on a call), closed when it is offline,
// with a note and the RPID (RFC 4480) activity on-the-phone while it talks,
// which presence-aware phones and softphones show next to a contact.
const (
	EventPresence   = "presence"
	ContentTypePIDF = "application/pidf+xml"
)

// PIDF is an application/pidf+xml document as the switch writes it.
type PIDF struct {
	Entity     string // sip:201@host
	Open       bool   // reachable: a phone is registered or on a call
	Note       string // for people: "Ready", "Ringing", "On the phone", "Offline"
	OnThePhone bool   // the RPID activity
}

// pidfFor is ext's presence document at entity.
func pidfFor(entity string, st Status) PIDF {
	p := PIDF{Entity: entity, Open: st.Online}
	switch st.Activity() {
	case OnCall:
		p.Open, p.OnThePhone, p.Note = true, true, "On the phone"
	case Ringing:
		p.Open, p.Note = true, "Ringing"
	case Idle:
		p.Note = "Ready"
	default:
		p.Note = "Offline"
	}
	return p
}

// Body renders the document with the prefixes Asterisk and Kamailio use
// (dm:, rpid:): some phones match them literally.
func (p PIDF) Body() []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e strings.Builder
		xml.EscapeText(&e, []byte(s)) // a strings.Builder never fails
		return e.String()
	}
	basic := "closed"
	if p.Open {
		basic = "open"
	}
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"`+
		` xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="%s">`+"\n", esc(p.Entity))
	fmt.Fprintf(&b, " <tuple id=\"phone\">\n  <status><basic>%s</basic></status>\n  <contact>%s</contact>\n  <note>%s</note>\n </tuple>\n",
		basic, esc(p.Entity), esc(p.Note))
	b.WriteString(" <dm:person id=\"user\">\n")
	if p.OnThePhone {
		b.WriteString("  <rpid:activities><rpid:on-the-phone/></rpid:activities>\n")
	}
	fmt.Fprintf(&b, "  <dm:note>%s</dm:note>\n </dm:person>\n</presence>\n", esc(p.Note))
	return b.Bytes()
}

type pidfXML struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:pidf presence"`
	Entity  string   `xml:"entity,attr"`
	Tuples  []struct {
		Basic string `xml:"status>basic"`
		Note  string `xml:"note"`
	} `xml:"tuple"`
	Persons []struct {
		OnThePhone *struct{} `xml:"activities>on-the-phone"`
		Note       string    `xml:"note"`
	} `xml:"person"`
}

// ParsePIDF reads a presence document as a watcher would: open when any
// tuple is, the first note found, and whether a person is on the phone.
func ParsePIDF(body []byte) (PIDF, error) {
	if len(body) > maxDocument {
		return PIDF{}, errors.New("pidf: document too large")
	}
	var doc pidfXML
	if err := xml.Unmarshal(body, &doc); err != nil {
		return PIDF{}, fmt.Errorf("pidf: %w", err)
	}
	p := PIDF{Entity: doc.Entity}
	for _, t := range doc.Tuples {
		p.Open = p.Open || strings.TrimSpace(t.Basic) == "open"
		if p.Note == "" {
			p.Note = t.Note
		}
	}
	for _, person := range doc.Persons {
		p.OnThePhone = p.OnThePhone || person.OnThePhone != nil
		if p.Note == "" {
			p.Note = person.Note
		}
	}
	return p, nil
}
