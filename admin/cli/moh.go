package cli

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
	"switchboard/media"
)

func newMohCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "moh",
		Short: "Music on hold: what a caller put on hold hears",
		Long: "Music on hold for the whole office: upload a WAV or MP3 file (any common sample\n" +
			"rate, channels and bit depth; converted once to 8 kHz G.711), an optional intro\n" +
			"played once before the music, go back to the built-in music, show and export what\n" +
			"is set. A running server plays new music at once, also to calls on hold now.\n" +
			"See docs/MUSIC-ON-HOLD.md.",
	}
	cmd.AddCommand(newMohSetCmd(g), newMohIntroCmd(g), newMohResetCmd(g), newMohShowCmd(g), newMohExportCmd(g))
	return cmd
}

func newMohSetCmd(g *globals) *cobra.Command {
	var intro string
	var noIntro bool
	cmd := &cobra.Command{
		Use:   "set FILE.mp3|FILE.wav [--intro FILE | --no-intro]",
		Short: "Upload the music on hold (and, with --intro, the intro before it)",
		Long: "Upload FILE (WAV or MP3, at most 50 MB and 15 minutes) as the music on hold. With\n" +
			"--intro, also FILE as the intro (at most 2 minutes) each held caller hears once\n" +
			"before the music; --no-intro removes the intro; without either the intro stays as\n" +
			"it is. A file that is not audio, too large or too long is refused and nothing changes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if intro != "" && noIntro {
				return usagef("--intro and --no-intro contradict each other")
			}
			return runMohUpload(cmd, g, args[0], intro, noIntro)
		},
	}
	cmd.Flags().StringVar(&intro, "intro", "", "also upload this WAV or MP3 `FILE` as the intro")
	cmd.Flags().BoolVar(&noIntro, "no-intro", false, "remove the intro")
	return cmd
}

func newMohIntroCmd(g *globals) *cobra.Command {
	var noIntro bool
	cmd := &cobra.Command{
		Use:   "intro FILE.mp3|FILE.wav | --no-intro",
		Short: "Upload the intro held callers hear once before the music, or remove it",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && noIntro:
				return usagef("give a FILE or --no-intro, not both")
			case len(args) == 0 && !noIntro:
				return usagef("give the intro's FILE, or --no-intro to remove it")
			case noIntro:
				return runMohUpload(cmd, g, "", "", true)
			}
			return runMohUpload(cmd, g, "", args[0], false)
		},
	}
	cmd.Flags().BoolVar(&noIntro, "no-intro", false, "remove the intro")
	return cmd
}

// runMohUpload checks the files, then has them converted and stored where
// the data is: by the running server, or here.
func runMohUpload(cmd *cobra.Command, g *globals, musicFile, introFile string, noIntro bool) error {
	up := control.MusicUpload{NoIntro: noIntro}
	for _, f := range []struct {
		name string
		dst  *io.Reader
	}{{musicFile, &up.Music}, {introFile, &up.Intro}} {
		if f.name == "" {
			continue
		}
		file, err := openAudioFile(f.name)
		if err != nil {
			return err
		}
		defer file.Close()
		*f.dst = file
	}
	ops, done, err := g.openOps(true)
	if err != nil {
		return err
	}
	defer done()
	v, err := ops.SetMusic(cmd.Context(), up)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	for _, c := range v.Converted {
		fmt.Fprintf(out, "%s set: %s (from %s)\n", c.Part, duration(c.Duration), describeFile(c))
	}
	if noIntro {
		fmt.Fprintln(out, "intro removed")
	}
	printMusic(out, v)
	return nil
}

// openAudioFile opens an upload after checking it is a file within the size
// limit, so a wrong path or a huge file is refused before any data is touched.
func openAudioFile(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, usagef("%v", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = usagef("%s is not a file", name)
	} else if err == nil && st.Size() > control.MaxMusicUpload {
		err = usagef("%s is %d MB; audio files can have at most %d MB (for long music use MP3, or a mono WAV at a low sample rate)",
			name, st.Size()>>20, control.MaxMusicUpload>>20)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func describeFile(c control.AudioFile) string {
	s := fmt.Sprintf("%s, %d Hz, %d channel", c.Format, c.SampleRate, c.Channels)
	if c.Channels != 1 {
		s += "s"
	}
	if c.Format == "wav" && c.Bits > 0 {
		s += fmt.Sprintf(", %d-bit", c.Bits)
	}
	return s
}

// printMusic says what a held caller hears now.
func printMusic(out io.Writer, v control.MusicView) error {
	if v.Custom {
		fmt.Fprintf(out, "music on hold: uploaded music, %s, looping\n", duration(v.Music))
	} else {
		fmt.Fprintf(out, "music on hold: the built-in music, %s, looping\n", duration(v.Music))
	}
	if v.Intro > 0 {
		fmt.Fprintf(out, "intro: %s, played once before the music\n", duration(v.Intro))
	} else {
		fmt.Fprintln(out, "intro: none")
	}
	if v.Live {
		fmt.Fprintln(out, "the running server plays this now")
	}
	return nil
}

func duration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func newMohResetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "Go back to the built-in music on hold, without an intro",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			v, err := ops.ResetMusic(cmd.Context())
			if err != nil {
				return err
			}
			printMusic(cmd.OutOrStdout(), v)
			return nil
		},
	}
}

func newMohShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--json]",
		Short: "Show the music on hold and the intro: uploaded or built in, and how long",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, asJSON, func(ctx context.Context, ops control.Ops) (control.MusicView, error) {
				return ops.ShowMusic(ctx)
			}, printMusic)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (durations in nanoseconds)")
	return cmd
}

func newMohExportCmd(g *globals) *cobra.Command {
	var intro bool
	cmd := &cobra.Command{
		Use:   "export FILE.wav [--intro]",
		Short: "Write the music on hold (or the intro) as a WAV file, to listen to it",
		Long: "Write what held callers hear — the music (uploaded or built in), or with --intro\n" +
			"the intro — to FILE (- for stdout) as an 8 kHz mono 16-bit WAV file, exactly as\n" +
			"the switch plays it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			part := control.PartMusic
			if intro {
				part = control.PartIntro
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			ulaw, err := ops.MusicAudio(cmd.Context(), part)
			if err != nil {
				return err
			}
			if args[0] == "-" {
				return writeWAV(cmd.OutOrStdout(), ulaw)
			}
			if err := writeFileAtomic(args[0], func(w io.Writer) error { return writeWAV(w, ulaw) }); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: the %s, %s of 8 kHz mono audio\n", args[0], part,
				duration(time.Duration(len(ulaw))*time.Second/media.SampleRate))
			return nil
		},
	}
	cmd.Flags().BoolVar(&intro, "intro", false, "export the intro instead of the music")
	return cmd
}

// writeWAV writes 8 kHz μ-law audio as a 16-bit PCM WAV file, the form every
// player reads.
func writeWAV(w io.Writer, ulaw []byte) error {
	data := 2 * len(ulaw)
	b := make([]byte, 44, 44+data)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)                 // fmt chunk size
	le.PutUint16(b[20:], 1)                  // PCM
	le.PutUint16(b[22:], 1)                  // mono
	le.PutUint32(b[24:], media.SampleRate)   // sample rate
	le.PutUint32(b[28:], 2*media.SampleRate) // byte rate
	le.PutUint16(b[32:], 2)                  // block align
	le.PutUint16(b[34:], 16)                 // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(data))
	for _, u := range ulaw {
		b = le.AppendUint16(b, uint16(media.PCMU.Decode(u)))
	}
	_, err := w.Write(b)
	return err
}

// writeFileAtomic writes a file beside name and renames it into place, so
// name is never half written.
func writeFileAtomic(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return usagef("%v", err)
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
