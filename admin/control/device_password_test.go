package control

import (
	"context"
	"testing"

	"switchboard/store"
)

func TestSetDevicePassword(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := &Local{Store: st}
	ctx := context.Background()
	if _, err := l.AddUser(ctx, UserSpec{Ext: "200", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddDevice(ctx, "200", ""); err != nil {
		t.Fatal(err)
	}
	realm, _ := st.SIPRealm()
	pw, err := l.SetDevicePassword(ctx, "200b", "")
	if err != nil || len(pw) != 16 {
		t.Fatalf("generated: %q, %v", pw, err)
	}
	want := store.Device{ID: "200b"}
	want.SetSIPPassword(realm, pw)
	if d, _ := st.Device("200b"); d.HA1MD5 != want.HA1MD5 {
		t.Fatal("the generated password is not the device's")
	}
	if pw, err := l.SetDevicePassword(ctx, "200", "given-pass-1"); err != nil || pw != "" {
		t.Fatalf("given password: %q, %v", pw, err)
	}
	for id, p := range map[string]string{"200": "short", "bad id": "", "201": ""} {
		if _, err := l.SetDevicePassword(ctx, id, p); err == nil {
			t.Errorf("SetDevicePassword(%q, %q) succeeded", id, p)
		}
	}
}
