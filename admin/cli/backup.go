package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"switchboard/store"
)

func newBackupCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent backup of everything to FILE (- for stdout)",
		Long: "Write a consistent backup of the whole system (settings, users, devices, and all\n" +
			"that later features store) to FILE, or to standard output with -. Works while\n" +
			"`switchboard serve` runs: calls and registrations go on during the backup.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBackup(cmd.Context(), g, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

func runBackup(ctx context.Context, g *globals, file string, stdout, stderr io.Writer) error {
	ops, done, err := g.openOps(false)
	if err != nil {
		return err
	}
	defer done()
	p := startProgress("backup", stderr)
	defer p.Finish()
	size := func(n int64) { p.total.Store(n) }
	if file == "-" {
		_, err := ops.Backup(ctx, p.Writer(stdout), size)
		return err
	}
	// Write beside the target and rename at the end, so FILE is never half a backup.
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return usagef("backup: %v", err)
	}
	defer os.Remove(tmp.Name())
	n, err := ops.Backup(ctx, p.Writer(tmp), size)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	info, err := store.Validate(tmp.Name())
	if err != nil {
		return fmt.Errorf("backup written but does not check out: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	p.Finish()
	fmt.Fprintf(stdout, "backup written to %s (%s, %d users, %d devices)\n", file, mib(n), info.Users, info.Devices)
	return nil
}

func newRestoreCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace all data with a backup (validated first; the old data is kept)",
		Long: "Replace all data with the backup in FILE (- for stdin). The backup is checked\n" +
			"first (complete, consistent, a Switchboard store, not from a newer version); a bad\n" +
			"file is refused and nothing changes. The replaced store is kept beside the new one\n" +
			"as switchboard.db.before-restore-TIME. A running server switches to the restored\n" +
			"data at once.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd.Context(), g, args[0], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

func runRestore(ctx context.Context, g *globals, file string, stdin io.Reader, stdout, stderr io.Writer) error {
	var in io.Reader = stdin
	var size int64
	if file == "-" && !g.serverRunning() {
		// Without a server the backup is checked before the store is opened
		// (or created), so standard input is kept in a file first.
		spooled, err := spool(stdin)
		if err != nil {
			return fmt.Errorf("restore: read standard input: %w", err)
		}
		defer os.Remove(spooled)
		file = spooled
	}
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return usagef("restore: %v", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return usagef("restore: %s is not a file", file)
		}
		in, size = f, st.Size()
		// Refuse a bad file before anything is opened, created or uploaded.
		if _, err := store.Validate(file); err != nil {
			return fmt.Errorf("restore refused, nothing changed: %w", err)
		}
	}
	ops, done, err := g.openOps(true)
	if err != nil {
		return err
	}
	defer done()
	p := startProgress("restore", stderr)
	p.total.Store(size)
	res, err := ops.Restore(ctx, p.Reader(in), size)
	p.Finish()
	if err != nil {
		return fmt.Errorf("restore refused, nothing changed: %w", err)
	}
	fmt.Fprintf(stdout, "restored %d users, %d devices (schema v%d)\n", res.Info.Users, res.Info.Devices, res.Info.SchemaVersion)
	fmt.Fprintf(stdout, "previous data kept in %s\n", res.Previous)
	if res.Live {
		fmt.Fprintln(stdout, "the running server now uses the restored data")
	}
	return nil
}

// spool copies r into a new temporary file and returns its name.
func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "switchboard-restore-*.db")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
