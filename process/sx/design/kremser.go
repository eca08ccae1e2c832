package design

import (
	"fmt"
	"math"
)

// extracted is the Kremser fraction of the solute entering an n-stage
// countercurrent section in the aqueous that leaves in the organic, with
// solute-free organic fed at the other end and extraction factor e:
// (e^(n+1) − e)/(e^(n+1) − 1), n/(n+1) at e = 1 (process-twin.md §b.4).
// The same function of the stripping factor gives the fraction of the
// solute entering in the organic that is stripped into solute-free
// aqueous. The forms below avoid overflow for large n.
func extracted(e float64, n int) float64 {
	k := float64(n)
	switch {
	case e == 1:
		return k / (k + 1)
	case e > 1:
		return -math.Expm1(-k*math.Log(e)) / -math.Expm1(-(k+1)*math.Log(e))
	default:
		return e * -math.Expm1(k*math.Log(e)) / -math.Expm1((k+1)*math.Log(e))
	}
}

// Purities returns the purities of A in the extract and of B in the
// raffinate of the check cascade of [Design.Problem] with n extraction and
// m scrub stages, in closed form. The check model is linear in each
// component (constant D per section), so each component goes through the
// two sections independently: with ε the fraction extracted in the
// extraction section (extraction factor E_A = β·E_M or E_B = E_M) and φ
// the fraction stripped in the scrub section (stripping factor 1/E'_A =
// 1/E'_M or 1/E'_B = β/E'_M), the fractions of the component's feed
// leaving in the extract are
//
//	aqueous feed (stage n):   (1−φ)·ε/(1−ε·φ)
//	organic feed (stage n+1): (1−φ)/(1−ε·φ)
//
// This is the exact steady state of the model Xu's stage formulas are
// derived from (constant extraction factors per section); Xu's
// n = ln b/ln(β·E_M) and m = ln a/ln(β/E'_M) keep only the leading
// geometric term of these expressions (see the package documentation).
func (d *Design) Purities(n, m int) (purityA, purityB float64) {
	s := d.Spec
	fA := s.FeedFractionA
	ext := func(f, e, es float64) (toExtract float64) {
		eps := extracted(e, n)
		phi := extracted(1/es, m)
		if s.Feed == AqueousFeed {
			return f * (1 - phi) * eps / (1 - eps*phi)
		}
		return f * (1 - phi) / (1 - eps*phi)
	}
	xA := ext(fA, s.Beta*d.EExtraction, d.EScrub)
	xB := ext(1-fA, d.EExtraction, d.EScrub/s.Beta)
	rA, rB := fA-xA, (1-fA)-xB
	return xA / (xA + xB), rB / (rA + rB)
}

// KremserStages finds, from the closed form of [Design.Purities], the
// smallest total number of stages N = n+m that meets both purity targets at
// the design's flows, and the split of N with the fewest scrub stages: the
// same criterion as [Design.Required], without the solver. It gives up
// after maxStages stages in total (0 means 500).
func (d *Design) KremserStages(maxStages int) (n, m int, err error) {
	if maxStages <= 0 {
		maxStages = 500
	}
	for N := 2; N <= maxStages; N++ {
		// The purity of A rises with m and that of B with n (at fixed N);
		// the smallest m meeting the purity of A is found by bisection.
		lo, hi, best := 1, N-1, -1
		for lo <= hi {
			mm := (lo + hi) / 2
			if pa, _ := d.Purities(N-mm, mm); pa >= d.Spec.PurityA {
				best, hi = mm, mm-1
			} else {
				lo = mm + 1
			}
		}
		if best > 0 {
			if _, pb := d.Purities(N-best, best); pb >= d.Spec.PurityB {
				return N - best, best, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("%w: targets not met within %d stages", ErrInfeasible, maxStages)
}
