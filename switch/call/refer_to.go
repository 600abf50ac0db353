package call

import (
	"errors"
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// referTarget is what a REFER's Refer-To asks for.
type referTarget struct {
	user     string // the user part: dialled as if the transferee had dialled it
	replaces bool   // it names a dialog to replace (attended transfer, RFC 3891)
}

var (
	errReferToCount  = errors.New("a REFER needs exactly one Refer-To")
	errReferToURI    = errors.New("Refer-To is not a SIP URI")
	errReferToUser   = errors.New("Refer-To has no usable user part")
	errReferToMethod = errors.New("Refer-To asks for a method other than INVITE")
)

// referTo reads the Refer-To of a REFER (also in its compact form "r").
func referTo(req *sip.Request) (referTarget, error) {
	hs := append(req.GetHeaders("Refer-To"), req.GetHeaders("r")...)
	if len(hs) != 1 {
		return referTarget{}, errReferToCount
	}
	return parseReferTo(hs[0].Value())
}

// parseReferTo reads a Refer-To value: a name-addr or addr-spec holding a
// sip: or sips: URI (RFC 3515 §2.1). The host is not looked at: whatever
// domain the phone put there, the user part is dialled on this switch.
func parseReferTo(v string) (referTarget, error) {
	var u sip.Uri
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(strings.TrimSpace(v), &u, &params); err != nil {
		return referTarget{}, errReferToURI
	}
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return referTarget{}, errReferToURI
	}
	if m, ok := u.UriParams.Get("method"); ok && !strings.EqualFold(m, "INVITE") {
		return referTarget{}, errReferToMethod
	}
	user, err := url.PathUnescape(u.User)
	if err != nil || !dialable(user) {
		return referTarget{}, errReferToUser
	}
	t := referTarget{user: user}
	for _, h := range u.Headers {
		if strings.EqualFold(h.K, "Replaces") {
			t.replaces = true
		}
	}
	return t, nil
}

// dialable accepts what a keypad or a directory can produce: digits, * # +,
// letters and . _ - (routing decides whether it exists), up to 64 bytes.
func dialable(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case strings.ContainsRune("*#+._-", r):
		default:
			return false
		}
	}
	return true
}
