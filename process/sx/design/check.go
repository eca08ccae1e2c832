package design

import (
	"context"
	"errors"
	"fmt"

	"lodestone/process/sx"
)

// Check is the design verified by the rigorous steady-state solver of
// process/sx at given stage counts.
type Check struct {
	N, M int // extraction and scrub stages solved
	// PurityA is the purity of A in the extract (organic product), PurityB
	// that of B in the raffinate (aqueous product), mole basis.
	PurityA, PurityB float64
	// RecoveryA and RecoveryB are the fractions of the feed's A leaving in
	// the extract and of its B leaving in the raffinate.
	RecoveryA, RecoveryB float64
	// FAPrime is the fraction of the feed's rare earth leaving in the
	// extract.
	FAPrime float64
	// Meets says whether both purity targets are met.
	Meets bool
	// Closure is the largest mass-balance closure error of the solve.
	Closure float64
	// Result is the full steady state.
	Result *sx.Result
}

// sectionD is a constant-separation-factor model with one pair of
// distribution ratios per section: the linearisation of Xu's saturated
// equilibrium y_A = β·x_A/(1+(β−1)·x_A) (mole fractions, each phase with
// one unit of rare earth per unit volume) at the two ends of the cascade.
// In the extraction section, where the aqueous is nearly pure B,
// D_A = β and D_B = 1; in the scrub section, where the organic is nearly
// pure A, D_A = 1 and D_B = 1/β. β = D_A/D_B in every stage.
type sectionD struct {
	beta float64
	n    int // stages 1..n are the extraction section
}

// Validate accepts exactly two components, A and B.
func (m sectionD) Validate(comps []sx.Component) error {
	if len(comps) != 2 {
		return fmt.Errorf("design: %d components, want 2", len(comps))
	}
	return nil
}

// Distribution sets the pair of D of the stage's section.
func (m sectionD) Distribution(_ []sx.Component, stage int, _, _ float64, d, dh, df []float64) {
	if stage <= m.n {
		d[0], d[1] = m.beta, 1
	} else {
		d[0], d[1] = 1, 1/m.beta
	}
	dh[0], dh[1], df[0], df[1] = 0, 0, 0, 0
}

// SitesPerCharge returns 1; the check feeds extractant in excess.
func (m sectionD) SitesPerCharge() float64 { return 1 }

// Problem returns the steady-state cascade that checks the design with n
// extraction and m scrub stages: components "A" and "B" (index 0 and 1),
// volumes normalised so that each phase carries one mol/L of rare earth,
// as in Xu's idealisation: the feed is 1 L/h at f_A and f_B mol/L
// (aqueous at stage n, or organic at stage n+1), the scrub liquor W L/h
// at stage N = n+m, the fresh organic S L/h at stage 1. The equilibrium
// has a constant separation factor β with one pair of D per section (see
// the package documentation). Acid and extractant are fed in excess: the
// model ignores them.
func (d *Design) Problem(n, m int) sx.Problem {
	s := d.Spec
	feed := sx.Inlet{Name: "feed", Flow: 1, Conc: []float64{s.FeedFractionA, 1 - s.FeedFractionA}}
	if s.Feed == AqueousFeed {
		feed.Phase, feed.Stage, feed.H = sx.Aqueous, n, 10
	} else {
		feed.Phase, feed.Stage, feed.Extractant = sx.Organic, n+1, 100
	}
	return sx.Problem{
		Stages:     n + m,
		Components: []sx.Component{{Name: "A", Charge: 3}, {Name: "B", Charge: 3}},
		Media:      sx.Chloride,
		Inlets: []sx.Inlet{
			feed,
			{Name: "scrub", Phase: sx.Aqueous, Stage: n + m, Flow: d.W, H: 10},
			{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: d.S, Extractant: 100},
		},
		Model: sectionD{beta: s.Beta, n: n},
	}
}

// CheckAt solves the design's cascade (see Problem) with n extraction and
// m scrub stages and reports the purities and recoveries reached.
func (d *Design) CheckAt(ctx context.Context, n, m int) (*Check, error) {
	if n < 1 || m < 1 {
		return nil, fmt.Errorf("design: check: stages n = %d, m = %d, want at least 1 each", n, m)
	}
	res, err := sx.Solve(ctx, d.Problem(n, m), nil)
	if err != nil {
		var ce *sx.ConvergenceError
		if !errors.As(err, &ce) {
			return nil, fmt.Errorf("design: check: %w", err)
		}
		return nil, fmt.Errorf("design: check at n = %d, m = %d: %w", n, m, err)
	}
	c := &Check{N: n, M: m, Result: res, Closure: res.MaxClosure()}
	c.PurityA = res.Purity[1][0]
	c.PurityB = res.Purity[0][1]
	c.RecoveryA = res.Recovery[1][0]
	c.RecoveryB = res.Recovery[0][1]
	ext := res.Extract.Flow * (res.Extract.Conc[0] + res.Extract.Conc[1])
	c.FAPrime = ext / (res.In[0] + res.In[1])
	c.Meets = c.PurityA >= d.Spec.PurityA && c.PurityB >= d.Spec.PurityB
	return c, nil
}

// Check verifies the design at its rounded-up stage counts.
func (d *Design) Check(ctx context.Context) (*Check, error) {
	return d.CheckAt(ctx, d.N, d.M)
}

// Required finds, with the rigorous solver, the smallest total number of
// stages N = n+m that meets both purity targets at the design's flows, and
// the split of N between the sections that does it with the fewest scrub
// stages. For a given N the purity of A rises with m and that of B with n,
// so the splits that meet both targets form an interval, found by
// bisection. It gives up after maxStages stages in total (0 means 500).
func (d *Design) Required(ctx context.Context, maxStages int) (*Check, error) {
	if maxStages <= 0 {
		maxStages = 500
	}
	for N := 2; N <= maxStages; N++ {
		// Smallest m in 1..N-1 meeting the purity of A.
		lo, hi := 1, N-1
		var best *Check
		for lo <= hi {
			m := (lo + hi) / 2
			c, err := d.CheckAt(ctx, N-m, m)
			if err != nil {
				return nil, err
			}
			if c.PurityA >= d.Spec.PurityA {
				best, hi = c, m-1
			} else {
				lo = m + 1
			}
		}
		if best != nil && best.PurityB >= d.Spec.PurityB {
			return best, nil
		}
	}
	return nil, fmt.Errorf("%w: targets not met within %d stages", ErrInfeasible, maxStages)
}
