package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"lodestone/plant/control"
)

func init() {
	addPlantCommand("control", "SPEC.json [--json]",
		"control-strategy testing: closed-loop runs of PI, O/A feed-forward and acidity loops on the dynamic cascade, compared side by side (SPEC - reads stdin)",
		"print the result as JSON (docs/formats/plant-control.md)", plantControl)
}

func plantControl(ctx context.Context, env *cliEnv, args []string, asJSON bool) error {
	out, err := plantRunSpec(ctx, env, "control", args, control.ParseSpec)
	if err != nil {
		return err
	}
	if asJSON {
		return plantWriteJSON(env.stdout, out)
	}
	return printControl(env.stdout, out)
}

// printControl writes the strategies side by side.
func printControl(w io.Writer, o *control.Output) error {
	fmt.Fprintf(w, "monitored setpoint %.4g\n", o.Setpoint)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tIAE\tpeak dev\tovershoot %\tsettling h\tin spec\tfinal purity\treagent L\tacid mol\tsapon. mol\t")
	for _, s := range o.Strategies {
		settle := "not settled"
		if s.SettlingTimeH != nil {
			settle = fmt.Sprintf("%.3g", *s.SettlingTimeH)
		}
		var vol, acid, base float64
		for _, r := range s.Reagents {
			vol += r.VolumeL
			acid += r.AcidMol
			base += r.BaseMol
		}
		fmt.Fprintf(tw, "%s\t%.3g\t%.3g\t%.3g\t%s\t%.1f %%\t%.4f\t%.4g\t%.4g\t%.4g\t\n", s.Name, s.IAE, s.PeakDeviation, s.OvershootPct,
			settle, 100*s.InSpecFrac, s.FinalPurity, vol, acid, base)
	}
	return tw.Flush()
}
