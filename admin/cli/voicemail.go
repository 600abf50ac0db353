package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
	"switchboard/media"
	"switchboard/store"
)

func newVoicemailCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "voicemail", Short: "A user's voicemail: settings and messages"}
	cmd.AddCommand(newVoicemailSetCmd(g), newVoicemailListCmd(g), newVoicemailExportCmd(g), newVoicemailDeleteCmd(g))
	return cmd
}

func newVoicemailSetCmd(g *globals) *cobra.Command {
	var ext, pin, email string
	var attach, keep bool
	cmd := &cobra.Command{
		Use:   "set --ext EXT [--pin PIN] [--email ADDRESS] [--attach=true|false] [--keep=true|false]",
		Short: "Change a user's voicemail PIN and email delivery",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var p control.MailboxPatch
			f := cmd.Flags()
			if f.Changed("pin") {
				p.PIN = &pin
			}
			if f.Changed("email") {
				p.Email = &email
			}
			if f.Changed("attach") {
				p.Attach = &attach
			}
			if f.Changed("keep") {
				p.Keep = &keep
			}
			if p == (control.MailboxPatch{}) {
				return usagef("nothing to change: give --pin, --email, --attach or --keep")
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			box, err := ops.SetMailbox(cmd.Context(), ext, p)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), describeMailbox(box))
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.Flags().StringVar(&pin, "pin", "", "voicemail PIN, 4 to 10 digits (for *98 from any phone)")
	cmd.Flags().StringVar(&email, "email", "", `send new messages to this address ("" stops)`)
	cmd.Flags().BoolVar(&attach, "attach", true, "attach the recording to the email")
	cmd.Flags().BoolVar(&keep, "keep", true, "keep emailed messages in the box (false: delete once sent)")
	cmd.MarkFlagRequired("ext")
	return cmd
}

func newVoicemailListCmd(g *globals) *cobra.Command {
	var ext string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --ext EXT [--json]",
		Short: "Show a user's voicemail settings and messages, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, asJSON, func(ctx context.Context, ops control.Ops) (control.VoicemailView, error) {
				return ops.Voicemail(ctx, ext)
			}, printVoicemail)
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("ext")
	return cmd
}

func describeMailbox(b control.MailboxView) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("mailbox %s: %d new, %d saved", b.Ext, b.New, b.Saved))
	switch {
	case !b.HasPIN:
		parts = append(parts, "no PIN (only *97 from the user's own phones)")
	case !b.LockedUntil.IsZero():
		parts = append(parts, "PIN set, locked until "+b.LockedUntil.Local().Format("15:04:05")+" after wrong PINs")
	default:
		parts = append(parts, "PIN set")
	}
	if b.Email == "" {
		parts = append(parts, "no email")
	} else {
		how := "without the recording"
		if b.Attach {
			how = "with the recording"
		}
		keep := "kept in the box"
		if !b.Keep {
			keep = "deleted once emailed"
		}
		parts = append(parts, fmt.Sprintf("emailed to %s %s, %s", b.Email, how, keep))
	}
	if b.CustomGreeting {
		parts = append(parts, "own greeting")
	} else {
		parts = append(parts, "default greeting")
	}
	return strings.Join(parts, "; ")
}

func printVoicemail(w io.Writer, vm control.VoicemailView) error {
	fmt.Fprintln(w, describeMailbox(vm.Mailbox))
	if len(vm.Messages) == 0 {
		_, err := fmt.Fprintln(w, "no messages")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tFROM\tLENGTH\tSTATUS")
	for _, m := range vm.Messages {
		from := m.Caller
		if m.CallerName != "" {
			from = fmt.Sprintf("%s (%s)", printable(m.CallerName), m.Caller)
		}
		status := "new"
		if m.Read {
			status = "saved"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, m.Time.Local().Format("2006-01-02 15:04:05"), dash(from),
			m.Duration.Round(time.Second), status)
	}
	return tw.Flush()
}

// printable drops control characters from a name a caller's phone sent.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func newVoicemailExportCmd(g *globals) *cobra.Command {
	var ext, id string
	cmd := &cobra.Command{
		Use:   "export --ext EXT --id ID FILE.wav",
		Short: "Write a message's recording to a WAV file (- for stdout)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			audio, err := ops.MessageAudio(cmd.Context(), ext, id)
			if err != nil {
				return err
			}
			wav := media.WAV(audio)
			if args[0] == "-" {
				_, err := cmd.OutOrStdout().Write(wav)
				return err
			}
			if err := writeFileAtomic(args[0], func(w io.Writer) error { _, err := w.Write(wav); return err }); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%s)\n", args[0],
				(time.Duration(len(audio)) * time.Second / media.SampleRate).Round(time.Second/10))
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.Flags().StringVar(&id, "id", "", "message id from `voicemail list` (required)")
	cmd.MarkFlagRequired("ext")
	cmd.MarkFlagRequired("id")
	return cmd
}

func newVoicemailDeleteCmd(g *globals) *cobra.Command {
	var ext, id string
	cmd := &cobra.Command{
		Use:   "delete --ext EXT --id ID",
		Short: "Delete a message (the phones' message lamps follow)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			if err := ops.DeleteMessage(cmd.Context(), ext, id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted message %s of extension %s\n", id, ext)
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.Flags().StringVar(&id, "id", "", "message id from `voicemail list` (required)")
	cmd.MarkFlagRequired("ext")
	cmd.MarkFlagRequired("id")
	return cmd
}

func newSMTPCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "smtp", Short: "The mail server voicemail emails go through"}
	cmd.AddCommand(newSMTPSetCmd(g), newSMTPShowCmd(g), newSMTPTestCmd(g))
	return cmd
}

func newSMTPSetCmd(g *globals) *cobra.Command {
	var host, user, password, from, tlsMode string
	var port int
	cmd := &cobra.Command{
		Use:   "set [--host HOST] [--port N] [--user U] [--password P] [--from ADDRESS] [--tls auto|require|off|implicit]",
		Short: "Set the SMTP server (the first time --host and --from are needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var p control.SMTPPatch
			f := cmd.Flags()
			for name, dst := range map[string]**string{"host": &p.Host, "user": &p.Username, "password": &p.Password, "from": &p.From} {
				if f.Changed(name) {
					v, _ := f.GetString(name)
					*dst = &v
				}
			}
			if f.Changed("port") {
				if port < 1 || port > 65535 {
					return usagef("--port %d is not a port", port)
				}
				p.Port = &port
			}
			if f.Changed("tls") {
				m, err := store.ParseTLSMode(tlsMode)
				if err != nil {
					return usagef("--tls %q: want auto, require, off or implicit", tlsMode)
				}
				p.TLS = &m
			}
			if p == (control.SMTPPatch{}) {
				return usagef("nothing to change: give --host, --port, --user, --password, --from or --tls")
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			v, err := ops.SetSMTP(cmd.Context(), p)
			if err != nil {
				return err
			}
			return printSMTP(cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().StringVar(&host, "host", "", "SMTP server name or address")
	cmd.Flags().IntVar(&port, "port", 587, "SMTP port (587 submission, 465 with --tls implicit, 25 for a relay)")
	cmd.Flags().StringVar(&user, "user", "", `user to log in as ("" for none)`)
	cmd.Flags().StringVar(&password, "password", "", "password (stored; never shown)")
	cmd.Flags().StringVar(&from, "from", "", "sender address of voicemail emails")
	cmd.Flags().StringVar(&tlsMode, "tls", "auto", "auto: STARTTLS when offered; require; off; implicit (SMTPS)")
	return cmd
}

func newSMTPTestCmd(g *globals) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "test --to ADDRESS",
		Short: "Send a test email through the SMTP server, the way voicemail is sent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(to) == "" {
				return usagef("--to: give the address to send the test email to")
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			res, err := ops.TestSMTP(cmd.Context(), to)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "test email sent to %s through %s\n", res.To, res.Server)
			return err
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "address to send the test email to (required)")
	cmd.MarkFlagRequired("to")
	return cmd
}

func newSMTPShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--json]",
		Short: "Show the SMTP settings (not the password)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, asJSON, func(ctx context.Context, ops control.Ops) (control.SMTPView, error) {
				return ops.SMTP(ctx)
			}, printSMTP)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printSMTP(w io.Writer, v control.SMTPView) error {
	if !v.Configured {
		_, err := fmt.Fprintln(w, "no SMTP server set: voicemail is not emailed (switchboard smtp set --host … --from …)")
		return err
	}
	addr := store.SMTPSettings{Host: v.Host, Port: v.Port, TLS: v.TLS}.Addr()
	tlsMode := string(v.TLS)
	if tlsMode == "" {
		tlsMode = "auto"
	}
	pw := "not set"
	if v.PasswordSet {
		pw = "set"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "server\t%s\n", addr)
	fmt.Fprintf(tw, "tls\t%s\n", tlsMode)
	fmt.Fprintf(tw, "user\t%s\n", dash(v.Username))
	fmt.Fprintf(tw, "password\t%s\n", pw)
	fmt.Fprintf(tw, "from\t%s\n", v.From)
	return tw.Flush()
}
