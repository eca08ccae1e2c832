package main

import (
	"context"
	"flag"
	"fmt"

	"lodestone/connector/softsensor"
)

func init() {
	fs := flag.NewFlagSet("lodestone plant estimators", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the decoded file, with its defaults, as JSON")
	plantCmd.sub = append(plantCmd.sub, &command{
		name:      "estimators",
		usage:     "FILE [--json]",
		shortHelp: "check an estimators file (live soft sensors on telemetry; docs/formats/plant-estimators.md) offline: errors name the field; run it with lodestone serve --estimators FILE",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			data, err := plantReadArg(env, "estimators", args)
			if err != nil {
				return err
			}
			cfg, err := softsensor.DecodeConfig(data)
			if err != nil {
				return err
			}
			if *asJSON {
				return plantWriteJSON(env.stdout, cfg)
			}
			for _, e := range cfg.Estimators {
				fmt.Fprintf(env.stdout, "%s\ttwin %s\t%d sensors, writes every %g s of data time, reorder %g h\n", e.ID, e.Twin, len(e.Sensors), e.WriteIntervalS, e.ReorderH)
			}
			return nil
		},
	})
}
