package control

import (
	"context"
	"net/http"
)

// SetDevicePassword gives one device (the primary or a secondary one) a new
// SIP password. An empty password is generated and returned, to be shown
// once; a given one is checked like every SIP password and not returned.
// The web UI's "new SIP password" uses it; the CLI sets the primary
// device's with `user set --sip-password`.
func (l *Local) SetDevicePassword(_ context.Context, id, password string) (generated string, err error) {
	if !devicePattern.MatchString(id) {
		return "", errorf(http.StatusBadRequest, "device %q is not a device id such as 200b", id)
	}
	if password == "" {
		password = GeneratePassword(16)
		generated = password
	} else if err := checkPassword(password, false); err != nil {
		return "", err
	}
	if err := l.setDevicePassword(id, password); err != nil {
		return "", err
	}
	return generated, nil
}
