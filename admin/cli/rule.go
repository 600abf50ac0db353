package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"switchboard/admin/control"
	"switchboard/store"
)

func newRuleCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rule",
		Short: "A user's answering rules: what happens to calls to their extension",
		Long: "A user's answering rules, tried in order: the first enabled rule whose time frame holds\n" +
			"decides what a call does: First do this → If no answer → the \"not available\" message.\n" +
			"With no rule that matches, a call rings the user's phones for 30s, then goes to voicemail.\n" +
			"Do not disturb (`switchboard dnd`) and forwarding (`switchboard forward`) set the rules aside.\n" +
			"See docs/ANSWERING-RULES.md.",
	}
	cmd.AddCommand(newRuleListCmd(g), newRuleAddCmd(g), newRuleRemoveCmd(g),
		newRuleEnableCmd(g, true), newRuleEnableCmd(g, false), newRuleMoveCmd(g))
	return cmd
}

func newRuleListCmd(g *globals) *cobra.Command {
	var ext, at string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --ext EXT [--at \"2026-12-24 10:00\"] [--json]",
		Short: "Show a user's rules, do not disturb, forwarding, and what a call does now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, asJSON, func(ctx context.Context, ops control.Ops) (control.HandlingView, error) {
				return ops.CallHandling(ctx, ext, at)
			}, func(w io.Writer, v control.HandlingView) error { return printHandling(w, v, at != "") })
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.Flags().StringVar(&at, "at", "", `show what a call does at this time in the office's time zone ("2026-12-24 10:00") instead of now`)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("ext")
	return cmd
}

// printHandling writes a user's call handling for people.
func printHandling(w io.Writer, v control.HandlingView, at bool) error {
	fmt.Fprintf(w, "Extension %s (%s)\n", v.Ext, v.Name)
	fmt.Fprintf(w, "Do not disturb: %s\n", onOff(v.DND))
	fmt.Fprintf(w, "Forwarding:     %s\n", forwardState(v))
	if len(v.Rules) == 0 {
		fmt.Fprintln(w, "Answering rules: none (calls ring the user's phones for 30s, then go to voicemail)")
	} else {
		fmt.Fprintln(w)
		var table bytes.Buffer
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tRULE\tTIME FRAME\tFIRST DO THIS\tIF NO ANSWER\t")
		for _, r := range v.Rules {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.Name, frameLabel(r), describeStep(r.First),
				describeNoAnswer(r.AnsweringRule), ruleState(v, r))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
			fmt.Fprintln(w, strings.TrimRight(line, " ")) // the empty last column pads the others
		}
		if v.Active == 0 && v.Override == "" {
			fmt.Fprintln(w, "No rule matches at this time: the default applies.")
		}
	}
	when := "now (" + v.At.Format("Mon 2006-01-02 15:04")
	if at {
		when = "at " + v.At.Format("Mon 2006-01-02 15:04") + " ("
	} else {
		when += ", "
	}
	fmt.Fprintf(w, "\nA call from outside %stime zone %s):\n  %s\n", when, v.TimeZone, v.Plan)
	if v.PlanReason != "" {
		fmt.Fprintf(w, "  because: %s\n", v.PlanReason)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func forwardState(v control.HandlingView) string {
	switch {
	case v.ForwardTo == "":
		return "off"
	case v.ForwardName != "":
		return fmt.Sprintf("every call to %s (%s)", v.ForwardTo, v.ForwardName)
	}
	return fmt.Sprintf("every call to %s (an outside number: needs `serve --gateway`)", v.ForwardTo)
}

func frameLabel(r control.RuleView) string {
	switch {
	case r.TimeFrame == "":
		return "always"
	case r.TimeFrameName == "":
		return r.TimeFrame + " (deleted: never matches)"
	}
	return r.TimeFrameName
}

func ruleState(v control.HandlingView, r control.RuleView) string {
	switch {
	case r.Disabled:
		return "disabled"
	case r.Number != v.Active:
		return ""
	case v.Override == "dnd":
		return "← matches, but do not disturb is on"
	case v.Override == "forward":
		return "← matches, but calls are forwarded"
	}
	return "← active"
}

// describeStep says what a step does, in the words of the flags that set it.
func describeStep(s store.RuleStep) string {
	var d string
	switch s.Action {
	case "":
		return "-"
	case store.ActRingMyPhones:
		d = "ring my phones"
	case store.ActRingAllPhones:
		d = "ring all my phones"
	case store.ActRingIPPhones:
		d = "ring my IP phones"
	case store.ActRingPhone:
		d = "ring phone " + s.Target
	case store.ActVoicemail:
		return "voicemail"
	case store.ActForwardUser:
		return "forward to user " + s.Target
	case store.ActForwardNumber:
		d = "forward to " + s.Target
	case store.ActForwardSIP:
		d = "forward to " + s.Target
	case store.ActForwardService:
		return "forward to service " + s.Target
	case store.ActDisconnect:
		return "not available, hang up"
	default:
		return string(s.Action)
	}
	d += fmt.Sprintf(" %ds", s.RingFor())
	if s.ShowCalled {
		d += ", shows number dialled"
	}
	return d
}

// describeNoAnswer is the If no answer column: what follows a step that rings.
func describeNoAnswer(r store.AnsweringRule) string {
	switch {
	case r.IfNoAnswer.Action != "":
		return describeStep(r.IfNoAnswer)
	case r.First.Action.Rings() || r.First.Action == store.ActForwardUser:
		return "not available"
	}
	return "-"
}

type ruleAddOptions struct {
	ext         string
	spec        control.RuleSpec
	first, then string
	thenTarget  string
	thenRing    int
	thenShow    bool
}

func newRuleAddCmd(g *globals) *cobra.Command {
	var o ruleAddOptions
	cmd := &cobra.Command{
		Use:   "add --ext EXT --name NAME --first ACTION [flags]",
		Short: "Add an answering rule",
		Long: "Add an answering rule: First do this (--first), then If no answer (--then), then the\n" +
			"\"not available\" message. Actions:\n" + actionHelp +
			"\nRing times default to 12s (40s for outside numbers); --*-show-called makes the ringing\n" +
			"phone show the number the caller dialled instead of the caller's number.",
		Example: "  switchboard rule add --ext 200 --name office --time-frame \"Office hours\" \\\n" +
			"      --first ring_my_phones --first-ring 20 --then voicemail\n" +
			"  switchboard rule add --ext 200 --name evenings --first forward_external --first-target +4976112345 --then voicemail\n" +
			"  switchboard rule add --ext 200 --name holidays --time-frame holidays --position 1 --first voicemail",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := o.build()
			if err != nil {
				return err
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			res, err := ops.AddRule(cmd.Context(), o.ext, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added rule %d %q for %s\n", res.Rule.Number, res.Rule.Name, res.Handling.Ext)
			printNow(cmd.OutOrStdout(), res.Handling)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ext, "ext", "", "extension of the user (required)")
	f.StringVar(&o.spec.Name, "name", "", "name of the rule, unique for the user (required)")
	f.StringVar(&o.spec.TimeFrame, "time-frame", "", "only while this time frame holds (id or name; default: at any time)")
	f.IntVar(&o.spec.Position, "position", 0, "put the rule at this position, 1 = tried first (default: last)")
	f.StringVar(&o.first, "first", "", "First do this: an action (required)")
	f.StringVar(&o.spec.First.Target, "first-target", "", "the phone, extension, number or SIP address the first action needs")
	f.IntVar(&o.spec.First.RingSeconds, "first-ring", 0, "ring for this many seconds (default 12, 40 for outside numbers)")
	f.BoolVar(&o.spec.First.ShowCalled, "first-show-called", false, "the ringing phone shows the number dialled, not the caller's")
	f.StringVar(&o.then, "then", "", "If no answer: an action (default: the \"not available\" message)")
	f.StringVar(&o.thenTarget, "then-target", "", "the phone, extension, number or SIP address the --then action needs")
	f.IntVar(&o.thenRing, "then-ring", 0, "ring for this many seconds (default 12, 40 for outside numbers)")
	f.BoolVar(&o.thenShow, "then-show-called", false, "the ringing phone shows the number dialled, not the caller's")
	cmd.MarkFlagRequired("ext")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("first")
	return cmd
}

// actionHelp lists the actions for --help.
const actionHelp = `  ring_my_phones     the user's enabled phones
  ring_all_phones    all of the user's phones, disabled ones too
  ring_ip_phones     the user's enabled IP phones only
  ring_phone         one phone (target: a device such as 200b)
  voicemail          the user's voicemail box
  forward_user       another user, by their own rules (target: an extension)
  forward_external   an outside number (target: digits, optionally +; needs serve --gateway)
  forward_sip        a SIP address (target: sip:user@host)
  forward_service    an auto attendant or queue (not available yet)
  disconnect         the "not available" message, then hang up
`

// build turns the flags into a rule and checks it without any data.
func (o *ruleAddOptions) build() (control.RuleSpec, error) {
	spec := o.spec
	spec.First.Action = store.Action(strings.TrimSpace(o.first))
	if o.then == "" && (o.thenTarget != "" || o.thenRing != 0 || o.thenShow) {
		return spec, usagef("--then-target, --then-ring and --then-show-called need --then ACTION")
	}
	spec.IfNoAnswer = store.RuleStep{Action: store.Action(strings.TrimSpace(o.then)), Target: o.thenTarget,
		RingSeconds: o.thenRing, ShowCalled: o.thenShow}
	if err := control.CheckRuleSpec(spec); err != nil {
		return spec, err
	}
	return spec, nil
}

// printNow prints what a call from outside does now.
func printNow(w io.Writer, v control.HandlingView) {
	fmt.Fprintf(w, "a call from outside now: %s\n", v.Plan)
}

func newRuleRemoveCmd(g *globals) *cobra.Command {
	var ext string
	cmd := &cobra.Command{
		Use:   "remove --ext EXT N|NAME",
		Short: "Remove a rule, by its number in `rule list` or its name",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			res, err := ops.RemoveRule(cmd.Context(), ext, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed rule %d %q of %s\n", res.Rule.Number, res.Rule.Name, res.Handling.Ext)
			printNow(cmd.OutOrStdout(), res.Handling)
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.MarkFlagRequired("ext")
	return cmd
}

func newRuleEnableCmd(g *globals, enable bool) *cobra.Command {
	var ext string
	verb, short := "enable", "Switch a rule on again"
	if !enable {
		verb, short = "disable", "Switch a rule off without removing it (it is skipped)"
	}
	cmd := &cobra.Command{
		Use:   verb + " --ext EXT N|NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			res, err := ops.SetRuleEnabled(cmd.Context(), ext, args[0], enable)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%sd rule %d %q of %s\n", verb, res.Rule.Number, res.Rule.Name, res.Handling.Ext)
			printNow(cmd.OutOrStdout(), res.Handling)
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.MarkFlagRequired("ext")
	return cmd
}

func newRuleMoveCmd(g *globals) *cobra.Command {
	var ext string
	var to int
	cmd := &cobra.Command{
		Use:   "move --ext EXT N|NAME --to M",
		Short: "Move a rule to another position (1 = tried first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to < 1 {
				return usagef("--to %d: positions start at 1", to)
			}
			ops, done, err := g.openOps(false)
			if err != nil {
				return err
			}
			defer done()
			res, err := ops.MoveRule(cmd.Context(), ext, args[0], to)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "moved rule %q of %s to position %d\n", res.Rule.Name, res.Handling.Ext, res.Rule.Number)
			printNow(cmd.OutOrStdout(), res.Handling)
			return nil
		},
	}
	cmd.Flags().StringVar(&ext, "ext", "", "extension of the user (required)")
	cmd.Flags().IntVar(&to, "to", 0, "the new position (required)")
	cmd.MarkFlagRequired("ext")
	cmd.MarkFlagRequired("to")
	return cmd
}
