package supply

import (
	"context"
	"errors"
)

// Benefit is the net benefit of a mitigation scenario against a baseline,
// over runs with common random numbers: run r of both studies draws from the
// same stream, so shocks and licence decisions the two scenarios share (the
// same controls and random shocks, in the same order) fall on the same days
// and the per-run differences carry no noise of their own. Each Dist is over
// the per-run differences, baseline − mitigation, so positive is better for
// the mitigation; its CI95 is the paired t interval.
type Benefit struct {
	Runs     int    `json:"runs"`
	Seed     uint64 `json:"seed"`
	Currency string `json:"currency"`
	// NetBenefit is total cost (baseline) − total cost (mitigation): the
	// avoided cost of lost demand less the extra holding and mitigation
	// cost.
	NetBenefit Dist `json:"net_benefit"`
	// AvoidedLostDemandCost and AvoidedRevenueAtRisk are the baseline's
	// cost of lost demand and revenue at risk less the mitigation's.
	AvoidedLostDemandCost Dist `json:"avoided_lost_demand_cost"`
	AvoidedRevenueAtRisk  Dist `json:"avoided_revenue_at_risk"`
	// ExtraHoldingCost and MitigationCost are the mitigation's holding and
	// mitigation costs less the baseline's (so positive is a cost here).
	ExtraHoldingCost Dist `json:"extra_holding_cost"`
	MitigationCost   Dist `json:"mitigation_cost"`
	// AvoidedLost is the lost demand (units, demand nodes summed) avoided.
	AvoidedLost Dist `json:"avoided_lost"`
}

// Compare runs the baseline and the mitigation scenario over the same runs
// and seeds and returns the net benefit of the mitigation, with both
// studies. Both scenarios need money (prices or costs) in one currency.
func Compare(ctx context.Context, base, mit *SimScenario, opts MCOptions) (*Benefit, *MCResult, *MCResult, error) {
	mb, err := compile(base)
	if err != nil {
		return nil, nil, nil, err
	}
	mm, err := compile(mit)
	if err != nil {
		return nil, nil, nil, err
	}
	if mb.money == nil || mm.money == nil {
		return nil, nil, nil, errors.New("supply: compare: both scenarios need prices or costs")
	}
	if mb.money.currency != mm.money.currency {
		return nil, nil, nil, fieldErr("costs.currency", "baseline is in %s, mitigation in %s", mb.money.currency, mm.money.currency)
	}
	sb, err := monteCarlo(ctx, mb, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	sm, err := monteCarlo(ctx, mm, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	b := benefitOf(sb, sm, lostByRun(sb, demandNodes(mb)), lostByRun(sm, demandNodes(mm)))
	b.Seed, b.Currency = opts.Seed, mb.money.currency
	return b, sb.result(mb, opts.Seed), sm.result(mm, opts.Seed), nil
}

// demandNodes returns the indices of the nodes with demand.
func demandNodes(m *model) []int {
	var out []int
	for i, d := range m.demand {
		if d > 0 {
			out = append(out, i)
		}
	}
	return out
}

// lostByRun sums each run's lost demand over the nodes idx.
func lostByRun(s *mcSamples, idx []int) []float64 {
	out := make([]float64, s.runs)
	for r := range out {
		for _, i := range idx {
			out[r] += s.lost[r*s.n+i]
		}
	}
	return out
}

// benefitOf forms the per-run differences of two studies' costs.
func benefitOf(sb, sm *mcSamples, lb, lm []float64) *Benefit {
	runs := sb.runs
	diff := func(k int, sign float64) Dist {
		xs := make([]float64, runs)
		for r := range xs {
			xs[r] = sign * (sb.cost[r*5+k] - sm.cost[r*5+k])
		}
		return summarize(xs, false)
	}
	al := make([]float64, runs)
	for r := range al {
		al[r] = lb[r] - lm[r]
	}
	return &Benefit{Runs: runs,
		NetBenefit:            diff(4, 1),
		AvoidedLostDemandCost: diff(1, 1),
		AvoidedRevenueAtRisk:  diff(0, 1),
		ExtraHoldingCost:      diff(2, -1),
		MitigationCost:        diff(3, -1),
		AvoidedLost:           summarize(al, false),
	}
}
