package voicemail

import (
	"context"
	"errors"
	"time"

	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/store"
	"switchboard/switch/ivr"
)

// Deposit takes a message for ext's box from the caller on s: the box's
// own greeting, or "the person at extension 2 0 0 is not available, please
// leave a message after the tone"; any key (#) skips the greeting. Then
// the beep, and the recording until # , the maximum length or hang-up. A
// message with less than MinMessage of voiced audio is dropped. A stored
// message lights the lamps and is emailed when the box asks for it.
//
// A caller hanging up is how a deposit normally ends: Deposit returns nil
// then, and an error only when the message could not be stored.
func (v *Voicemail) Deposit(ctx context.Context, s ivr.Session, ext string) error {
	err := v.deposit(ctx, s, ext)
	if errors.Is(err, ivr.ErrHangup) {
		return nil
	}
	return err
}

func (v *Voicemail) deposit(ctx context.Context, s ivr.Session, ext string) error {
	box, err := v.Store.Mailbox(ext)
	if errors.Is(err, store.ErrNotFound) {
		_, err := s.Play(ctx, false, clip("no_mailbox"), clip("goodbye"))
		return err
	}
	if err != nil {
		return err
	}
	msgs, err := v.Store.Messages(ext)
	if err != nil {
		return err
	}
	if len(msgs) >= v.cfg.MaxMessages {
		v.Log.Info("voicemail box full", "ext", ext, "messages", len(msgs))
		_, err := s.Play(ctx, false, clip("mailbox_full"), clip("goodbye"))
		return err
	}
	if _, err := s.Play(ctx, true, v.greeting(box)...); err != nil {
		return err
	}
	if _, err := s.Play(ctx, false, prompts.Beep()); err != nil {
		return err
	}
	started := v.cfg.Now()
	audio, err := s.Record(ctx, v.cfg.MaxMessage, "#")
	hungUp := errors.Is(err, ivr.ErrHangup)
	if err != nil && !hungUp {
		return err
	}
	caller := s.Caller()
	if voiced := media.Voiced(audio); voiced < v.cfg.MinMessage {
		v.Log.Info("voicemail dropped: too short", "ext", ext, "caller", caller.Number,
			"voiced", voiced, "length", duration(audio))
		return v.bye(ctx, s, hungUp)
	}
	msg, err := v.Store.SaveMessage(store.VoiceMessage{Ext: ext, Caller: caller.Number, CallerName: caller.Name,
		Time: started, Duration: duration(audio), CallID: caller.CallID}, audio)
	if err != nil {
		v.Log.Error("voicemail not stored", "ext", ext, "caller", caller.Number, "err", err)
		return err
	}
	v.Log.Info("voicemail stored", "ext", ext, "caller", caller.Number, "id", msg.ID, "duration", msg.Duration)
	v.deliver(box, msg, audio)
	return v.bye(ctx, s, hungUp)
}

// bye says goodbye to a caller who is still there.
func (v *Voicemail) bye(ctx context.Context, s ivr.Session, hungUp bool) error {
	if hungUp {
		return nil
	}
	_, err := s.Play(ctx, false, clip("goodbye"))
	return err
}

// greeting is what a caller hears before the beep.
func (v *Voicemail) greeting(box store.Mailbox) [][]byte {
	if box.CustomGreeting {
		g, err := v.Store.Greeting(box.Ext)
		if err == nil && len(g) > 0 {
			return [][]byte{g}
		}
		if !errors.Is(err, store.ErrNotFound) {
			v.Log.Warn("voicemail greeting", "ext", box.Ext, "err", err)
		}
	}
	out := clips("vm_person_at_extension")
	out = append(out, digitClips(box.Ext)...)
	return append(out, clip("vm_is_unavailable"), clip("leave_message"))
}

// deliver lights the lamps and emails the message when the box asks for
// it. A box that does not keep emailed messages loses the message only
// once the email went out; until then (and if it fails) it stays.
func (v *Voicemail) deliver(box store.Mailbox, msg store.VoiceMessage, audio []byte) {
	if box.Email == "" || v.Mail == nil {
		v.changed(box.Ext)
		return
	}
	if box.KeepAfterEmail {
		v.changed(box.Ext)
	}
	attach := audio
	if !box.EmailAudio {
		attach = nil
	}
	started := v.goBackground(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, v.cfg.MailTimeout)
		defer cancel()
		if err := v.Mail.Deliver(ctx, box.Email, msg, attach); err != nil {
			v.Log.Warn("voicemail email not sent; the message stays in the box", "ext", box.Ext, "id", msg.ID, "err", err)
			if !box.KeepAfterEmail {
				v.changed(box.Ext)
			}
			return
		}
		v.Log.Info("voicemail emailed", "ext", box.Ext, "id", msg.ID)
		if !box.KeepAfterEmail {
			if err := v.Store.DeleteMessage(box.Ext, msg.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				v.Log.Warn("delete emailed voicemail", "ext", box.Ext, "id", msg.ID, "err", err)
				v.changed(box.Ext)
			}
		}
	})
	if !started && !box.KeepAfterEmail {
		v.changed(box.Ext) // shutting down: no email, the message stays
	}
}

func duration(ulaw []byte) time.Duration {
	return time.Duration(len(ulaw)) * time.Second / media.SampleRate
}
