package presence

import (
	"encoding/xml"
	"errors"
	"fmt"
)

// The dialog event package (RFC 4235) is what BLF keys subscribe to: each
// NOTIFY carries the full list of the watched extension's calls, so the
// key lights red while it talks and blinks while it rings.
const (
	EventDialog       = "dialog"
	ContentTypeDialog = "application/dialog-info+xml"
	nsDialogInfo      = "urn:ietf:params:xml:ns:dialog-info"
)

// DialogInfo is an application/dialog-info+xml document.
type DialogInfo struct {
	Entity  string // the watched extension's address, sip:201@host
	Version uint32 // 0 in a subscription's first NOTIFY, one more in each after
	State   string // "full": the document lists every dialog
	Dialogs []DialogEntry
}

// DialogEntry is one <dialog> of a document.
type DialogEntry struct {
	ID        string
	CallID    string // empty when unknown
	Direction string // initiator, recipient
	State     string // trying, proceeding, early, confirmed, terminated
	Local     Party  // the watched extension
	Remote    Party  // the other party
}

// Party is a <local> or <remote> element: an identity and its target.
type Party struct {
	Display string
	URI     string
}

// The XML shape, as Asterisk, FreeSWITCH and Kamailio write it: Polycom,
// Yealink, Grandstream and baresip read <state>, direction and the remote
// <identity> (its display name shows on the key's pop-up).
type dialogInfoXML struct {
	XMLName xml.Name    `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	Version uint32      `xml:"version,attr"`
	State   string      `xml:"state,attr"`
	Entity  string      `xml:"entity,attr"`
	Dialogs []dialogXML `xml:"dialog"`
}

type dialogXML struct {
	ID        string    `xml:"id,attr"`
	CallID    string    `xml:"call-id,attr,omitempty"`
	Direction string    `xml:"direction,attr,omitempty"`
	State     string    `xml:"state"`
	Local     *partyXML `xml:"local"`
	Remote    *partyXML `xml:"remote"`
}

type partyXML struct {
	Identity struct {
		Display string `xml:"display,attr,omitempty"`
		URI     string `xml:",chardata"`
	} `xml:"identity"`
	Target struct {
		URI string `xml:"uri,attr"`
	} `xml:"target"`
}

func toPartyXML(p Party) *partyXML {
	if p.URI == "" {
		return nil
	}
	x := &partyXML{}
	x.Identity.Display, x.Identity.URI, x.Target.URI = p.Display, p.URI, p.URI
	return x
}

func fromPartyXML(x *partyXML) Party {
	if x == nil {
		return Party{}
	}
	return Party{Display: x.Identity.Display, URI: x.Identity.URI}
}

// Body renders the document.
func (d DialogInfo) Body() ([]byte, error) {
	doc := dialogInfoXML{Version: d.Version, State: d.State, Entity: d.Entity}
	for _, e := range d.Dialogs {
		doc.Dialogs = append(doc.Dialogs, dialogXML{ID: e.ID, CallID: e.CallID, Direction: e.Direction,
			State: e.State, Local: toPartyXML(e.Local), Remote: toPartyXML(e.Remote)})
	}
	out, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("dialog-info: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// maxDocument bounds the documents the parsers read.
const maxDocument = 64 << 10

// ParseDialogInfo reads a dialog-info document as a phone would: the root
// must be <dialog-info> in its namespace; unknown elements are ignored.
func ParseDialogInfo(body []byte) (DialogInfo, error) {
	if len(body) > maxDocument {
		return DialogInfo{}, errors.New("dialog-info: document too large")
	}
	var doc dialogInfoXML
	if err := xml.Unmarshal(body, &doc); err != nil {
		return DialogInfo{}, fmt.Errorf("dialog-info: %w", err)
	}
	d := DialogInfo{Entity: doc.Entity, Version: doc.Version, State: doc.State}
	for _, x := range doc.Dialogs {
		d.Dialogs = append(d.Dialogs, DialogEntry{ID: x.ID, CallID: x.CallID, Direction: x.Direction,
			State: x.State, Local: fromPartyXML(x.Local), Remote: fromPartyXML(x.Remote)})
	}
	return d, nil
}
