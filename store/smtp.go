package store

import (
	"net"
	"strconv"
	"strings"
)

// SMTPKey is the setting that holds the SMTPSettings voicemail email uses.
const SMTPKey = "smtp"

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

const (
	TLSAuto     TLSMode = ""         // STARTTLS when the server offers it (the default)
	TLSRequire  TLSMode = "require"  // STARTTLS or fail
	TLSOff      TLSMode = "off"      // never: plain SMTP (a relay on the LAN)
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (SMTPS, port 465)
)

// SMTPSettings is the mail server voicemail emails go through. The
// password is stored as given (the server needs it); it is never shown.
type SMTPSettings struct {
	Host     string  `json:"host"`
	Port     int     `json:"port"` // 0 = 587 (465 with TLSImplicit)
	Username string  `json:"username,omitempty"`
	Password string  `json:"password,omitempty"`
	From     string  `json:"from"` // the sender address of voicemail emails
	TLS      TLSMode `json:"tls,omitempty"`
}

// Addr is host:port with the default port filled in.
func (c SMTPSettings) Addr() string {
	port := c.Port
	if port == 0 {
		port = 587
		if c.TLS == TLSImplicit {
			port = 465
		}
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// Validate checks the settings; the errors are ErrBadValue.
func (c SMTPSettings) Validate() error {
	switch {
	case c.Host == "" || strings.ContainsAny(c.Host, " \t\r\n/@"):
		return BadValue("SMTP host %q is not a host name or address", c.Host)
	case c.Port < 0 || c.Port > 65535:
		return BadValue("SMTP port %d is not a port", c.Port)
	case c.From == "":
		return BadValue("a sender address (from) is required")
	case strings.ContainsAny(c.Username+c.Password, "\r\n\x00"):
		return BadValue("SMTP user and password cannot contain line breaks")
	case c.Password != "" && c.Username == "":
		return BadValue("an SMTP password needs a user")
	}
	switch c.TLS {
	case TLSAuto, TLSRequire, TLSOff, TLSImplicit:
	default:
		return BadValue("TLS mode %q: want auto, require, off or implicit", c.TLS)
	}
	if err := validEmail(c.From); err != nil {
		return BadValue("sender: %v", err)
	}
	return nil
}

// SMTP returns the mail server settings; ErrNotFound when none are set.
func (s *Store) SMTP() (SMTPSettings, error) {
	var c SMTPSettings
	err := s.Setting(SMTPKey, &c)
	return c, err
}

// PutSMTP checks and stores the mail server settings.
func (s *Store) PutSMTP(c SMTPSettings) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.PutSetting(SMTPKey, c)
}

// ParseTLSMode reads a TLS mode as the CLI spells it ("auto" is TLSAuto).
func ParseTLSMode(s string) (TLSMode, error) {
	switch m := TLSMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "auto", "":
		return TLSAuto, nil
	case TLSRequire, TLSOff, TLSImplicit:
		return m, nil
	}
	return "", BadValue("TLS mode %q: want auto, require, off or implicit", s)
}
