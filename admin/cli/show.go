package cli

import (
	"context"
	"encoding/json"
	"io"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
)

// show runs a read-only operation and prints its result: as JSON with
// --json, else with print. Every list and show command goes through it.
func show[T any](cmd *cobra.Command, g *globals, asJSON bool,
	fetch func(context.Context, control.Ops) (T, error), print func(io.Writer, T) error) error {
	ops, done, err := g.openOps(false)
	if err != nil {
		return err
	}
	defer done()
	v, err := fetch(cmd.Context(), ops)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
	}
	return print(cmd.OutOrStdout(), v)
}
