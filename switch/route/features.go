package route

import (
	"fmt"
	"sort"
	"strings"
)

// Code is a feature reached by dialling a code from a phone.
type Code string

const (
	VoicemailOwn   Code = "voicemail"       // the caller's own box, no PIN (the phone is authenticated)
	VoicemailAny   Code = "voicemail_login" // any box: mailbox number and PIN
	RecordGreeting Code = "record_greeting" // record the caller's voicemail greeting
	DNDOn          Code = "dnd_on"
	DNDOff         Code = "dnd_off"
	DNDToggle      Code = "dnd_toggle"
	ForwardOn      Code = "forward_on" // followed by the destination: *72201, *720761234567
	ForwardOff     Code = "forward_off"
)

// FeatureCodesKey is the store setting holding the organisation's feature
// codes (a JSON object code → feature); unset means DefaultFeatures.
const FeatureCodesKey = "feature_codes"

// DefaultFeatures are the codes a new switch answers to (the usual ones of
// desk phones and other PBXs).
var DefaultFeatures = map[string]Code{
	"*97": VoicemailOwn,
	"*98": VoicemailAny,
	"*11": RecordGreeting,
	"*78": DNDOn,
	"*79": DNDOff,
	"*76": DNDToggle,
	"*72": ForwardOn,
	"*73": ForwardOff,
}

// takesArgument reports whether digits follow the code.
func (c Code) takesArgument() bool { return c == ForwardOn }

// Codes lists the known feature names, for the CLI and the UI.
func Codes() []Code {
	return []Code{VoicemailOwn, VoicemailAny, RecordGreeting, DNDOn, DNDOff, DNDToggle, ForwardOn, ForwardOff}
}

// CheckFeatures says what is wrong with a feature-code table, or nil.
func CheckFeatures(codes map[string]Code) error {
	known := map[Code]bool{}
	for _, c := range Codes() {
		known[c] = true
	}
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[codes[k]] {
			return fmt.Errorf("%s: unknown feature %q", k, codes[k])
		}
		if len(k) < 2 || len(k) > 6 || k[0] != '*' || !digits(k[1:]) {
			return fmt.Errorf("feature code %q must be * and 1 to 5 digits", k)
		}
		for _, other := range keys {
			if other != k && strings.HasPrefix(other, k) && codes[k].takesArgument() {
				return fmt.Errorf("feature codes %s and %s overlap", k, other)
			}
		}
	}
	return nil
}

// routeFeature matches a dialled "*…" string against the feature codes.
// Features act on the caller's own extension, so a call from outside
// reaches none.
func routeFeature(in Input, dialled string, s Settings) Plan {
	codes := s.Features
	if codes == nil {
		codes = DefaultFeatures
	}
	if in.CallerDevice == "" {
		return Plan{Kind: NotFound, Reason: "feature codes are for our own phones"}
	}
	if c, ok := codes[dialled]; ok && !c.takesArgument() {
		return Plan{Kind: Feature, Feature: c, Ext: ExtOf(in.CallerDevice)}
	}
	for code, c := range codes {
		if c.takesArgument() && strings.HasPrefix(dialled, code) {
			arg := dialled[len(code):]
			if arg == "" || !digits(arg) || len(arg) > 20 {
				return Plan{Kind: NotFound, Reason: fmt.Sprintf("%s needs a number after it", code)}
			}
			return Plan{Kind: Feature, Feature: c, Arg: arg, Ext: ExtOf(in.CallerDevice)}
		}
	}
	return Plan{Kind: NotFound, Reason: fmt.Sprintf("%q is not a feature code", dialled)}
}

// ExtOf is the extension a device belongs to: "200b" → "200".
func ExtOf(device string) string {
	for len(device) > 0 && (device[len(device)-1] < '0' || device[len(device)-1] > '9') {
		device = device[:len(device)-1]
	}
	return device
}
