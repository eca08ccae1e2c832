package sx

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
)

// BatchPoint is one measured batch (single-contact) equilibrium.
type BatchPoint struct {
	Label      string             // source study, e.g. "Lyon (2016)"
	H0         float64            // initial aqueous H⁺, mol/L
	Extractant float64            // extractant as HA monomer, mol/L of organic
	PhaseRatio float64            // O/A by volume; 0 means 1 (the usual assumption when the data do not say)
	Feed       map[string]float64 // aqueous feed, mol/L per element
	D          map[string]float64 // measured D per element; missing or ≤ 0 means not measured
}

// ElementFit is the fitted extraction constant of one element.
type ElementFit struct {
	Element string
	LogK    float64 // log10 K_ex of MassAction, fitted on all points
	Points  int     // points with a measured D of the element
	FitRMS  float64 // RMS error in log10 D of the fit on all points
	LOORMS  float64 // leave-one-out RMS error in log10 D
	LOOMax  float64 // largest leave-one-out error in log10 D
	// LOOErrors are the leave-one-out errors log10 D_pred − log10 D_meas,
	// in the order of the element's points.
	LOOErrors []float64
}

// FitResult holds one ElementFit per element, sorted by symbol.
type FitResult struct {
	Elements []ElementFit
}

// Charge of the rare-earth cations fitted; all data in the LLEPE set are M³⁺.
const fitCharge = 3

// Fit estimates log10 K_ex of MassAction for every element with measured
// D in points, by least squares in log10 D, and the leave-one-out error of
// each point. The model of a point is one equilibrium stage (Solve with one
// stage, chloride media) fed with the aqueous feed at H0 and the organic at
// Extractant and PhaseRatio: free extractant is depleted by loading (6 HA
// per M³⁺) and 3 H⁺ are released per M³⁺ extracted (process-twin.md §d.6).
// Elements are fitted one at a time by golden-section search, with the
// other elements of multi-element points at their current estimates, in
// sweeps until the estimates settle. A leave-one-out refit refits the
// elements measured in the left-out point, starting from the full fit, and
// keeps the others at the full fit (they see that point only through
// competition for the extractant).
func Fit(ctx context.Context, points []BatchPoint) (*FitResult, error) {
	for i, p := range points {
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("sx: fit: points[%d] (%s): %w", i, p.Label, err)
		}
	}
	elems := measuredElements(points)
	if len(elems) == 0 {
		return nil, fmt.Errorf("sx: fit: no point has a measured D")
	}
	logK, err := fitAll(ctx, points, elems, -1, nil)
	if err != nil {
		return nil, err
	}
	res := &FitResult{}
	for _, e := range elems {
		ef := ElementFit{Element: e, LogK: logK[e]}
		var ss, loo float64
		for j, p := range points {
			if !(p.D[e] > 0) {
				continue
			}
			ef.Points++
			pred, err := PredictBatch(ctx, p, logK)
			if err != nil {
				return nil, err
			}
			r := math.Log10(pred[e]) - math.Log10(p.D[e])
			ss += r * r
			// Leave point j out, refit the elements measured in it (the
			// others keep the full fit: they see point j only through
			// competition for extractant), predict it.
			lk, err := fitAll(ctx, points, measuredElements([]BatchPoint{p}), j, logK)
			if err != nil {
				return nil, err
			}
			pred, err = PredictBatch(ctx, p, lk)
			if err != nil {
				return nil, err
			}
			r = math.Log10(pred[e]) - math.Log10(p.D[e])
			ef.LOOErrors = append(ef.LOOErrors, r)
			loo += r * r
			ef.LOOMax = math.Max(ef.LOOMax, math.Abs(r))
		}
		ef.FitRMS = math.Sqrt(ss / float64(ef.Points))
		ef.LOORMS = math.Sqrt(loo / float64(ef.Points))
		res.Elements = append(res.Elements, ef)
	}
	return res, nil
}

func (p BatchPoint) validate() error {
	for _, v := range []struct {
		n string
		v float64
	}{{"h0", p.H0}, {"extractant", p.Extractant}, {"phase_ratio", p.PhaseRatio}} {
		if !finiteNonNeg(v.v) {
			return fmt.Errorf("%s: %v, want a finite value ≥ 0", v.n, v.v)
		}
	}
	if p.Extractant == 0 {
		return fmt.Errorf("extractant: 0")
	}
	// Elements in sorted order, so that of several bad ones the same is
	// reported every time.
	for _, e := range slices.Sorted(maps.Keys(p.Feed)) {
		if c := p.Feed[e]; !finiteNonNeg(c) {
			return fmt.Errorf("feed.%s: %v", e, c)
		}
	}
	for _, e := range slices.Sorted(maps.Keys(p.D)) {
		d := p.D[e]
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return fmt.Errorf("d.%s: %v", e, d)
		}
		if d > 0 && !(p.Feed[e] > 0) {
			return fmt.Errorf("d.%s: measured D without a feed concentration", e)
		}
	}
	return nil
}

func measuredElements(points []BatchPoint) []string {
	set := map[string]bool{}
	for _, p := range points {
		for e, d := range p.D {
			if d > 0 {
				set[e] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// fitAll fits every element of elems, leaving out point skip (−1: none),
// starting from warm when given (a leave-one-out refit starts from the
// full fit).
func fitAll(ctx context.Context, points []BatchPoint, elems []string, skip int, warm map[string]float64) (map[string]float64, error) {
	logK := map[string]float64{}
	for e, k := range warm {
		logK[e] = k // elements not refitted keep these
	}
	// Start from the mean of the per-point constants implied by the data.
	for _, e := range elems {
		if _, ok := warm[e]; ok {
			continue
		}
		var s float64
		var n int
		for j, p := range points {
			if j == skip || !(p.D[e] > 0) {
				continue
			}
			s += impliedLogK(p, e)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("sx: fit: %s has no point left to fit", e)
		}
		logK[e] = s / float64(n)
	}
	// Elements in feeds without a measured D keep no K: they must not be there.
	for j, p := range points {
		if j == skip {
			continue
		}
		for _, e := range slices.Sorted(maps.Keys(p.Feed)) {
			if _, ok := logK[e]; !ok && p.Feed[e] > 0 {
				return nil, fmt.Errorf("sx: fit: %s is fed in %q but has no measured D", e, p.Label)
			}
		}
	}
	sweeps := 1
	if len(elems) > 1 {
		sweeps = 8
	}
	width := 2.0
	if warm != nil {
		width = 0.5
	}
	for sw := 0; sw < sweeps; sw++ {
		var change float64
		for _, e := range elems {
			obj := func(lk float64) (float64, error) {
				logK[e] = lk
				var ss float64
				for j, p := range points {
					if j == skip || !(p.D[e] > 0) {
						continue
					}
					pred, err := PredictBatch(ctx, p, logK)
					if err != nil {
						return 0, err
					}
					r := math.Log10(pred[e]) - math.Log10(p.D[e])
					ss += r * r
				}
				return ss, nil
			}
			start := logK[e]
			lo, hi := start-width, start+width
			var best float64
			for {
				b, err := golden(obj, lo, hi, 1e-7)
				if err != nil {
					return nil, err
				}
				best = b
				// Widen the bracket when the minimum sits on its edge.
				if best-lo < 1e-3 && lo > start-20 {
					lo, hi = lo-2*width, lo+1e-3
					continue
				}
				if hi-best < 1e-3 && hi < start+20 {
					lo, hi = hi-1e-3, hi+2*width
					continue
				}
				break
			}
			change = math.Max(change, math.Abs(best-start))
			logK[e] = best
		}
		if change < 1e-6 {
			break
		}
	}
	return logK, nil
}

// impliedLogK returns log10 K of the ideal mass-action law that reproduces
// the measured D of element e at point p, with the other elements ignored.
func impliedLogK(p BatchPoint, e string) float64 {
	phi := p.PhaseRatio
	if phi == 0 {
		phi = 1
	}
	D := p.D[e]
	y := p.Feed[e] * D / (1 + phi*D)       // organic, from x0 = x + φ·y and y = D·x
	free := 0.5*p.Extractant - fitCharge*y // free dimer
	h := p.H0 + fitCharge*phi*y            // protons released
	if free <= 0 || h <= 0 {
		return math.Log10(D)
	}
	return math.Log10(D) - fitCharge*math.Log10(free/h)
}

// golden minimises f on [a, b] by golden-section search.
func golden(f func(float64) (float64, error), a, b, tol float64) (float64, error) {
	g := (math.Sqrt(5) - 1) / 2
	c, d := b-g*(b-a), a+g*(b-a)
	fc, err := f(c)
	if err != nil {
		return 0, err
	}
	fd, err := f(d)
	if err != nil {
		return 0, err
	}
	for b-a > tol {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			if fc, err = f(c); err != nil {
				return 0, err
			}
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			if fd, err = f(d); err != nil {
				return 0, err
			}
		}
	}
	return (a + b) / 2, nil
}

// PredictBatch returns the distribution ratio of every element fed in p,
// by solving one ideal mass-action equilibrium stage with constants logK
// (log10 K_ex per element, M³⁺, chloride media).
func PredictBatch(ctx context.Context, p BatchPoint, logK map[string]float64) (map[string]float64, error) {
	var elems []string
	for e, c := range p.Feed {
		if c > 0 {
			elems = append(elems, e)
		}
	}
	sort.Strings(elems)
	comps := make([]Component, len(elems))
	lk := make([]float64, len(elems))
	feed := make([]float64, len(elems))
	for i, e := range elems {
		k, ok := logK[e]
		if !ok {
			return nil, fmt.Errorf("sx: predict batch: no log K for %s", e)
		}
		comps[i] = Component{Name: e, Charge: fitCharge}
		lk[i] = k
		feed[i] = p.Feed[e]
	}
	phi := p.PhaseRatio
	if phi == 0 {
		phi = 1
	}
	h0 := p.H0
	if h0 == 0 {
		h0 = 1e-7
	}
	prob := Problem{
		Stages: 1, Components: comps,
		Inlets: []Inlet{
			{Phase: Aqueous, Stage: 1, Flow: 1, Conc: feed, H: h0},
			{Phase: Organic, Stage: 1, Flow: phi, Extractant: p.Extractant},
		},
		Model: MassAction{LogK: lk},
	}
	res, err := Solve(ctx, prob, nil)
	if err != nil {
		return nil, fmt.Errorf("sx: predict batch %q: %w", p.Label, err)
	}
	out := make(map[string]float64, len(elems))
	for i, e := range elems {
		out[e] = res.D[0][i]
	}
	return out, nil
}
