package call

import (
	"bufio"
	"bytes"
	"strings"
)

// infoDigit reads a key press carried in a SIP INFO body, as older desk
// phones send DTMF: application/dtmf-relay ("Signal=5\r\nDuration=160") or
// application/dtmf ("5"). It returns '0'–'9', '*', '#' or 'A'–'D'; ok is
// false for anything else, including a flash hook.
func infoDigit(contentType string, body []byte) (digit byte, ok bool) {
	mt, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), ";")
	switch strings.TrimSpace(mt) {
	case "application/dtmf-relay":
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 256), 4096)
		for sc.Scan() {
			k, v, found := strings.Cut(sc.Text(), "=")
			if found && strings.EqualFold(strings.TrimSpace(k), "signal") {
				return dtmfSymbol(strings.TrimSpace(v))
			}
		}
	case "application/dtmf":
		return dtmfSymbol(strings.TrimSpace(string(body)))
	}
	return 0, false
}

// dtmfSymbol maps a signal value to its key: "5", "*", "#", "A"…"D", or the
// RFC 4733 event numbers some phones send instead ("10" = *, "11" = #).
func dtmfSymbol(v string) (byte, bool) {
	switch {
	case len(v) == 1 && (v[0] >= '0' && v[0] <= '9' || v[0] == '*' || v[0] == '#'):
		return v[0], true
	case len(v) == 1 && strings.ContainsRune("ABCDabcd", rune(v[0])):
		return strings.ToUpper(v)[0], true
	case v == "10":
		return '*', true
	case v == "11":
		return '#', true
	case len(v) == 2 && v[0] == '1' && v[1] >= '2' && v[1] <= '5':
		return 'A' + (v[1] - '2'), true
	}
	return 0, false
}
