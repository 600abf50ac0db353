package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestAudioPutGetDelete(t *testing.T) {
	s := openTest(t)
	if _, err := s.Audio(AudioMusic); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Audio of nothing: err = %v, want ErrNotFound", err)
	}
	if _, err := s.AudioSize(AudioMusic); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AudioSize of nothing: err = %v, want ErrNotFound", err)
	}
	music := bytes.Repeat([]byte{0x12, 0x34}, 4000)
	if err := s.PutAudio(AudioMusic, music); err != nil {
		t.Fatal(err)
	}
	got, err := s.Audio(AudioMusic)
	if err != nil || !bytes.Equal(got, music) {
		t.Fatalf("Audio = %d bytes, %v; want the %d stored", len(got), err, len(music))
	}
	got[0] = 0 // a copy: changing it changes nothing stored
	if again, _ := s.Audio(AudioMusic); again[0] != 0x12 {
		t.Fatal("Audio returned the store's own memory")
	}
	if n, err := s.AudioSize(AudioMusic); n != len(music) || err != nil {
		t.Fatalf("AudioSize = %d, %v; want %d", n, err, len(music))
	}
	// Keys are independent: a greeting beside the music.
	if err := s.PutAudio("greeting/200", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAudio(AudioMusic); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Audio(AudioMusic); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteAudio(AudioMusic); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if g, err := s.Audio("greeting/200"); err != nil || len(g) != 3 {
		t.Fatalf("greeting = %v, %v", g, err)
	}
}

func TestAudioRefusesBadValues(t *testing.T) {
	s := openTest(t)
	for name, f := range map[string]func() error{
		"empty audio":    func() error { return s.PutAudio(AudioMusic, []byte{}) },
		"too long":       func() error { return s.PutAudio(AudioMusic, make([]byte, MaxAudio+1)) },
		"empty key":      func() error { return s.PutAudio("", []byte{1}) },
		"long key":       func() error { return s.PutAudio(string(make([]byte, 201)), []byte{1}) },
		"newline in key": func() error { return s.PutAudio("a\nb", []byte{1}) },
		"empty key read": func() error { _, err := s.Audio(""); return err },
	} {
		if err := f(); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: err = %v, want ErrBadValue", name, err)
		}
	}
	// One bad change in a set: nothing of the set is stored.
	err := s.SetAudio(map[string][]byte{AudioMusic: {1, 2}, AudioMusicIntro: make([]byte, MaxAudio+1)})
	if !errors.Is(err, ErrBadValue) {
		t.Fatalf("SetAudio with a bad blob: err = %v", err)
	}
	if _, err := s.Audio(AudioMusic); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused set stored part of itself: %v", err)
	}
}

func TestSetAudioIsAllOrNothing(t *testing.T) {
	s := openTest(t)
	if err := s.SetAudio(map[string][]byte{AudioMusic: {1}, AudioMusicIntro: {2}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAudio(map[string][]byte{AudioMusic: {3}, AudioMusicIntro: nil}); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Audio(AudioMusic); err != nil || !bytes.Equal(m, []byte{3}) {
		t.Fatalf("music = %v, %v", m, err)
	}
	if _, err := s.Audio(AudioMusicIntro); !errors.Is(err, ErrNotFound) {
		t.Fatalf("intro not deleted: %v", err)
	}
}

// The largest blob survives a backup and its validation (it spans many
// overflow pages) and a restore.
func TestLargestAudioBacksUpAndRestores(t *testing.T) {
	s := openTest(t)
	music := make([]byte, MaxAudio)
	for i := range music {
		music[i] = byte(i * 7)
	}
	if err := s.PutAudio(AudioMusic, music); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(file, backupBytes(t, s), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(file); err != nil {
		t.Fatalf("validate a backup with 9.6 MB of music: %v", err)
	}
	dst := openTest(t)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := dst.Restore(f); err != nil {
		t.Fatal(err)
	}
	if got, err := dst.Audio(AudioMusic); err != nil || !bytes.Equal(got, music) {
		t.Fatalf("restored music: %d bytes, %v", len(got), err)
	}
}
