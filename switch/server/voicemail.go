package server

import (
	"switchboard/switch/call"
	"switchboard/switch/voicemail"
)

var _ call.Voicemail = (*voicemail.Voicemail)(nil)

// startVoicemail builds the voicemail applications on the store, telling
// presence about every change of a box and emailing messages through the
// SMTP server in the store's settings. The call side runs them on a
// caller's leg: Voicemail().Deposit, Access, RecordGreeting.
func (s *Server) startVoicemail() {
	s.vm = voicemail.New(voicemail.Deps{Store: s.st, MWI: s.pres,
		Mail: &voicemail.SMTP{Settings: s.st}, Log: s.log}, voicemail.Config{})
}

// Voicemail is the voicemail system (deposit, the *97/*98 menu, *11 greeting).
func (s *Server) Voicemail() *voicemail.Voicemail { return s.vm }

// voicemailApps is what calls run for voicemail: Config.Voicemail when a
// test replaces it, else the switch's own when BuiltinVoicemail, else none.
func (s *Server) voicemailApps() call.Voicemail {
	switch {
	case s.cfg.Voicemail != nil:
		return s.cfg.Voicemail
	case s.cfg.BuiltinVoicemail:
		return s.vm
	}
	return nil // a nil interface, not a nil *Voicemail
}
