package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
)

func newTimeZoneCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "timezone [ZONE]",
		Short: "Show or set the office's time zone (time frames are read in it)",
		Long: "Show or set the office's time zone, an IANA name such as Europe/Berlin,\n" +
			"America/New_York or UTC. Time frames (\"mon-fri 09:00-17:00\") are read on the office's\n" +
			"wall clock in this zone, across daylight-saving changes. Unset, the machine's own time\n" +
			"zone applies. A running server uses a new zone from the next call on.",
		Example: "  switchboard timezone\n  switchboard timezone Europe/Berlin",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if _, err := control.CheckTimeZone(args[0]); err != nil {
					return err
				}
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			var v control.TimeZoneView
			if len(args) == 1 {
				v, err = ops.SetTimeZone(cmd.Context(), args[0])
			} else {
				v, err = ops.TimeZone(cmd.Context())
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			now := v.Now.Format("Mon 2006-01-02 15:04 MST")
			switch {
			case len(args) == 1:
				fmt.Fprintf(w, "time zone set to %s (now %s)\n", v.Zone, now)
			case v.Zone == "":
				fmt.Fprintf(w, "not set: the machine's time zone applies (now %s)\n", now)
			default:
				fmt.Fprintf(w, "%s (now %s)\n", v.Zone, now)
			}
			return nil
		},
	}
}
