package voicemail

import (
	"context"
	"errors"
	"slices"

	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/store"
	"switchboard/switch/ivr"
)

// errLeave ends a session from inside a submenu: the caller pressed # or
// stayed silent.
var errLeave = errors.New("caller leaves")

// Access is the caller's voicemail menu. With needPIN (*98) it asks for
// the box (unless ext is given) and its PIN first; without (*97, the
// caller's own phone) ext is the caller's own box. A caller hanging up is
// a normal end: Access returns nil then, and an error only when the store
// failed.
func (v *Voicemail) Access(ctx context.Context, s ivr.Session, ext string, needPIN bool) error {
	err := v.access(ctx, s, ext, needPIN)
	if errors.Is(err, ivr.ErrHangup) {
		return nil
	}
	return err
}

func (v *Voicemail) access(ctx context.Context, s ivr.Session, ext string, needPIN bool) error {
	var pressed byte // a key pressed during the no-PIN notice counts in the main menu
	if needPIN {
		box, ok, err := v.login(ctx, s, ext)
		if err != nil || !ok {
			return err
		}
		ext = box
	} else {
		box, err := v.Store.Mailbox(ext)
		if errors.Is(err, store.ErrNotFound) {
			_, err := s.Play(ctx, false, clip("no_mailbox"), clip("goodbye"))
			return err
		}
		if err != nil {
			return err
		}
		if !box.HasPIN() {
			if pressed, err = s.Play(ctx, true, clip("vm_no_pin")); err != nil {
				return err
			}
		}
	}
	err := v.mainMenu(ctx, s, ext, pressed)
	if errors.Is(err, errLeave) {
		return v.bye(ctx, s, false)
	}
	return err
}

// login asks for the box (when ext is "") and the PIN, up to PINTries
// times. A box that does not exist, one without a PIN and a wrong PIN all
// sound the same.
func (v *Voicemail) login(ctx context.Context, s ivr.Session, ext string) (string, bool, error) {
	for try := 0; try < v.cfg.PINTries; try++ {
		box := ext
		if box == "" {
			var err error
			if box, err = v.collect(ctx, s, clip("vm_enter_mailbox"), 7); err != nil {
				return "", false, err
			}
		}
		pin, err := v.collect(ctx, s, clip("vm_enter_pin"), 10)
		if err != nil {
			return "", false, err
		}
		if box != "" && pin != "" {
			if !validExt(box) {
				box = "x" // never a key of ours; costs and sounds like any unknown box
			}
			ok, locked, err := v.Login(box, pin)
			if err != nil {
				return "", false, err
			}
			if !locked.IsZero() {
				v.Log.Info("voicemail login refused: box locked", "box", box, "caller", s.Caller().Number, "until", locked)
				_, err := s.Play(ctx, false, clip("vm_locked"), clip("goodbye"))
				return "", false, err
			}
			if ok {
				return box, true, nil
			}
			v.Log.Info("voicemail login failed", "box", box, "caller", s.Caller().Number)
		}
		if _, err := s.Play(ctx, false, clip("vm_pin_wrong")); err != nil {
			return "", false, err
		}
	}
	_, err := s.Play(ctx, false, clip("goodbye"))
	return "", false, err
}

// collect plays prompt and reads up to n digits ending at # or a pause;
// a key pressed during the prompt is the first digit.
func (v *Voicemail) collect(ctx context.Context, s ivr.Session, prompt []byte, n int) (string, error) {
	d, err := s.Play(ctx, true, prompt)
	if err != nil || d == '#' {
		return "", err
	}
	first := ""
	if d != 0 {
		first = string(d)
		n--
	}
	rest, err := ivr.ReadDigits(ctx, s, n, v.cfg.DigitTimeout)
	return first + rest, err
}

// choose plays a menu and returns the key pressed during it or within
// DigitTimeout after it; the menu is played up to three times, then
// choose returns 0.
func (v *Voicemail) choose(ctx context.Context, s ivr.Session, menu ...[]byte) (byte, error) {
	for range 3 {
		d, err := s.Play(ctx, true, menu...)
		if err != nil {
			return 0, err
		}
		if d == 0 {
			if d, err = s.ReadDigit(ctx, v.cfg.DigitTimeout); err != nil {
				return 0, err
			}
		}
		if d != 0 {
			return d, nil
		}
	}
	return 0, nil
}

func (v *Voicemail) invalid(ctx context.Context, s ivr.Session) error {
	_, err := s.Play(ctx, false, clip("invalid_option"))
	return err
}

// mainMenu: "you have N new messages and M saved messages", then 1 listen,
// 0 options, # or * leave. pressed is a key already pressed (0: none).
func (v *Voicemail) mainMenu(ctx context.Context, s ivr.Session, ext string, pressed byte) error {
	msgs, err := v.Store.Messages(ext)
	if err != nil {
		return err
	}
	menu := append(countClips(msgs), clip("vm_main_menu"))
	for {
		d := pressed
		pressed = 0
		if d == 0 {
			if d, err = v.choose(ctx, s, menu...); err != nil {
				return err
			}
		}
		switch d {
		case '1':
			err = v.listen(ctx, s, ext)
		case '0':
			err = v.options(ctx, s, ext)
		case '#', '*', 0:
			return errLeave
		default:
			err = v.invalid(ctx, s)
		}
		if err != nil {
			return err
		}
		menu = clips("vm_main_menu")
	}
}

// countClips says how many new and saved messages there are.
func countClips(msgs []store.VoiceMessage) [][]byte {
	unread, read := 0, 0
	for _, m := range msgs {
		if m.Read {
			read++
		} else {
			unread++
		}
	}
	if unread == 0 && read == 0 {
		return clips("vm_no_messages")
	}
	out := clips("vm_you_have")
	if unread > 0 {
		out = append(out, numberClips(unread)...)
		out = append(out, clip(plural(unread, "vm_new_message", "vm_new_messages")))
		if read > 0 {
			out = append(out, clip("vm_and"))
		}
	}
	if read > 0 {
		out = append(out, numberClips(read)...)
		out = append(out, clip(plural(read, "vm_saved_message", "vm_saved_messages")))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// playOrder puts new messages first, then saved ones, each oldest first.
// msgs comes newest first.
func playOrder(msgs []store.VoiceMessage) []store.VoiceMessage {
	out := slices.Clone(msgs)
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b store.VoiceMessage) int {
		switch {
		case a.Read == b.Read:
			return 0
		case !a.Read:
			return -1
		}
		return 1
	})
	return out
}

// listen plays the messages one by one with the message menu: 1 replay,
// 2 save, 3 delete, 4 previous, 6 next, * main menu, # leave. A key
// pressed while a message plays acts at once.
func (v *Voicemail) listen(ctx context.Context, s ivr.Session, ext string) error {
	msgs, err := v.Store.Messages(ext)
	if err != nil {
		return err
	}
	order := playOrder(msgs)
	if len(order) == 0 {
		_, err := s.Play(ctx, true, clip("vm_no_messages"))
		return err
	}
	announce := clip("vm_first_message")
	for i := 0; i < len(order); {
		m := &order[i]
		audio, err := v.Store.MessageAudio(ext, m.ID)
		if errors.Is(err, store.ErrNotFound) { // deleted meanwhile (another call, the CLI, email)
			order = slices.Delete(order, i, i+1)
			continue
		}
		if err != nil {
			return err
		}
		play := [][]byte{audio}
		if announce != nil {
			play = [][]byte{announce, audio}
		}
		announce = clip("vm_next_message")
		d, err := s.Play(ctx, true, play...)
		if err != nil {
			return err // hung up: the message stays new
		}
		if !m.Read { // heard (or acted on by a key): read
			if err := v.Store.SetMessageRead(ext, m.ID, true); err != nil {
				return err
			}
			m.Read = true
			v.changed(ext)
		}
		next, err := v.messageMenu(ctx, s, ext, audio, m, d, i == 0)
		if err != nil {
			return err
		}
		switch next {
		case stepNext:
			i++
		case stepDeleted:
			order = slices.Delete(order, i, i+1)
		case stepPrevious:
			i--
			announce = nil
		case stepBack:
			return nil
		}
	}
	_, err = s.Play(ctx, true, clip("vm_no_more_messages"))
	return err
}

type step int

const (
	stepNext step = iota
	stepPrevious
	stepDeleted
	stepBack
)

// messageMenu handles the keys for one message; d is a key already
// pressed while it played (0: none); first says there is no previous one.
func (v *Voicemail) messageMenu(ctx context.Context, s ivr.Session, ext string, audio []byte, m *store.VoiceMessage, d byte, first bool) (step, error) {
	for {
		var err error
		if d == 0 {
			if d, err = v.choose(ctx, s, clip("vm_message_menu")); err != nil {
				return 0, err
			}
		}
		switch d {
		case '1':
			if d, err = s.Play(ctx, true, audio); err != nil {
				return 0, err
			}
			continue
		case '2':
			_, err := s.Play(ctx, false, clip("vm_message_saved"))
			return stepNext, err
		case '3':
			if err := v.Store.DeleteMessage(ext, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return 0, err
			}
			v.changed(ext)
			_, err := s.Play(ctx, false, clip("vm_message_deleted"))
			return stepDeleted, err
		case '4':
			if !first {
				return stepPrevious, nil
			}
			if d, err = s.Play(ctx, true, clip("vm_no_previous_message")); err != nil {
				return 0, err
			}
			continue
		case '6':
			return stepNext, nil
		case '*':
			return stepBack, nil
		case '#', 0:
			return 0, errLeave
		default:
			if err := v.invalid(ctx, s); err != nil {
				return 0, err
			}
		}
		d = 0
	}
}

// options is the mailbox options menu: 1 record the greeting, 2 default
// greeting, * back, # leave.
func (v *Voicemail) options(ctx context.Context, s ivr.Session, ext string) error {
	for {
		d, err := v.choose(ctx, s, clip("vm_options_menu"))
		if err != nil {
			return err
		}
		switch d {
		case '1':
			err = v.recordGreeting(ctx, s, ext)
		case '2':
			if err := v.Store.DeleteGreeting(ext); err != nil {
				return err
			}
			v.Log.Info("voicemail greeting removed", "ext", ext)
			_, err = s.Play(ctx, false, clip("vm_greeting_deleted"))
		case '*':
			return nil
		case '#', 0:
			return errLeave
		default:
			err = v.invalid(ctx, s)
		}
		if err != nil {
			return err
		}
	}
}

// RecordGreeting records ext's greeting (feature code *11): speak after
// the tone, # to stop, hear it back, then 1 keep, 2 record again, 3
// cancel. Hanging up before choosing keeps the old greeting.
func (v *Voicemail) RecordGreeting(ctx context.Context, s ivr.Session, ext string) error {
	if _, err := v.Store.Mailbox(ext); errors.Is(err, store.ErrNotFound) {
		_, err := s.Play(ctx, false, clip("no_mailbox"), clip("goodbye"))
		return ignoreHangup(err)
	} else if err != nil {
		return err
	}
	err := v.recordGreeting(ctx, s, ext)
	if err == nil || errors.Is(err, errLeave) {
		err = v.bye(ctx, s, false)
	}
	return ignoreHangup(err)
}

func ignoreHangup(err error) error {
	if errors.Is(err, ivr.ErrHangup) {
		return nil
	}
	return err
}

func (v *Voicemail) recordGreeting(ctx context.Context, s ivr.Session, ext string) error {
	for range 3 {
		if _, err := s.Play(ctx, false, clip("vm_record_greeting"), prompts.Beep()); err != nil {
			return err
		}
		audio, err := s.Record(ctx, v.cfg.MaxGreeting, "#")
		if err != nil {
			return err // hung up while recording: nothing changes
		}
		if media.Voiced(audio) < v.cfg.MinMessage {
			if _, err := s.Play(ctx, false, clip("vm_greeting_too_short")); err != nil {
				return err
			}
			continue
		}
		again, err := v.reviewGreeting(ctx, s, ext, audio)
		if err != nil || !again {
			return err
		}
	}
	_, err := s.Play(ctx, false, clip("vm_greeting_unchanged"))
	return err
}

// reviewGreeting plays a new greeting back: 1 keep, 2 record again, 3 (or
// silence) cancel. again asks for another recording.
func (v *Voicemail) reviewGreeting(ctx context.Context, s ivr.Session, ext string, audio []byte) (again bool, err error) {
	for {
		d, err := v.choose(ctx, s, audio, clip("vm_greeting_review"))
		if err != nil {
			return false, err
		}
		switch d {
		case '1':
			if err := v.Store.PutGreeting(ext, audio); err != nil {
				return false, err
			}
			v.Log.Info("voicemail greeting recorded", "ext", ext, "length", duration(audio))
			_, err := s.Play(ctx, false, clip("vm_greeting_saved"))
			return false, err
		case '2':
			return true, nil
		case '3', 0:
			_, err := s.Play(ctx, false, clip("vm_greeting_unchanged"))
			return false, err
		default:
			if err := v.invalid(ctx, s); err != nil {
				return false, err
			}
		}
	}
}
