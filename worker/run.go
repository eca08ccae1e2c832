package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"lodestone/supply"
)

// KindRun is the Shard.Kind of a single supply run (supply.Run, the
// scenario with the PCG stream (Seed, 0)): a day-by-day run cannot be
// split, so it is one shard of runs 1, from 0 to 1, handed whole to one
// worker.
const KindRun = "run"

// checkRun checks the fields of a run shard, naming the one at fault.
func checkRun(sh *Shard) error {
	if sh.Runs != 1 {
		return fmt.Errorf("worker: shard: runs: %d, want 1 in a %q shard (a run is not split)", sh.Runs, KindRun)
	}
	return nil
}

// computeRun runs a run shard. The result travels as the JSON of the
// supply.Result inside the gob message: JSON is what the server stores,
// and gob would turn an empty list into a missing one (null, not []).
// A result JSON cannot encode fails as the server fails it when it runs
// the run itself ("encode the result: …").
func computeRun(ctx context.Context, sh *Shard, sc *supply.SimScenario) *Result {
	res := &Result{Kind: KindRun, Study: sh.Study, From: sh.From, To: sh.To}
	r, err := supply.Run(ctx, sc, rand.New(rand.NewPCG(sh.Seed, 0)))
	if err == nil {
		if res.Run, err = json.Marshal(r); err != nil {
			err = fmt.Errorf("encode the result: %w", err)
		}
	}
	if err != nil {
		res.Run, res.Err = nil, err.Error()
	}
	return res
}

// runError is the failure of a run shard: the error supply.Run gave on
// the worker, word for word (the stored run's error is the one the
// server would have written).
type runError struct{ msg string }

func (e *runError) Error() string { return e.msg }

// runBytes bounds the JSON of a run's result from above: per node its
// KPIs, costs and one month entry (at most 130 bytes) per calendar month
// spanned, each float at its longest; per arc its flow. A run whose
// result might not fit in MaxShardBytes is run by the server.
func runBytes(sc *supply.SimScenario) int {
	months := sc.Days/28 + 2
	n := 256
	for _, nd := range sc.Network.Nodes {
		n += 1024 + len(nd.ID) + months*130
	}
	for _, a := range sc.Network.Arcs {
		n += 256 + len(a.From) + len(a.To) + len(a.Material)
	}
	return n
}

// RunOne runs one supply run (supply.Run of sc with the PCG stream
// (seed, 0)) on a worker as the one-shard job id, and returns the same
// bits as running it here. It runs it here when no worker answers, when
// the workers vanish before the result comes, when the work queue fails,
// or when the result would be too large for one message. A run answers
// inside its request and is not resumed after a restart, so its shard is
// withdrawn whatever ends it; cancelling ctx stops it on the worker.
func (d *Dispatcher) RunOne(ctx context.Context, id string, sc *supply.SimScenario, seed uint64) (*supply.Result, error) {
	if strings.ContainsAny(id, ".*> \t") || id == "" {
		return nil, fmt.Errorf("worker: run id %q is not a subject token", id)
	}
	local := func() (*supply.Result, error) {
		return supply.Run(ctx, sc, rand.New(rand.NewPCG(seed, 0)))
	}
	if runBytes(sc) > d.cfg.MaxShardBytes || !d.Available(ctx) {
		return local()
	}
	scJSON, err := json.Marshal(sc)
	if err != nil {
		return nil, err
	}
	defer d.cleanup(id)
	got, err := d.dispatch(ctx, id, 1, 1, func(from, to int) Shard {
		return Shard{Kind: KindRun, Study: id, Runs: 1, Seed: seed, From: from, To: to, Scenario: scJSON}
	}, nil)
	var re *runError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &re):
		return nil, err
	case err != nil:
		// No worker any more, or the queue failed: the server runs it
		// (a shard terminated without its result comes here too, and
		// fails here as it did on the worker).
		d.cleanup(id)
		return local()
	}
	var out supply.Result
	if err := json.Unmarshal(got[0].Run, &out); err != nil {
		return nil, fmt.Errorf("worker: result of run %s: %w", id, err)
	}
	return &out, nil
}
