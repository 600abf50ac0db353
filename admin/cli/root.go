// Package cli is the operator's command line: `switchboard serve`, `user`,
// `device`, `backup`, `restore`, `version`. Each command parses its flags
// into an options struct and calls a plain function; the running of the
// switch itself is given in by main (Serve), so this package knows no
// telephony.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
	"switchboard/store"
	"switchboard/switch/voicemail"
)

// ServeFunc runs the switch until ctx ends.
type ServeFunc func(ctx context.Context, opts ServeOptions) error

// DefaultDataDir is where data lives unless --data says otherwise.
const DefaultDataDir = "./switchboard-data"

type globals struct {
	data string
	// ran is set once a command's own code starts: an error before that is
	// cobra's (unknown command or flag, missing flag, wrong arguments).
	ran bool
}

// NewRoot builds the command tree.
func NewRoot(serve ServeFunc) *cobra.Command {
	root, _ := newRoot(serve)
	return root
}

func newRoot(serve ServeFunc) (*cobra.Command, *globals) {
	g := &globals{}
	root := &cobra.Command{
		Use:           "switchboard",
		Short:         "Switchboard: a phone system for small offices in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
	}
	root.PersistentFlags().StringVar(&g.data, "data", DefaultDataDir, "data directory (holds the store and the control socket)")
	root.AddCommand(newServeCmd(g, serve), newUserCmd(g), newDeviceCmd(g),
		newBackupCmd(g), newRestoreCmd(g), newCallsCmd(g), newMohCmd(g), newVersionCmd())
	root.AddCommand(newRuleCmd(g), newDNDCmd(g), newForwardCmd(g), newTimeFrameCmd(g), newTimeZoneCmd(g))
	root.AddCommand(newVoicemailCmd(g), newSMTPCmd(g))
	markRun(root, g)
	return root, g
}

// markRun makes every command note when its own code starts: cobra checks
// flags, required flags and arguments only after the pre-run hooks.
func markRun(cmd *cobra.Command, g *globals) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			g.ran = true
			return run(cmd, args)
		}
	}
	for _, c := range cmd.Commands() {
		markRun(c, g)
	}
}

// Execute runs the CLI and returns the process exit code.
func Execute(ctx context.Context, serve ServeFunc, args []string, stdout, stderr io.Writer) int {
	root, g := newRoot(serve)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "switchboard:", err)
	if !g.ran {
		fmt.Fprintln(stderr, "see `switchboard --help` or `switchboard COMMAND --help`")
		return 2
	}
	return ExitCode(err)
}

// ExitCode maps an error to the process exit code: 2 bad input, 3 not
// found, 4 conflict, 5 data in use, 1 anything else.
func ExitCode(err error) int {
	var e *control.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e) && e.Status == http.StatusNotFound:
		return 3
	case errors.As(err, &e) && e.Status == http.StatusConflict:
		return 4
	case errors.As(err, &e) && e.Status == http.StatusBadRequest, errors.As(err, new(*usageError)),
		errors.Is(err, store.ErrInvalid):
		return 2
	case errors.Is(err, store.ErrLocked):
		return 5
	}
	return 1
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Version is the module version the binary was built from.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		if v != "" {
			return v
		}
	}
	return "dev"
}

// serverRunning reports whether a server answers on the data directory's control socket.
func (g *globals) serverRunning() bool {
	_, err := control.Dial(g.data)
	return err == nil
}

// openOps returns the operations for the data directory: through the running
// server's control socket when one runs, else on the store file directly.
// mayCreate allows a first command to create an empty store.
func (g *globals) openOps(mayCreate bool) (control.Ops, func(), error) {
	c, err := control.Dial(g.data)
	if err == nil {
		return c, func() {}, nil
	}
	if !errors.Is(err, control.ErrNoServer) {
		return nil, nil, err
	}
	if _, statErr := os.Stat(filepath.Join(g.data, store.FileName)); statErr != nil && !mayCreate {
		return nil, nil, usagef("no Switchboard data in %s (check --data, or start `switchboard serve --data %s` once)", g.data, g.data)
	}
	s, err := store.Open(g.data)
	if errors.Is(err, store.ErrLocked) {
		// A server that is just starting holds the store a moment before its socket listens.
		if c, err := control.Dial(g.data); err == nil {
			return c, func() {}, nil
		}
		return nil, nil, fmt.Errorf("%w: a switchboard process holds %s but its control socket does not answer", err, g.data)
	}
	if err != nil {
		return nil, nil, err
	}
	return &control.Local{Store: s, Mail: &voicemail.SMTP{Settings: s}}, func() { s.Close() }, nil
}
