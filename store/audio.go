package store

import (
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Keys of the audio bucket that this file's callers use. Voicemail keeps its
// greetings in the same bucket under "greeting/EXT"; music keys have no "/".
const (
	AudioMusic      = "moh"       // the organisation's music on hold (absent: the built-in default)
	AudioMusicIntro = "moh_intro" // played once to each newly held party before the music
)

// MaxAudio is the largest audio blob the store keeps: 20 minutes of 8 kHz
// μ-law (one byte a sample), 9.6 MB.
const MaxAudio = 20 * 60 * 8000

// maxAudioKey bounds a key of the audio bucket.
const maxAudioKey = 200

// PutAudio stores ulaw (8 kHz G.711 μ-law) under key, replacing what was there.
// Empty audio, audio longer than MaxAudio and a bad key are ErrBadValue.
func (s *Store) PutAudio(key string, ulaw []byte) error {
	return s.SetAudio(map[string][]byte{key: ulaw})
}

// SetAudio changes several blobs in one transaction, all or none: a key with
// audio is stored, a key with nil audio is deleted (absent is fine).
func (s *Store) SetAudio(changes map[string][]byte) error {
	for key, ulaw := range changes {
		if err := checkAudioKey(key); err != nil {
			return err
		}
		if ulaw != nil && len(ulaw) == 0 {
			return BadValue("audio %q is empty", key)
		}
		if len(ulaw) > MaxAudio {
			return BadValue("audio %q is %d bytes, more than the %d (20 minutes) the store keeps", key, len(ulaw), MaxAudio)
		}
	}
	// Audio cannot change who may register: no secrets snapshot to rebuild.
	return s.updateNoSecrets(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudio)
		for key, ulaw := range changes {
			var err error
			if ulaw == nil {
				err = b.Delete([]byte(key))
			} else {
				err = b.Put([]byte(key), ulaw)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Audio returns a copy of the blob under key, or ErrNotFound.
func (s *Store) Audio(key string) ([]byte, error) {
	if err := checkAudioKey(key); err != nil {
		return nil, err
	}
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAudio).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		out = append(make([]byte, 0, len(v)), v...)
		return nil
	})
	return out, err
}

// AudioSize is the length in bytes (= samples) of the blob under key, or
// ErrNotFound, without copying it.
func (s *Store) AudioSize(key string) (int, error) {
	if err := checkAudioKey(key); err != nil {
		return 0, err
	}
	n := -1
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketAudio).Get([]byte(key)); v != nil {
			n = len(v)
		}
		return nil
	})
	if err == nil && n < 0 {
		err = ErrNotFound
	}
	return max(n, 0), err
}

// DeleteAudio removes the blob under key; a missing one is not an error.
func (s *Store) DeleteAudio(key string) error {
	return s.SetAudio(map[string][]byte{key: nil})
}

func checkAudioKey(key string) error {
	switch {
	case key == "":
		return BadValue("audio key is empty")
	case len(key) > maxAudioKey:
		return BadValue("audio key is longer than %d bytes", maxAudioKey)
	case strings.ContainsAny(key, "\x00\r\n"):
		return BadValue("audio key %q has a control character", key)
	}
	return nil
}
