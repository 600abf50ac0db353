package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
	"switchboard/store"
)

func newUserCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users (people with an extension)"}
	cmd.AddCommand(newUserAddCmd(g), newUserListCmd(g), newUserSetCmd(g), newUserRemoveCmd(g), newUserImportCmd(g))
	return cmd
}

type userAddOptions struct {
	spec control.UserSpec
	role string
}

func newUserAddCmd(g *globals) *cobra.Command {
	var o userAddOptions
	cmd := &cobra.Command{
		Use:   "add --ext EXT --name NAME",
		Short: "Create a user and their primary device (SIP user = extension)",
		Long: "Create a user and their primary device, whose SIP user name is the extension.\n" +
			"Passwords that are not given are generated and printed once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.spec.Role = store.Role(o.role)
			// Check first: bad input must not create a data directory.
			if err := control.CheckUserSpec(o.spec); err != nil {
				return err
			}
			ops, done, err := g.openOps(true)
			if err != nil {
				return err
			}
			defer done()
			out, err := ops.AddUser(cmd.Context(), o.spec)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "created user %s (%s, %s), device %s\n", out.User.Ext, out.User.Name, out.User.Role, out.User.Ext)
			if out.Password != "" {
				fmt.Fprintf(w, "web password: %s\n", out.Password)
			}
			if out.SIPPassword != "" {
				fmt.Fprintf(w, "SIP user %s, SIP password: %s\n", out.User.Ext, out.SIPPassword)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.spec.Ext, "ext", "", "extension, e.g. 200 (required)")
	f.StringVar(&o.spec.Name, "name", "", `full name, e.g. "Alice Smith" (required)`)
	f.StringVar(&o.spec.Email, "email", "", "email address")
	f.StringVar(&o.role, "role", "user", "admin (office manager) or user")
	f.StringVar(&o.spec.Password, "password", "", "web login password (generated if empty)")
	f.StringVar(&o.spec.SIPPassword, "sip-password", "", "SIP password of the primary device (generated if empty)")
	cmd.MarkFlagRequired("ext")
	cmd.MarkFlagRequired("name")
	return cmd
}

func newUserListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, asJSON, func(ctx context.Context, ops control.Ops) ([]control.UserView, error) {
				return ops.ListUsers(ctx)
			}, printUsers)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printUsers(w io.Writer, users []control.UserView) error {
	if len(users) == 0 {
		_, err := fmt.Fprintln(w, "no users yet: add one with `switchboard user add --ext 200 --name \"Alice Smith\"`")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXT\tNAME\tROLE\tEMAIL\tDEVICES\tONLINE\tSTATUS")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", u.Ext, u.Name, u.Role, dash(u.Email),
			strings.Join(u.Devices, ","), u.Registered, status)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newUserSetCmd(g *globals) *cobra.Command {
	var ext, name, email, role, password, sipPassword, department string
	var disable, enable bool
	cmd := &cobra.Command{
		Use:   "set --ext EXT [--name N] [--email E] [--department TEXT] [--role R] [--password P] [--sip-password P] [--disable|--enable]",
		Short: "Change a user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var p control.UserPatch
			f := cmd.Flags()
			if f.Changed("name") {
				p.Name = &name
			}
			if f.Changed("email") {
				p.Email = &email
			}
			if f.Changed("department") {
				p.Department = &department
			}
			if f.Changed("role") {
				r := store.Role(role)
				p.Role = &r
			}
			if f.Changed("password") {
				p.Password = &password
			}
			if f.Changed("sip-password") {
				p.SIPPassword = &sipPassword
			}
			if disable && enable {
				return usagef("--disable and --enable contradict each other")
			}
			if disable || enable {
				p.Disabled = &disable
			}
			if p == (control.UserPatch{}) {
				return usagef("nothing to change: give at least one of --name, --email, --department, --role, --password, --sip-password, --disable, --enable")
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			u, err := ops.SetUser(cmd.Context(), ext, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "updated user %s (%s)\n", u.Ext, u.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ext, "ext", "", "extension of the user to change (required)")
	f.StringVar(&name, "name", "", "full name")
	f.StringVar(&email, "email", "", "email address (empty removes it)")
	f.StringVar(&department, "department", "", "department, shown in Contacts (empty removes it)")
	f.StringVar(&role, "role", "", "admin or user")
	f.StringVar(&password, "password", "", "new web login password")
	f.StringVar(&sipPassword, "sip-password", "", "new SIP password of the primary device")
	f.BoolVar(&disable, "disable", false, "disable the user: no login, devices unregistered")
	f.BoolVar(&enable, "enable", false, "enable a disabled user")
	cmd.MarkFlagRequired("ext")
	return cmd
}

func newUserRemoveCmd(g *globals) *cobra.Command {
	var ext string
	cmd := &cobra.Command{
		Use:   "remove --ext EXT",
		Short: "Delete a user with all their devices",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			if err := ops.RemoveUser(cmd.Context(), ext); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed user %s\n", ext)
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user to delete (required)")
	cmd.MarkFlagRequired("ext")
	return cmd
}

func newUserImportCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Create many users at once from CSV (all or none)",
		Long: "Create many users in one step from a CSV file with a header line and the columns\n" +
			"ext,name,email,role,password,sip_password (email, role and password may be empty;\n" +
			"an empty password leaves web login off until one is set with `user set`).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := readUserCSV(args[0])
			if err != nil {
				return err
			}
			if err := control.CheckImport(specs); err != nil {
				return err
			}
			ops, done, err := g.openOps(true)
			if err != nil {
				return err
			}
			defer done()
			n, err := ops.ImportUsers(cmd.Context(), specs)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %d users\n", n)
			return nil
		},
	}
	return cmd
}

var importColumns = []string{"ext", "name", "email", "role", "password", "sip_password"}

func readUserCSV(path string) ([]control.UserSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	defer f.Close()
	return parseUserCSV(f, path)
}

// parseUserCSV reads the users of an import file; name is the file's name
// for error messages. A byte order mark, as spreadsheets write before UTF-8,
// is skipped.
func parseUserCSV(in io.Reader, name string) ([]control.UserSpec, error) {
	br := bufio.NewReader(io.LimitReader(in, 64<<20))
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = len(importColumns)
	head, err := r.Read()
	if err != nil {
		return nil, usagef("%s: %v", name, err)
	}
	if strings.Join(head, ",") != strings.Join(importColumns, ",") {
		return nil, usagef("%s: the first line must be %s", name, strings.Join(importColumns, ","))
	}
	var specs []control.UserSpec
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, usagef("%s: %v", name, err)
		}
		for i, field := range rec {
			if strings.IndexFunc(field, unicode.IsControl) >= 0 {
				line, _ := r.FieldPos(i)
				return nil, usagef("%s line %d: the %s has a line break or control character", name, line, importColumns[i])
			}
		}
		specs = append(specs, control.UserSpec{Ext: rec[0], Name: rec[1], Email: rec[2],
			Role: store.Role(rec[3]), Password: rec[4], SIPPassword: rec[5]})
	}
	if len(specs) == 0 {
		return nil, usagef("%s has no users", name)
	}
	return specs, nil
}
