package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
)

func newForwardCmd(g *globals) *cobra.Command {
	var ext string
	cmd := &cobra.Command{
		Use:   "forward --ext EXT [TARGET|off|status]",
		Short: "Forward every call to the user to another extension or an outside number",
		Long: "Forward every call to the user to TARGET: an extension (the call then follows that\n" +
			"user's rules) or an outside number (digits, optionally a leading +; the switch calls it\n" +
			"through `serve --gateway`). Forwarding sets the answering rules aside; do not disturb\n" +
			"wins over it. Users set it from their phone with *72 and the number (*72201) and clear\n" +
			"it with *73. Without an argument, shows the state.",
		Example: "  switchboard forward --ext 200 201\n  switchboard forward --ext 200 +4930123456\n  switchboard forward --ext 200 off",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			what := "status"
			if len(args) == 1 {
				what = args[0]
			}
			target := what
			switch what {
			case "status":
			case "off":
				target = ""
			default:
				if err := control.CheckForwardTarget(what); err != nil {
					return err
				}
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			var v control.HandlingView
			if what == "status" {
				v, err = ops.CallHandling(cmd.Context(), ext, "")
			} else {
				v, err = ops.SetForward(cmd.Context(), ext, target)
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if v.ForwardTo == "" {
				fmt.Fprintf(w, "forwarding is off for %s\n", v.Ext)
			} else {
				fmt.Fprintf(w, "%s forwards %s\n", v.Ext, forwardState(v))
			}
			if v.DND && v.ForwardTo != "" {
				fmt.Fprintln(w, "(do not disturb is on, and wins: calls go to voicemail until it is off)")
			}
			printNow(w, v)
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.MarkFlagRequired("ext")
	return cmd
}
