package presence

import (
	"switchboard/switch/event"
)

// observe takes one bus event into the live state.
func (s *Service) observe(e event.Event) {
	switch e.Kind {
	case event.StatusChanged: // our own
	case event.Registered:
		s.registered(e)
		s.changed([]string{s.extOf(e.Device)})
	case event.Unregistered, event.Expired:
		s.changed([]string{s.extOf(e.Device)})
	default:
		s.changed(s.calls.apply(e, s))
	}
}

// changed tells the BLF and presence subscribers of each extension, and
// the bus, that its live state changed.
func (s *Service) changed(exts []string) {
	for _, ext := range exts {
		if ext == "" {
			continue
		}
		for _, sub := range s.watching(ext, EventDialog, EventPresence) {
			s.kick(sub)
		}
		if s.deps.Bus != nil {
			s.deps.Bus.Publish(event.Event{Kind: event.StatusChanged, Ext: ext})
		}
	}
}

// extOf is the extension of a device, or "" when there is no such device.
func (s *Service) extOf(device string) string {
	if device == "" {
		return ""
	}
	d, err := s.deps.Directory.Device(device)
	if err != nil {
		return ""
	}
	return d.Ext
}

// nameOf is the display name of the user at ext, or "".
func (s *Service) nameOf(ext string) string {
	u, err := s.deps.Directory.User(ext)
	if err != nil {
		return ""
	}
	return u.Name()
}
