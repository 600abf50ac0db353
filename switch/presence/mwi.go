package presence

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// MWI is the message-summary event package (RFC 3842): it tells a phone
// whether its user's mailbox holds new messages, which lights its
// message-waiting lamp.
const (
	EventMWI       = "message-summary"
	ContentTypeMWI = "application/simple-message-summary"
)

// Summary is the state a message-summary NOTIFY carries: the mailbox's
// account and its new (unread) and old (saved) voice messages.
type Summary struct {
	Account string // sip:200@host
	New     int
	Old     int
}

// Waiting reports whether the lamp is on: there are new messages.
func (s Summary) Waiting() bool { return s.New > 0 }

// Body renders the application/simple-message-summary body. Urgent
// counts are always 0: Switchboard has no urgent messages.
func (s Summary) Body() []byte {
	waiting := "no"
	if s.Waiting() {
		waiting = "yes"
	}
	return fmt.Appendf(nil, "Messages-Waiting: %s\r\nMessage-Account: %s\r\nVoice-Message: %d/%d (0/0)\r\n",
		waiting, s.Account, s.New, s.Old)
}

// maxCount bounds the counts ParseSummary accepts.
const maxCount = 1 << 20

// ParseSummary reads a simple-message-summary body (RFC 3842 §5.2). It
// reads what a phone would: Messages-Waiting, Message-Account and the
// Voice-Message counts (other message classes are ignored); headers are
// case-insensitive and lines may end in CRLF or LF.
func ParseSummary(body []byte) (Summary, bool, error) {
	var s Summary
	var waiting, sawWaiting bool
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(nil, 4096)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return s, false, fmt.Errorf("message summary: line %q has no colon", line)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "messages-waiting":
			switch strings.ToLower(value) {
			case "yes":
				waiting = true
			case "no":
				waiting = false
			default:
				return s, false, fmt.Errorf("message summary: Messages-Waiting %q", value)
			}
			sawWaiting = true
		case "message-account":
			s.Account = value
		case "voice-message":
			n, o, err := parseCounts(value)
			if err != nil {
				return s, false, err
			}
			s.New, s.Old = n, o
		}
	}
	if err := sc.Err(); err != nil {
		return s, false, fmt.Errorf("message summary: %w", err)
	}
	if !sawWaiting {
		return s, false, fmt.Errorf("message summary: no Messages-Waiting line")
	}
	return s, waiting, nil
}

// parseCounts reads "new/old" with an optional "(urgent-new/urgent-old)".
func parseCounts(v string) (newMsgs, oldMsgs int, err error) {
	main, _, _ := strings.Cut(v, "(")
	a, b, ok := strings.Cut(strings.TrimSpace(main), "/")
	if !ok {
		return 0, 0, fmt.Errorf("message summary: Voice-Message %q", v)
	}
	newMsgs, err1 := strconv.Atoi(strings.TrimSpace(a))
	oldMsgs, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || newMsgs < 0 || oldMsgs < 0 || newMsgs > maxCount || oldMsgs > maxCount {
		return 0, 0, fmt.Errorf("message summary: Voice-Message %q", v)
	}
	return newMsgs, oldMsgs, nil
}
