package presence

import (
	"cmp"
	"errors"
	"slices"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
)

// render is the body of sub's next NOTIFY with the state as it is now;
// gone when the watched user no longer exists (the body then says
// "nothing": no messages, no calls, closed).
func (s *Service) render(sub *subscription) (body []byte, ctype string, gone bool, err error) {
	if sub.pkg == EventMWI {
		sum, err := s.summary(sub.ext)
		if errors.Is(err, store.ErrNotFound) {
			return Summary{Account: s.account(sub.ext)}.Body(), ContentTypeMWI, true, nil
		}
		return sum.Body(), ContentTypeMWI, false, err
	}
	st := Status{Ext: sub.ext}
	if _, err := s.deps.Directory.User(sub.ext); errors.Is(err, store.ErrNotFound) {
		gone = true
	} else if err != nil {
		return nil, "", false, err
	} else {
		st = s.Status(sub.ext)
	}
	if sub.pkg == EventPresence {
		return pidfFor(s.account(sub.ext), st).Body(), ContentTypePIDF, gone, nil
	}
	body, err = s.dialogInfo(sub, st).Body()
	return body, ContentTypeDialog, gone, err
}

// dialogInfo is the next full dialog-info document of a subscription: the
// extension's calls, plus once as terminated each call the last document
// listed that has ended since (RFC 4235 §3.7.1), so a phone sees the end.
func (s *Service) dialogInfo(sub *subscription, st Status) DialogInfo {
	entity := s.account(sub.ext)
	doc := DialogInfo{Entity: entity, Version: sub.version, State: "full"}
	sub.version++
	now := make(map[string]Dialog, len(st.Dialogs))
	for _, d := range st.Dialogs {
		now[d.ID] = d
		doc.Dialogs = append(doc.Dialogs, s.dialogEntry(entity, d))
	}
	var ended []Dialog
	for id, d := range sub.shown {
		if _, ok := now[id]; !ok {
			d.State = Terminated
			ended = append(ended, d)
		}
	}
	slices.SortFunc(ended, func(a, b Dialog) int { return cmp.Compare(a.ID, b.ID) })
	for _, d := range ended {
		doc.Dialogs = append(doc.Dialogs, s.dialogEntry(entity, d))
	}
	sub.shown = now
	return doc
}

// dialogEntry is one dialog of the extension at entity as a <dialog>.
func (s *Service) dialogEntry(entity string, d Dialog) DialogEntry {
	e := DialogEntry{ID: d.ID, CallID: d.CallID, Direction: d.Direction.String(), State: d.State.String(),
		Local: Party{URI: entity}}
	if d.Remote != "" {
		u := sip.Uri{Scheme: "sip", User: d.Remote, Host: s.cfg.Host}
		e.Remote = Party{Display: d.RemoteName, URI: u.String()}
	}
	return e
}
