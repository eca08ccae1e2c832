package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"lodestone/org"
	"lodestone/supply"
)

// KindInvest is the Shard.Kind of a shard of one portfolio evaluation of
// an organisation investment search (org.Invest): runs [From, To) of the
// org scenario (Scenario plus Org, the portfolio applied) measured for
// Objective. An absent kind is a Monte Carlo study's shard.
const KindInvest = "invest"

// checkInvest checks the fields of an invest shard, naming the one at
// fault: a shard no worker could run is terminated, not retried.
func checkInvest(sh *Shard) error {
	if !slices.Contains(org.Objectives(), sh.Objective) {
		return fmt.Errorf("worker: shard: objective: %q, want one of %s", sh.Objective, strings.Join(org.Objectives(), ", "))
	}
	if _, err := org.DecodeScenarioParts(sh.Scenario, sh.Org); err != nil {
		return fmt.Errorf("worker: shard: %w", err)
	}
	return nil
}

// compute runs a decoded shard of either kind. An error is the result's
// Err (a field error's field in Field): the same on every worker.
func compute(ctx context.Context, sh *Shard, sc *supply.SimScenario) *Result {
	if sh.Kind == KindRun {
		return computeRun(ctx, sh, sc)
	}
	res := &Result{Study: sh.Study, From: sh.From, To: sh.To}
	var err error
	if sh.Kind == KindInvest {
		var osc *org.Scenario
		if osc, err = org.DecodeScenarioParts(sh.Scenario, sh.Org); err == nil {
			res.Samples, err = org.Samples(ctx, osc, sh.Objective, sh.Seed, sh.From, sh.To, 1)
		}
	} else {
		res.Shard, err = supply.MonteCarloShard(ctx, sc, supply.MCOptions{Runs: sh.Runs, Seed: sh.Seed, Workers: 1}, sh.From, sh.To)
	}
	if err != nil {
		res.Shard, res.Samples, res.Err = nil, nil, err.Error()
		if fe := (*org.FieldError)(nil); errors.As(err, &fe) {
			res.Field, res.Err = fe.Field, fe.Msg
		}
	}
	return res
}

// complete says whether a result without Err holds its shard's payload:
// a Monte Carlo shard, the To − From samples of an invest shard or the
// result of a run shard.
func (r *Result) complete() bool {
	if r.Kind == KindRun {
		return r.Shard == nil && r.Samples == nil && len(r.Run) > 0 && r.From == 0 && r.To == 1
	}
	if r.Shard == nil {
		return r.To > r.From && len(r.Samples) == r.To-r.From
	}
	return r.Samples == nil && r.Run == nil && r.Shard.From == r.From && r.Shard.To == r.To
}

// failure is the error of a result with Err: an org field error keeps its
// type (the API answers it 400 with the field, as when run locally).
func (r *Result) failure() error {
	if r.Kind == KindRun {
		return &runError{r.Err}
	}
	if r.Field != "" {
		return &org.FieldError{Field: r.Field, Msg: r.Err}
	}
	return fmt.Errorf("worker: shard [%d, %d): %s", r.From, r.To, r.Err)
}

// investRuns is the number of runs per invest shard: MaxBlocks blocks, as
// a study's shards (8 bytes of result per run, far under MaxShardBytes).
func (d *Dispatcher) investRuns() int {
	return max(1, min(d.cfg.MaxBlocks*supply.MCBlock, d.cfg.MaxShardBytes/16))
}

// InvestSampler returns an org.Sampler (org.WithSampler) that runs each
// portfolio evaluation of the investment search named search on the
// workers: evaluation n is the study SEARCH-eN. The search is not resumed
// after a restart (it answers inside its request), so its shards are
// withdrawn whatever ends an evaluation.
func (d *Dispatcher) InvestSampler(search string) org.Sampler {
	var n atomic.Int64
	return func(ctx context.Context, sc *org.Scenario, objective string, seed uint64, runs int) ([]float64, error) {
		return d.Samples(ctx, fmt.Sprintf("%s-e%d", search, n.Add(1)), sc, objective, seed, runs)
	}
}

// Samples computes org.Samples(sc, objective, seed, 0, runs) on the
// workers, in shards of whole blocks of runs, and returns them in run
// order (the same bits). When no worker answers, or the workers vanish
// midway, it computes the (missing) runs here. Cancelling ctx withdraws the shards and stops them on
// every worker.
func (d *Dispatcher) Samples(ctx context.Context, study string, sc *org.Scenario, objective string, seed uint64, runs int) ([]float64, error) {
	if strings.ContainsAny(study, ".*> \t") || study == "" {
		return nil, fmt.Errorf("worker: study id %q is not a subject token", study)
	}
	if runs <= 0 {
		return nil, fmt.Errorf("worker: runs: %d, want > 0", runs)
	}
	if objective == "" {
		objective = org.ObjectiveExpectedLost // as org.Samples reads it
	}
	sj, oj, err := org.EncodeScenario(sc)
	if err != nil {
		return nil, err
	}
	per := d.investRuns()
	if !d.Available(ctx) {
		// No worker (any more): no shard to wait AckWait for.
		return org.Samples(ctx, sc, objective, seed, 0, runs, runtime.GOMAXPROCS(0))
	}
	defer d.cleanup(study)
	got, err := d.dispatch(ctx, study, runs, per, func(from, to int) Shard {
		return Shard{Kind: KindInvest, Study: study, Runs: runs, Seed: seed, From: from, To: to, Objective: objective, Scenario: sj, Org: oj}
	}, nil)
	if errors.Is(err, errNoWorkers) {
		d.cleanup(study)
		for from := 0; from < runs; from += per {
			if got[from] != nil {
				continue
			}
			to := min(runs, from+per)
			xs, err := org.Samples(ctx, sc, objective, seed, from, to, runtime.GOMAXPROCS(0))
			if err != nil {
				return nil, err
			}
			got[from] = &Result{From: from, To: to, Samples: xs}
		}
	} else if err != nil {
		return nil, err
	}
	out := make([]float64, runs)
	for from, r := range got {
		copy(out[from:r.To], r.Samples)
	}
	return out, nil
}

// lastWord is the error of a study whose shard was terminated or ran out
// of deliveries (why, from the advisory): the failure of the result the
// worker published before it terminated the shard, when one comes within
// a moment (it names the field of an org field error), else why.
func lastWord(it jetstream.MessagesContext, why string) error {
	for {
		m, err := it.Next(jetstream.NextMaxWait(500 * time.Millisecond))
		if err != nil {
			return fmt.Errorf("worker: %s", why)
		}
		if r, err := DecodeResult(m.Data()); err == nil && r.Err != "" {
			return r.failure()
		}
	}
}
