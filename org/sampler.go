package org

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"lodestone/supply"
)

// Sampler computes the measure of each run r in [0, runs) of the scenario
// sc (a portfolio applied to a base scenario) for the objective, run r
// drawing from rand.NewPCG(seed, r), exactly as [Samples] does. Invest
// uses one to evaluate portfolios elsewhere (package worker: on the
// workers of a work queue); it must return Samples' bits.
type Sampler func(ctx context.Context, sc *Scenario, objective string, seed uint64, runs int) ([]float64, error)

// InvestOption changes how Invest and Evaluate compute.
type InvestOption func(*investOptions)

type investOptions struct {
	sampler Sampler
}

// WithSampler makes Invest and Evaluate compute each portfolio's samples
// with s instead of in this process. nil keeps the local sampling.
func WithSampler(s Sampler) InvestOption {
	return func(o *investOptions) { o.sampler = s }
}

// Samples returns the measures of runs [from, to) of sc for the objective
// (lost demand, its cost, or the time to survive, per run), run r with the
// stream (seed, r) whatever the portfolio (common random numbers), over
// workers goroutines (the bits do not depend on them). An empty objective
// is ObjectiveExpectedLost.
func Samples(ctx context.Context, sc *Scenario, objective string, seed uint64, from, to, workers int) ([]float64, error) {
	if objective == "" {
		objective = ObjectiveExpectedLost
	}
	if !slices.Contains(Objectives(), objective) {
		return nil, fieldErr("objective", "unknown objective %q (want one of %v)", objective, Objectives())
	}
	if from < 0 || to < from {
		return nil, fmt.Errorf("org: samples: runs [%d, %d) is not a range", from, to)
	}
	if sc == nil || sc.Supply == nil {
		return nil, fieldErr("scenario", "no supply scenario")
	}
	p, err := compile(sc)
	if err != nil {
		return nil, err
	}
	var demand []int // nodes with external demand, for time_to_survive
	for i, n := range sc.Supply.Network.Nodes {
		if n.DemandPerPeriod > 0 {
			demand = append(demand, i)
		}
	}
	n := to - from
	workers = max(1, min(workers, n))
	out := make([]float64, n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			sim, err := supply.NewSim(sc.Supply)
			if err != nil {
				errs[k] = err
				return
			}
			var c supply.Controller
			var ctl *controller
			if len(p.rules) > 0 {
				ctl = &controller{p: p, off: -1}
				c = ctl
			}
			for i := k; i < n; i += workers {
				if ctl != nil {
					ctl.reset()
				}
				rng := rand.New(rand.NewPCG(seed, uint64(from+i)))
				if objective == ObjectiveExpectedLostCost {
					res, err := sim.Run(ctx, rng, c)
					if err != nil {
						errs[k] = err
						return
					}
					if res.Cost == nil {
						errs[k] = fieldErr("objective", "%s needs a scenario with prices or costs", ObjectiveExpectedLostCost)
						return
					}
					out[i] = res.Cost.LostDemandCost
					continue
				}
				if out[i], err = sim.LostOnly(ctx, rng, c); err != nil {
					errs[k] = err
					return
				}
				if objective == ObjectiveTimeToSurvive {
					out[i] = survival(sim, demand)
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return out, nil
}

// EncodeScenario writes sc as the two JSON documents a worker needs: the
// supply scenario as encoding/json writes it and the organisation ("org"
// of an org SCENARIO). DecodeScenarioParts reads them back with the same
// bits.
func EncodeScenario(sc *Scenario) (supplyJSON, orgJSON []byte, err error) {
	if sc == nil || sc.Supply == nil {
		return nil, nil, fieldErr("scenario", "no supply scenario")
	}
	if supplyJSON, err = json.Marshal(sc.Supply); err != nil {
		return nil, nil, err
	}
	if orgJSON, err = json.Marshal(sc.Org); err != nil {
		return nil, nil, err
	}
	return supplyJSON, orgJSON, nil
}

// DecodeScenarioParts reads what EncodeScenario wrote (orgJSON may be
// empty: no organisation) and checks the result; the error names the
// field ("scenario…" or "org…").
func DecodeScenarioParts(supplyJSON, orgJSON []byte) (*Scenario, error) {
	var s supply.SimScenario
	if err := json.Unmarshal(supplyJSON, &s); err != nil {
		return nil, fieldErr("scenario", "%v", err)
	}
	sc := &Scenario{Supply: &s}
	if len(orgJSON) > 0 && string(orgJSON) != "null" {
		if err := strict(orgJSON, &sc.Org, "org"); err != nil {
			return nil, err
		}
	}
	if err := s.Validate(); err != nil {
		return nil, prefix(err, "scenario")
	}
	if _, err := compile(sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// checkWith checks the spec and applies the options.
func (s *InvestSpec) checkWith(opts []InvestOption) (*investment, error) {
	inv, err := s.check()
	if err != nil {
		return nil, err
	}
	var o investOptions
	for _, f := range opts {
		f(&o)
	}
	inv.sampler = o.sampler
	return inv, nil
}
