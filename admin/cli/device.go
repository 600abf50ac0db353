package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
)

func newDeviceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "device", Short: "Manage a user's devices (200, 200b, 200c, …)"}
	cmd.AddCommand(newDeviceAddCmd(g), newDeviceListCmd(g), newDeviceRemoveCmd(g))
	return cmd
}

func newDeviceAddCmd(g *globals) *cobra.Command {
	var ext, sipPassword string
	cmd := &cobra.Command{
		Use:   "add --ext EXT",
		Short: "Add the next device (200b, 200c, …) to a user, with its own SIP password",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			out, err := ops.AddDevice(cmd.Context(), ext, sipPassword)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created device %s for extension %s\n", out.Device.ID, out.Device.Ext)
			if out.SIPPassword != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "SIP user %s, SIP password: %s\n", out.Device.ID, out.SIPPassword)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.Flags().StringVar(&sipPassword, "sip-password", "", "SIP password (generated if empty)")
	cmd.MarkFlagRequired("ext")
	return cmd
}

func newDeviceListCmd(g *globals) *cobra.Command {
	var ext string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--ext EXT]",
		Short: "List devices and where they are registered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, asJSON, func(ctx context.Context, ops control.Ops) ([]control.DeviceView, error) {
				return ops.ListDevices(ctx, ext)
			}, printDevices)
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "only this user's devices")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newDeviceRemoveCmd(g *globals) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "remove --id DEVICE",
		Short: "Remove a secondary device (200b, …) and its registrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			if err := ops.RemoveDevice(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed device %s\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "device id, e.g. 200b (required)")
	cmd.MarkFlagRequired("id")
	return cmd
}

func printDevices(w io.Writer, devices []control.DeviceView) error {
	if len(devices) == 0 {
		fmt.Fprintln(w, "no devices")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tEXT\tSTATUS\tCONTACT\tSOURCE\tUSER AGENT\tEXPIRES IN")
	for _, d := range devices {
		if len(d.Bindings) == 0 {
			status := "offline"
			if d.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\n", d.ID, d.Ext, status)
		}
		for _, b := range d.Bindings {
			fmt.Fprintf(tw, "%s\t%s\tonline\t%s\t%s/%s\t%s\t%s\n", d.ID, d.Ext, b.Contact, b.Source,
				b.Transport, dash(b.UserAgent), time.Until(b.Expires).Round(time.Second))
		}
	}
	return tw.Flush()
}
