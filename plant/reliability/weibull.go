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

// weibullProfile is the derivative of the profile log-likelihood in β
// (up to the factor r), with times scaled by the longest one so that t^β
// never overflows. It increases in β.
func weibullProfile(obs []Observation, tmax, beta, meanLogFail float64) float64 {
	var s0, s1 float64
	for _, o := range obs {
		u := o.Time / tmax
		lu := math.Log(u)
		p := math.Pow(u, beta)
		s0 += p
		s1 += p * lu
	}
	return s1/s0 - 1/beta - meanLogFail
}

func fitWeibull(obs []Observation, z, conf float64) (*FitResult, error) {
	n, r := counts(obs)
	tmax := obs[n-1].Time // Validate has checked the order
	var meanLogFail float64
	for _, o := range obs {
		if o.Failed {
			meanLogFail += math.Log(o.Time / tmax)
		}
	}
	meanLogFail /= float64(r)
	// As β → ∞ the profile tends to −meanLogFail (≥ 0); it must be positive
	// for a root to exist.
	if -meanLogFail < 1e-12 {
		return nil, errDegenerate
	}
	lo, hi := 1e-3, 1.0
	for weibullProfile(obs, tmax, hi, meanLogFail) < 0 {
		lo, hi = hi, hi*2
		if hi > 1e6 {
			return nil, errDegenerate
		}
	}
	for weibullProfile(obs, tmax, lo, meanLogFail) > 0 && lo > 1e-12 {
		lo /= 10
	}
	for range 200 {
		mid := (lo + hi) / 2
		if weibullProfile(obs, tmax, mid, meanLogFail) < 0 {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-13*hi {
			break
		}
	}
	beta := (lo + hi) / 2
	var s0 float64
	for _, o := range obs {
		s0 += math.Pow(o.Time/tmax, beta)
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
