package registrar

import (
	"switchboard/store"
	"switchboard/switch/auth"
)

// StoreDirectory finds device secrets in the store. A disabled device or
// user has no secrets, so it cannot register (and looks like an unknown one).
type StoreDirectory struct{ Store *store.Store }

// DeviceSecrets implements Directory.
func (d StoreDirectory) DeviceSecrets(id string) (auth.Secrets, bool) {
	dev, err := d.Store.Device(id)
	if err != nil || dev.Disabled {
		return auth.Secrets{}, false
	}
	u, err := d.Store.User(dev.Ext)
	if err != nil || u.Disabled {
		return auth.Secrets{}, false
	}
	return auth.Secrets{HA1MD5: dev.HA1MD5, HA1SHA256: dev.HA1SHA256}, true
}
