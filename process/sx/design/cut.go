package design

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"lodestone/process/sx"
)

// CutComponent is one rare earth of a multi-component feed.
type CutComponent struct {
	Name         string
	FeedFraction float64 // mole fraction in the rare earths of the feed
	// D is the relative extractability (any common scale): the
	// separation factor of two components is the ratio of their D.
	D float64
}

// CutSpec is a multi-component cut A1…Ak/Ak+1…At: the Cut most extractable
// components go to the extract (group A), the others to the raffinate
// (group B).
type CutSpec struct {
	Components []CutComponent
	Cut        int     // number of components in group A, 1..len−1
	PurityA    float64 // purity of group A in the extract
	PurityB    float64 // purity of group B in the raffinate
	Feed       FeedPhase
}

// CutDesign is the design of a cut: the binary design of group A against
// group B with the separation factor of the key pair, the two components
// next to the cut (the least extractable of A and the most extractable of
// B). The other components are separated more easily than the key pair,
// so the key pair sets the flows and the stage counts, as in the binary
// theory (Xu's treatment of a multi-component cut; Cheng et al. 2015 [S19]
// give exact minimum flows for it, not implemented here).
type CutDesign struct {
	*Design
	Components []CutComponent // sorted by D, most extractable first
	Cut        int
	KeyA, KeyB string
}

// NewCut designs the cut s.
func NewCut(s CutSpec) (*CutDesign, error) {
	if len(s.Components) < 2 {
		return nil, &FieldError{"components", fmt.Sprintf("%d given, want at least 2", len(s.Components))}
	}
	seen := map[string]bool{}
	sum := 0.0
	for i, c := range s.Components {
		f := fmt.Sprintf("components[%d]", i)
		switch {
		case c.Name == "":
			return nil, &FieldError{f + ".name", "empty"}
		case seen[c.Name]:
			return nil, &FieldError{f + ".name", fmt.Sprintf("%q given twice", c.Name)}
		case math.IsNaN(c.FeedFraction) || c.FeedFraction <= 0 || c.FeedFraction >= 1:
			return nil, &FieldError{f + ".feed_fraction", fmt.Sprintf("%v is outside (0,1)", c.FeedFraction)}
		case math.IsNaN(c.D) || math.IsInf(c.D, 0) || c.D <= 0:
			return nil, &FieldError{f + ".D", fmt.Sprintf("%v, want a finite value > 0", c.D)}
		}
		seen[c.Name] = true
		sum += c.FeedFraction
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, &FieldError{"components", fmt.Sprintf("feed fractions sum to %v, want 1", sum)}
	}
	if s.Cut < 1 || s.Cut >= len(s.Components) {
		return nil, &FieldError{"cut", fmt.Sprintf("%d is out of range 1..%d", s.Cut, len(s.Components)-1)}
	}
	comps := slices.Clone(s.Components)
	slices.SortStableFunc(comps, func(a, b CutComponent) int { return cmp.Compare(b.D, a.D) })
	ka, kb := comps[s.Cut-1], comps[s.Cut]
	if ka.D <= kb.D {
		return nil, &FieldError{"components", fmt.Sprintf("the key pair %s/%s has no separation factor above 1", ka.Name, kb.Name)}
	}
	fA := 0.0
	for _, c := range comps[:s.Cut] {
		fA += c.FeedFraction
	}
	d, err := New(Spec{Beta: ka.D / kb.D, FeedFractionA: fA, PurityA: s.PurityA, PurityB: s.PurityB, Feed: s.Feed})
	if err != nil {
		return nil, err
	}
	return &CutDesign{Design: d, Components: comps, Cut: s.Cut, KeyA: ka.Name, KeyB: kb.Name}, nil
}

// cutD is the multi-component form of sectionD: D_i relative to the B key
// in the extraction section and to the A key in the scrub section.
type cutD struct {
	dExt, dScr []float64
	n          int
}

// Validate checks the number of components.
func (m cutD) Validate(comps []sx.Component) error {
	if len(comps) != len(m.dExt) {
		return fmt.Errorf("design: %d components, want %d", len(comps), len(m.dExt))
	}
	return nil
}

// Distribution sets the D of the stage's section.
func (m cutD) Distribution(_ []sx.Component, stage int, _, _ float64, d, dh, df []float64) {
	src := m.dScr
	if stage <= m.n {
		src = m.dExt
	}
	copy(d, src)
	clear(dh)
	clear(df)
}

// SitesPerCharge returns 1; the check feeds extractant in excess.
func (m cutD) SitesPerCharge() float64 { return 1 }

// Problem returns the steady-state cascade that checks the cut with n
// extraction and m scrub stages, normalised as Design.Problem, with every
// component: D_i/D_keyB in the extraction section and D_i/D_keyA in the
// scrub section.
func (d *CutDesign) Problem(n, m int) sx.Problem {
	p := d.Design.Problem(n, m)
	C := len(d.Components)
	model := cutD{dExt: make([]float64, C), dScr: make([]float64, C), n: n}
	p.Components = make([]sx.Component, C)
	conc := make([]float64, C)
	dA, dB := d.Components[d.Cut-1].D, d.Components[d.Cut].D
	for i, c := range d.Components {
		p.Components[i] = sx.Component{Name: c.Name, Charge: 3}
		conc[i] = c.FeedFraction
		model.dExt[i], model.dScr[i] = c.D/dB, c.D/dA
	}
	p.Inlets[0].Conc = conc
	p.Model = model
	return p
}

// CutCheck is a cut verified by the rigorous solver.
type CutCheck struct {
	N, M             int
	PurityA, PurityB float64 // group purities in the extract and the raffinate
	// RecoveryA and RecoveryB are the fractions of group A fed leaving in
	// the extract and of group B in the raffinate; FAPrime the fraction of
	// all rare earth fed leaving in the extract.
	RecoveryA, RecoveryB, FAPrime float64
	Recovery                      []float64 // per component (sorted order): fraction of its feed leaving in its group's product
	Meets                         bool
	Closure                       float64
	Result                        *sx.Result
}

// CheckAt solves the cut's cascade with n extraction and m scrub stages.
func (d *CutDesign) CheckAt(ctx context.Context, n, m int) (*CutCheck, error) {
	if n < 1 || m < 1 {
		return nil, fmt.Errorf("design: check: stages n = %d, m = %d, want at least 1 each", n, m)
	}
	res, err := sx.Solve(ctx, d.Problem(n, m), nil)
	if err != nil {
		var ce *sx.ConvergenceError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("design: check at n = %d, m = %d: %w", n, m, err)
		}
		return nil, fmt.Errorf("design: check: %w", err)
	}
	c := &CutCheck{N: n, M: m, Result: res, Closure: res.MaxClosure(), Recovery: make([]float64, len(d.Components))}
	var extA, extT, rafB, rafT, inA, inB float64
	for i := range d.Components {
		if i < d.Cut {
			inA += res.In[i]
		} else {
			inB += res.In[i]
		}
		e := res.Extract.Flow * res.Extract.Conc[i]
		r := res.Raffinate.Flow * res.Raffinate.Conc[i]
		extT += e
		rafT += r
		if i < d.Cut {
			extA += e
			c.Recovery[i] = res.Recovery[1][i]
		} else {
			rafB += r
			c.Recovery[i] = res.Recovery[0][i]
		}
	}
	c.PurityA, c.PurityB = extA/extT, rafB/rafT
	c.RecoveryA, c.RecoveryB, c.FAPrime = extA/inA, rafB/inB, extT/(inA+inB)
	c.Meets = c.PurityA >= d.Spec.PurityA && c.PurityB >= d.Spec.PurityB
	return c, nil
}
