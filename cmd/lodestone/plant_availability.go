package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"text/tabwriter"

	"lodestone/api"
)

// lodestone plant availability PLANT computes a separation plant's
// availability from its equipment models in the twin graph (POST
// /plant/equipment/{id}/availability): the failure records of the
// equipment its SX trains need, fitted per equipment model, through each
// train's block diagram. --write stores it on the plant twin with its
// provenance; without life data it says why and writes nothing.
func init() {
	var write bool
	var figures, dist string
	plantCmd.sub = append(plantCmd.sub, apiCommand("plant availability", "PLANT_ID [--write] [--figures FIGURES.json] [--distribution weibull|exponential|lognormal|auto] [--json] [--server URL | --data DIR]",
		"availability of a separation plant from its equipment's FailureRecord twins (fit per equipment model → MTBF/MTTR → each SX train's block diagram → the trains' mean); --write stores it on the plant twin with its source",
		true, func(ctx context.Context, env *cliEnv, t *target, _ *flag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usageError{"plant availability: want one plant twin ID"}
			}
			req := api.PlantAvailabilityRequest{Distribution: dist}
			if figures != "" {
				b, err := os.ReadFile(figures)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(b, &req.Figures); err != nil {
					return fmt.Errorf("--figures %s: %w (want {\"Pump\": {\"mtbf\": h, \"mttr\": h, \"source\": \"…\"}, …})", figures, err)
				}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			path := "/plant/equipment/" + url.PathEscape(args[0]) + "/availability"
			if write {
				path += "?write=true"
			}
			var res api.PlantAvailabilityResult
			if err := c.Do(ctx, "POST", path, req, &res); err != nil {
				return err
			}
			if t.json {
				return printJSON(env.stdout, res)
			}
			printPlantAvailability(env, res)
			return nil
		}, func(fs *flag.FlagSet) {
			fs.BoolVar(&write, "write", false, "write a computed availability to the plant twin (availability and sources.availability)")
			fs.StringVar(&figures, "figures", "", "JSON file of MTBF and MTTR (hours) per equipment model with their source, used instead of that model's failure records")
			fs.StringVar(&dist, "distribution", "", "life distribution of the fits: weibull (default), exponential, lognormal or auto")
		}))
}

func printPlantAvailability(env *cliEnv, res api.PlantAvailabilityResult) {
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "model\tunits\trecords\tfailures\tMTBF h\tMTTR h\t")
	for _, c := range res.Classes {
		mtbf, mttr := "–", "–"
		if c.Missing == "" {
			mtbf, mttr = fmt.Sprintf("%.6g", c.MTBF), fmt.Sprintf("%.4g", c.MTTR)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t\n", c.Model, c.Units, len(c.Records), c.Failures, mtbf, mttr)
	}
	w.Flush()
	for _, tr := range res.Trains {
		if tr.Result != nil {
			fmt.Fprintf(env.stdout, "train %s: availability %.6f (%d blocks)\n", tr.Section, tr.Result.Availability, len(tr.Block.Blocks))
		}
	}
	if !res.Computed {
		fmt.Fprintf(env.stdout, "plant %s: availability %s\n", res.Plant, res.Reason)
		return
	}
	fmt.Fprintf(env.stdout, "plant %s: availability %.6f (%s)\n", res.Plant, *res.Availability, plantWritten(res.Written))
}

func plantWritten(w bool) string {
	if w {
		return "written to the plant twin with its source"
	}
	return "not written; --write stores it"
}
