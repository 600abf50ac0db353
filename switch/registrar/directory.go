package registrar

import (
	"switchboard/store"
	"switchboard/switch/auth"
)

// StoreDirectory finds device secrets in the store. A disabled device or
// user has no secrets, so it cannot register (and looks like an unknown one).
type StoreDirectory struct{ Store *store.Store }

// DeviceSecrets implements Directory. The store answers from memory.
func (d StoreDirectory) DeviceSecrets(id string) (auth.Secrets, bool) {
	s, ok := d.Store.DeviceSecrets(id)
	return auth.Secrets{HA1MD5: s.HA1MD5, HA1SHA256: s.HA1SHA256, WebSocketOnly: s.WebSocketOnly}, ok
}
