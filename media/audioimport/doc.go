// Package audioimport turns an uploaded audio file (music on hold, a
// greeting, an intro message) into what the switch stores and plays: 8 kHz
// mono G.711 μ-law, ready for media.NewMusic and media.Clip.
//
// Convert recognises the format by content, never by file name: a RIFF/WAVE
// header, or an MP3 ID3 tag or frame sync. WAV is read by a small RIFF reader
// in this package (PCM 8/16/24/32-bit integer, 32/64-bit float, μ-law, A-law,
// and WAVE_FORMAT_EXTENSIBLE with those subformats, 8–192 kHz, 1–8 channels);
// MP3 is decoded by github.com/hajimehoshi/go-mp3 (pure Go, MPEG-1 and -2
// layer III).
//
// Decoded audio is mixed down to mono by averaging the channels, low-passed
// and resampled to 8 kHz by a Kaiser-windowed sinc FIR (pass band to
// 3.4 kHz, ≥ 60 dB stop band from 4 kHz), gently normalised (peak to about
// -3 dBFS, at most +12 dB of gain, near-silence left alone) and coded as
// μ-law once, at upload, so nothing is decoded at play time.
//
// Input is bounded before anything is decoded: at most Limits.MaxBytes are
// read, and the duration a header declares is checked against
// Limits.MaxDuration before samples are produced, so a header that claims
// gigabytes of audio costs nothing. Memory use is the input itself plus the
// 8 kHz output and a small window of the decoder's samples.
package audioimport
