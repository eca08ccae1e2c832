package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"lodestone/plant/ots"
)

func init() {
	var check bool
	fs := addPlantCommand("train", "SESSION.json [--json] [--check-replay]",
		"operator training: run (replay) a training session's scenario and event log offline and print its score (SESSION - reads stdin)",
		"print the session's view and score as JSON (docs/formats/plant-training.md)",
		func(ctx context.Context, env *cliEnv, args []string, asJSON bool) error {
			return plantTrain(ctx, env, args, asJSON, check)
		})
	fs.BoolVar(&check, "check-replay", false, "replay the session a second time and fail unless the score is the same bit for bit")
}

func plantTrain(ctx context.Context, env *cliEnv, args []string, asJSON, check bool) error {
	data, err := plantReadArg(env, "train", args)
	if err != nil {
		return err
	}
	ss, err := ots.ParseSession(data)
	if err != nil {
		return err
	}
	_, s, err := ots.Replay(ctx, ss)
	if err != nil {
		return err
	}
	if check {
		_, s2, err := ots.Replay(ctx, ss)
		if err != nil {
			return err
		}
		if s2.Score() != s.Score() {
			return errors.New("plant train: the replay's score differs from the first run's")
		}
	}
	out := s.Output(len(ss.Events))
	if asJSON {
		return plantWriteJSON(env.stdout, out)
	}
	return printTrain(env.stdout, out, check)
}

func printTrain(w io.Writer, o *ots.Output, checked bool) error {
	fmt.Fprintf(w, "session at %.4g of %.4g h after %d events; monitor %.4g, product purity %.4f\n", o.TH, o.EndH, o.Events, o.Monitor, o.Purity)
	for i, a := range o.Alarms {
		ack := "not acknowledged"
		if a.AckH != nil {
			ack = fmt.Sprintf("acknowledged at %.4g h", *a.AckH)
		}
		fmt.Fprintf(w, "  alarm %d at %.4g h: %s (%s, handled %v)\n", i, a.TH, a.Source, ack, a.Handled)
	}
	sc := o.Score
	fmt.Fprintf(w, "score %.2f: in spec %.1f %% of %.4g h, alarms handled %d of %d, reagent %.4g mol (baseline %.4g)\n",
		sc.Total, 100*sc.InSpecFraction, sc.ElapsedH, sc.Handled, sc.Alarms, sc.ReagentMol, sc.BaselineMol)
	if checked {
		fmt.Fprintln(w, "replay: same score bit for bit")
	}
	return nil
}
