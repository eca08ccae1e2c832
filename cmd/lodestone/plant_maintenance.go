package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"lodestone/plant/reliability"
)

// The plant maintenance command plans preventive work
// (docs/formats/plant-reliability.md, "Maintenance plan").
var plantMaintenanceCmd = &command{
	name:      "maintenance",
	shortHelp: "maintenance plans: preventive work orders, expected cost and availability",
}

func init() {
	planFlags := flag.NewFlagSet("lodestone plant maintenance plan", flag.ContinueOnError)
	planJSON := planFlags.Bool("json", false, "print the result as JSON")
	plantMaintenanceCmd.sub = append(plantMaintenanceCmd.sub, &command{
		name:      "plan",
		usage:     "SPEC.json [--json]",
		shortHelp: "schedule preventive replacements over a horizon; expected cost, failures and availability",
		flags:     planFlags,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			return plantMaintenancePlan(env, args, *planJSON)
		},
	})
	plantCmd.sub = append(plantCmd.sub, plantMaintenanceCmd)
}

func plantMaintenancePlan(env *cliEnv, args []string, asJSON bool) error {
	data, err := readPlantFile(env, "maintenance plan", "SPEC.json", args)
	if err != nil {
		return err
	}
	spec, err := reliability.DecodePlanSpec(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	res, err := reliability.Plan(*spec)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if asJSON {
		return printJSON(env.stdout, res)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "item\tinterval\twork orders\texp. failures\tavailability\texp. cost")
	for _, it := range res.Items {
		iv := "run to failure"
		if it.Interval != nil {
			iv = fmt.Sprintf("%.6g", *it.Interval)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3g\t%.5f\t%.6g\n", it.ID, iv, len(it.WorkOrders), it.ExpectedFailures, it.Availability, it.ExpectedCost)
	}
	fmt.Fprintf(tw, "plant (series)\t\t\t\t%.5f\t%.6g\n", res.Availability, res.ExpectedCost)
	return tw.Flush()
}
