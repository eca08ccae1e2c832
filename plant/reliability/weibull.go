package reliability

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// errDegenerate is returned when every failure and suspension is at the
// same time: the likelihood grows without bound in the shape.
var errDegenerate = errors.New("reliability: time: every failure is at the longest time and no spread is left: the Weibull shape is unbounded (add data with different times or use --distribution exponential)")

func normalQuantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// weibullProfile returns the derivative of the profile log-likelihood in
// β (divided by r) and its derivative in β. lu holds ln(t/t_max) of every
// observation, so that e^(β·lu) ≤ 1 never overflows. The value increases
// in β (its derivative, a variance plus 1/β², is positive).
func weibullProfile(lu []float64, beta, meanLogFail float64) (g, dg float64) {
	var s0, s1, s2 float64
	for _, l := range lu {
		p := math.Exp(beta * l)
		s0 += p
		s1 += p * l
		s2 += p * l * l
	}
	m := s1 / s0
	return m - 1/beta - meanLogFail, s2/s0 - m*m + 1/(beta*beta)
}

func fitWeibull(obs []Observation, z, conf float64) (*FitResult, error) {
	n, r := counts(obs)
	tmax := obs[n-1].Time // Validate has checked the order
	lu := make([]float64, n)
	var meanLogFail float64
	for i, o := range obs {
		lu[i] = math.Log(o.Time / tmax)
		if o.Failed {
			meanLogFail += lu[i]
		}
	}
	meanLogFail /= float64(r)
	// As β → ∞ the profile tends to −meanLogFail (≥ 0); it must be positive
	// for a root to exist.
	if -meanLogFail < 1e-12 {
		return nil, errDegenerate
	}
	lo, hi := 1e-3, 1.0
	for g, _ := weibullProfile(lu, hi, meanLogFail); g < 0; g, _ = weibullProfile(lu, hi, meanLogFail) {
		lo, hi = hi, hi*2
		if hi > 1e6 {
			return nil, errDegenerate
		}
	}
	for g, _ := weibullProfile(lu, lo, meanLogFail); g > 0 && lo > 1e-12; g, _ = weibullProfile(lu, lo, meanLogFail) {
		lo /= 10
	}
	// Newton steps kept inside the bracket [lo, hi], bisection otherwise.
	beta := (lo + hi) / 2
	for range 200 {
		g, dg := weibullProfile(lu, beta, meanLogFail)
		if g < 0 {
			lo = beta
		} else {
			hi = beta
		}
		next := beta - g/dg
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		if math.Abs(next-beta) <= 1e-13*beta || hi-lo <= 1e-13*hi {
			beta = next
			break
		}
		beta = next
	}
	var s0 float64
	for _, l := range lu {
		s0 += math.Exp(beta * l)
	}
	eta := tmax * math.Pow(s0/float64(r), 1/beta)
	ll, info := weibullInfo(obs, beta, eta)
	seB, seE, ok := inverseSE(info)
	res := &FitResult{
		Distribution: Weibull, Shape: beta, Scale: eta, MTTF: eta * math.Gamma(1+1/beta),
		N: n, Failures: r, LogLikelihood: ll, AIC: 4 - 2*ll, Confidence: conf,
	}
	if ok {
		res.ShapeCI = bounds(beta, seB, z)
		res.ScaleCI = bounds(eta, seE, z)
	} else {
		res.ShapeCI = [2]float64{0, math.MaxFloat64}
		res.ScaleCI = [2]float64{0, math.MaxFloat64}
	}
	return res, nil
}

// weibullInfo returns the log-likelihood at (β, η) and the observed
// information matrix in the log parameters (ln β, ln η), valid at the MLE
// (where the gradient vanishes, so the change of variables is D·I·D).
func weibullInfo(obs []Observation, beta, eta float64) (float64, [2][2]float64) {
	var r, ll, sx, sxl, sxll float64
	for _, o := range obs {
		l := math.Log(o.Time / eta)
		x := math.Exp(beta * l)
		if o.Failed {
			r++
			ll += math.Log(beta/eta) + (beta-1)*l
		}
		ll -= x
		sx += x
		sxl += x * l
		sxll += x * l * l
	}
	hbb := -r/(beta*beta) - sxll
	hee := (beta / (eta * eta)) * (r - (beta+1)*sx)
	hbe := -r/eta + sx/eta + beta/eta*sxl
	d := [2]float64{beta, eta}
	var info [2][2]float64
	h := [2][2]float64{{hbb, hbe}, {hbe, hee}}
	for i := range 2 {
		for j := range 2 {
			info[i][j] = -h[i][j] * d[i] * d[j]
		}
	}
	return ll, info
}

// inverseSE inverts a 2×2 information matrix and returns the standard
// errors of its two parameters; ok is false when it is not positive
// definite (a flat likelihood).
func inverseSE(m [2][2]float64) (se0, se1 float64, ok bool) {
	det := m[0][0]*m[1][1] - m[0][1]*m[1][0]
	if !(det > 0) || !(m[0][0] > 0) {
		return 0, 0, false
	}
	return math.Sqrt(m[1][1] / det), math.Sqrt(m[0][0] / det), true
}
