package main

import (
	"context"
	"flag"
	"fmt"

	"lodestone/connector"
)

func init() {
	fs := flag.NewFlagSet("lodestone plant connectors", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the decoded file, with its defaults, as JSON")
	plantCmd.sub = append(plantCmd.sub, &command{
		name:      "connectors",
		usage:     "FILE [--json]",
		shortHelp: "check a connectors file (MQTT and OPC UA telemetry connectors; docs/formats/plant-connectors.md) offline: errors name the field; run it with lodestone serve --connectors FILE, and check it against the models with POST /plant/connectors/check",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			data, err := plantReadArg(env, "connectors", args)
			if err != nil {
				return err
			}
			cfg, err := connector.DecodeConfig(data)
			if err != nil {
				return err
			}
			for i := range cfg.Connectors {
				if cfg.Connectors[i].Password != "" {
					cfg.Connectors[i].Password = "(set)" // not echoed
				}
			}
			if *asJSON {
				return plantWriteJSON(env.stdout, cfg)
			}
			for _, c := range cfg.Connectors {
				fmt.Fprintf(env.stdout, "%s\t%s %s%s\t%d mappings, queue %d, batch %d\n", c.ID, c.Kind, c.Broker, c.Endpoint, len(c.Mappings), c.Queue, c.Batch)
			}
			return nil
		},
	})
}
