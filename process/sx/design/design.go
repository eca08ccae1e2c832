package design

import (
	"errors"
	"fmt"
	"math"
)

// FeedPhase is the phase that carries the feed into the cascade.
type FeedPhase int

// The feed phases. An aqueous feed enters the last stage of the extraction
// section (stage n); an organic feed (a loaded organic from an upstream
// cascade) enters the first stage of the scrub section (stage n+1).
const (
	AqueousFeed FeedPhase = iota + 1
	OrganicFeed
)

// String returns "aqueous" or "organic".
func (p FeedPhase) String() string {
	switch p {
	case AqueousFeed:
		return "aqueous"
	case OrganicFeed:
		return "organic"
	}
	return fmt.Sprintf("feedphase(%d)", int(p))
}

// Regime says which section limits the design at Xu's optimum extraction
// ratios.
type Regime int

// The regimes. In the extraction-controlled regime the extraction ratio of
// the extraction section is at its optimum 1/√β and the extraction section
// needs 2·ln b/ln β stages; in the scrub-controlled regime the scrub
// section's ratio is at √β and it needs 2·ln a/ln β stages.
const (
	ExtractionControlled Regime = iota + 1
	ScrubControlled
)

// String returns "extraction-controlled" or "scrub-controlled".
func (r Regime) String() string {
	switch r {
	case ExtractionControlled:
		return "extraction-controlled"
	case ScrubControlled:
		return "scrub-controlled"
	}
	return fmt.Sprintf("regime(%d)", int(r))
}

// Spec is a binary A/B split: A is the more extractable component.
type Spec struct {
	Beta          float64   // separation factor β = D_A/D_B > 1
	FeedFractionA float64   // f_A, mole fraction of A in the rare earths of the feed, in (0,1)
	PurityA       float64   // P_A, purity of A in the organic product (extract), in (f_A, 1)
	PurityB       float64   // P_B, purity of B in the aqueous product (raffinate), in (1−f_A, 1)
	Feed          FeedPhase // phase of the feed
}

// FieldError is a bad value in a Spec, naming the field by its JSON name.
type FieldError struct {
	Field string // e.g. "beta"
	Msg   string
}

// Error returns "design: FIELD: MSG".
func (e *FieldError) Error() string { return "design: " + e.Field + ": " + e.Msg }

// Validate checks the spec and returns a *FieldError naming the field.
func (s Spec) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case bad(s.Beta) || s.Beta <= 1:
		return &FieldError{"beta", fmt.Sprintf("%v, want a finite separation factor > 1", s.Beta)}
	case bad(s.FeedFractionA) || s.FeedFractionA <= 0 || s.FeedFractionA >= 1:
		return &FieldError{"feed_fraction_A", fmt.Sprintf("%v is outside (0,1)", s.FeedFractionA)}
	case bad(s.PurityA) || s.PurityA <= 0 || s.PurityA >= 1:
		return &FieldError{"purity_A", fmt.Sprintf("%v is outside (0,1)", s.PurityA)}
	case bad(s.PurityB) || s.PurityB <= 0 || s.PurityB >= 1:
		return &FieldError{"purity_B", fmt.Sprintf("%v is outside (0,1)", s.PurityB)}
	case s.PurityA <= s.FeedFractionA:
		return &FieldError{"purity_A", fmt.Sprintf("%v is not above the feed fraction of A %v: nothing to separate", s.PurityA, s.FeedFractionA)}
	case s.PurityB <= 1-s.FeedFractionA:
		return &FieldError{"purity_B", fmt.Sprintf("%v is not above the feed fraction of B %v: nothing to separate", s.PurityB, 1-s.FeedFractionA)}
	case s.Feed != AqueousFeed && s.Feed != OrganicFeed:
		return &FieldError{"feed_phase", fmt.Sprintf("%v is neither aqueous nor organic", s.Feed)}
	}
	return nil
}

// Design is the result of Xu's theory for a binary split. Flows are moles
// of rare earth per mole of rare earth fed (Xu's normalisation).
type Design struct {
	Spec   Spec
	Regime Regime
	// FAPrime is f'_A, the fraction of the feed leaving with the A
	// product (the organic extract); FBPrime = 1 − FAPrime.
	FAPrime, FBPrime float64
	// S is the rare earth carried by the organic, W by the scrub liquor.
	// For an aqueous feed S is the organic flow of both sections and W the
	// aqueous flow of the scrub section; for an organic feed S is the
	// organic flow of the extraction section (S+1 in the scrub section) and
	// W the aqueous flow of both sections.
	S, W float64
	// SMin and WMin are the minimum flows: the pinch at the feed stage.
	SMin, WMin float64
	// EExtraction (E_M) and EScrub (E'_M) are the mixed extraction ratios
	// of the sections: RE in the organic over RE in the aqueous.
	EExtraction, EScrub float64
	// A and B are the purification factors of A and of B.
	A, B float64
	// N and M are the stage counts of the extraction section (including
	// the feed stage of an aqueous feed) and of the scrub section
	// (including the feed stage of an organic feed), rounded up; NExact and
	// MExact are Xu's values before rounding.
	N, M           int
	NExact, MExact float64
	// NMin is the minimum total number of stages at total reflux,
	// ln(a·b)/ln β (the Fenske analogue).
	NMin float64
}

// ErrInfeasible reports targets that Xu's theory cannot meet: the optimum
// flows leave a section with no separating power. Checked with errors.Is.
var ErrInfeasible = errors.New("design: infeasible")

// New designs the cascade of s by Xu Guangxian's theory of countercurrent
// extraction (equations in the package documentation).
func New(s Spec) (*Design, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	beta, fA := s.Beta, s.FeedFractionA
	fB := 1 - fA
	PA, PB := s.PurityA, s.PurityB
	d := &Design{Spec: s}
	d.FAPrime = (fA - 1 + PB) / (PA - 1 + PB)
	d.FBPrime = 1 - d.FAPrime
	d.A = (PA / (1 - PA)) / (fA / fB)
	d.B = (PB / (1 - PB)) / (fB / fA)
	d.NMin = math.Log(d.A*d.B) / math.Log(beta)
	rb := math.Sqrt(beta)
	switch s.Feed {
	case AqueousFeed:
		// Pinch at the feed stage: the aqueous there has the feed's
		// composition, the organic is in equilibrium with it.
		ys := beta * fA / (1 + (beta-1)*fA)
		d.WMin = d.FAPrime * (PA - ys) / (ys - fA)
		d.SMin = d.WMin + d.FAPrime
		if d.FAPrime > 1/(1+rb) {
			d.Regime = ScrubControlled
			d.W = d.FAPrime / (rb - 1)
		} else {
			d.Regime = ExtractionControlled
			d.W = (1 - rb*d.FAPrime) / (rb - 1)
		}
		d.S = d.W + d.FAPrime
		d.EExtraction = d.S / (d.W + 1)
		d.EScrub = d.S / d.W
	case OrganicFeed:
		// Pinch at the feed stage: the organic there has the feed's
		// composition, the aqueous is in equilibrium with it.
		xs := fA / (beta - (beta-1)*fA)
		d.SMin = d.FBPrime * (xs - (1 - PB)) / (fA - xs)
		d.WMin = d.SMin + d.FBPrime
		if d.FBPrime >= 1/(1+rb) {
			d.Regime = ExtractionControlled
			d.S = d.FBPrime / (rb - 1)
		} else {
			d.Regime = ScrubControlled
			d.S = (1 - rb*d.FBPrime) / (rb - 1)
		}
		d.W = d.S + d.FBPrime
		d.EExtraction = d.S / d.W
		d.EScrub = (d.S + 1) / d.W
	}
	ge, gs := math.Log(beta*d.EExtraction), math.Log(beta/d.EScrub)
	if !(ge > 0) || !(gs > 0) {
		return nil, fmt.Errorf("%w: extraction ratios E = %.4g, E' = %.4g leave a section without separating power (β = %v)", ErrInfeasible, d.EExtraction, d.EScrub, beta)
	}
	d.NExact = math.Log(d.B) / ge
	d.MExact = math.Log(d.A) / gs
	d.N = max(1, int(math.Ceil(d.NExact-1e-9)))
	d.M = max(1, int(math.Ceil(d.MExact-1e-9)))
	return d, nil
}
