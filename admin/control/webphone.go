package control

import (
	"context"
	"errors"
	"net/http"
	"time"

	"switchboard/store"
)

// WebphoneSuffix ends the id of a user's webphone device: 200 → 200w.
const WebphoneSuffix = "w"

// Webphone is what a logged-in browser needs to register its webphone:
// the device and the digest secret (HA1, never a password) it answers
// challenges with.
type Webphone struct {
	Device string `json:"device"`
	Realm  string `json:"realm"`
	HA1    string `json:"ha1"` // hex MD5(device:realm:password)
}

// Webphone returns the user's webphone device, made on first use with a
// random SIP password nobody ever sees: the web session hands out its
// HA1, so no SIP password is typed into a page.
func (l *Local) Webphone(_ context.Context, ext string) (Webphone, error) {
	id := ext + WebphoneSuffix
	d, err := l.Store.Device(id)
	if errors.Is(err, store.ErrNotFound) {
		d, err = l.addWebphone(ext, id)
	}
	if err != nil {
		return Webphone{}, asError(err, "webphone of "+ext)
	}
	if d.Kind != store.KindWebphone {
		return Webphone{}, errorf(http.StatusConflict, "device %s is a SIP phone, not the webphone: remove it to use the webphone", id)
	}
	if d.Disabled {
		return Webphone{}, errorf(http.StatusForbidden, "the webphone of %s is disabled", ext)
	}
	return Webphone{Device: d.ID, Realm: d.Realm, HA1: d.HA1MD5}, nil
}

func (l *Local) addWebphone(ext, id string) (store.Device, error) {
	realm, err := l.realm()
	if err != nil {
		return store.Device{}, err
	}
	return l.Store.AddDevice(ext, func([]string) (store.Device, error) {
		d := store.Device{ID: id, Ext: ext, Kind: store.KindWebphone, Created: time.Now().UTC()}
		d.SetSIPPassword(realm, GeneratePassword(24))
		return d, nil
	})
}
