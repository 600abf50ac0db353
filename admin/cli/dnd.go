package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
)

func newDNDCmd(g *globals) *cobra.Command {
	var ext string
	cmd := &cobra.Command{
		Use:   "dnd --ext EXT [on|off|status]",
		Short: "Do not disturb: calls to the user go straight to voicemail",
		Long: "Do not disturb sends every call to the user straight to voicemail, whatever their\n" +
			"answering rules say, until it is switched off. Users switch it from their phone with\n" +
			"*78 (on), *79 (off) and *76 (toggle). Without an argument, shows the state.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			what := "status"
			if len(args) == 1 {
				what = args[0]
			}
			if what != "on" && what != "off" && what != "status" {
				return usagef("dnd %q: want on, off or status", what)
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
				v, err = ops.SetDND(cmd.Context(), ext, what == "on")
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if v.DND {
				fmt.Fprintf(w, "do not disturb is on for %s: calls go to voicemail\n", v.Ext)
			} else {
				fmt.Fprintf(w, "do not disturb is off for %s\n", v.Ext)
			}
			printNow(w, v)
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.MarkFlagRequired("ext")
	return cmd
}
