package reliability

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Likelihood-ratio bounds (Meeker & Escobar 1998, §8.2; Lawless 2003,
// §5.2): the set of values p of one parameter whose profile
// log-likelihood, maximised over the other parameter, is within
// χ²₁(confidence)/2 of the maximum. They follow the likelihood's shape,
// so they are asymmetric where it is, and are better than Fisher bounds
// with few failures. Implemented for the three distributions.

// lrDrop is χ²₁(conf)/2, the drop of the log-likelihood at the bounds.
func lrDrop(conf float64) float64 {
	return distuv.ChiSquared{K: 1}.Quantile(conf) / 2
}

// solveDown finds x in the log-scale interval between from and a point
// where f < target, f(from) ≥ target, by expanding by factor then
// bisecting in ln x.
func solveDown(f func(float64) float64, from, factor, target float64) (float64, error) {
	lo, hi := from, from
	for range 64 { // 2^64: a bound beyond that is no bound
		hi *= factor
		if v := f(hi); !(v >= target) {
			break
		}
		lo = hi
	}
	if v := f(hi); v >= target {
		return 0, fmt.Errorf("reliability: likelihood-ratio bound not reached (the likelihood is flat)")
	}
	for range 200 {
		mid := math.Sqrt(lo * hi)
		if f(mid) >= target {
			lo = mid
		} else {
			hi = mid
		}
		if math.Abs(hi-lo) <= 1e-12*math.Abs(hi) {
			break
		}
	}
	return math.Sqrt(lo * hi), nil
}

func lrInterval(f func(float64) float64, at, target float64) ([2]float64, error) {
	lo, err := solveDown(f, at, 0.5, target)
	if err != nil {
		return [2]float64{}, err
	}
	hi, err := solveDown(f, at, 2, target)
	if err != nil {
		return [2]float64{}, err
	}
	return [2]float64{lo, hi}, nil
}

// weibullLL is the Weibull log-likelihood at (β, η).
func weibullLL(obs []Observation, beta, eta float64) float64 {
	var ll float64
	for _, o := range obs {
		l := math.Log(o.Time / eta)
		if o.Failed {
			ll += math.Log(beta/eta) + (beta-1)*l
		}
		ll -= math.Exp(beta * l)
	}
	return ll
}

// weibullBetaGivenEta maximises the log-likelihood over β for a fixed η:
// the score r/β + Σ_f ln(t/η) − Σ (t/η)^β ln(t/η) decreases in β.
func weibullBetaGivenEta(obs []Observation, eta float64, r int) float64 {
	score := func(beta float64) float64 {
		s := float64(r) / beta
		for _, o := range obs {
			l := math.Log(o.Time / eta)
			if o.Failed {
				s += l
			}
			s -= math.Exp(beta*l) * l
		}
		return s
	}
	lo, hi := 1e-6, 1.0
	for score(hi) > 0 && hi < 1e6 {
		lo, hi = hi, hi*2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if score(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-12*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// weibullEtaGivenBeta is η̂(β) = (Σ t^β / r)^(1/β).
func weibullEtaGivenBeta(obs []Observation, beta float64, r int) float64 {
	tmax := obs[len(obs)-1].Time
	var s float64
	for _, o := range obs {
		s += math.Exp(beta * math.Log(o.Time/tmax))
	}
	return tmax * math.Pow(s/float64(r), 1/beta)
}

// setLRBounds replaces res's bounds by likelihood-ratio bounds.
func setLRBounds(obs []Observation, res *FitResult) error {
	target := res.LogLikelihood - lrDrop(res.Confidence)
	switch res.Distribution {
	case Exponential:
		var total float64
		for _, o := range obs {
			total += o.Time
		}
		r := float64(res.Failures)
		ci, err := lrInterval(func(th float64) float64 { return -r*math.Log(th) - total/th }, res.Scale, target)
		if err != nil {
			return err
		}
		res.ScaleCI = ci
	case Weibull:
		r := res.Failures
		ci, err := lrInterval(func(b float64) float64 { return weibullLL(obs, b, weibullEtaGivenBeta(obs, b, r)) }, res.Shape, target)
		if err != nil {
			return err
		}
		res.ShapeCI = ci
		ci, err = lrInterval(func(e float64) float64 { return weibullLL(obs, weibullBetaGivenEta(obs, e, r), e) }, res.Scale, target)
		if err != nil {
			return err
		}
		res.ScaleCI = ci
	case Lognormal:
		mu, ls := math.Log(res.Scale), math.Log(res.Shape)
		ci, err := lrInterval(func(sigma float64) float64 { return lognormalProfile(obs, 0, math.Log(sigma), mu) }, res.Shape, target)
		if err != nil {
			return err
		}
		res.ShapeCI = ci
		ci, err = lrInterval(func(median float64) float64 { return lognormalProfile(obs, 1, math.Log(median), ls) }, res.Scale, target)
		if err != nil {
			return err
		}
		res.ScaleCI = ci
	default:
		return &DataError{Field: "bounds", Reason: fmt.Sprintf("likelihood-ratio bounds are not implemented for %s", res.Distribution)}
	}
	res.Bounds = BoundsLR
	return nil
}

// lognormalProfile maximises the lognormal log-likelihood over one of
// (μ, ln σ) with the other fixed at v (which = 0: μ is free, ln σ = v;
// which = 1: ln σ is free, μ = v), by Newton steps with step halving from
// start. It returns the maximum.
func lognormalProfile(obs []Observation, which int, v, start float64) float64 {
	mu, ls := start, v
	if which == 1 {
		mu, ls = v, start
	}
	ll, g, h := lognormalLL(obs, mu, math.Exp(ls))
	for range 100 {
		gi, hi := g[which], h[which][which]
		if math.Abs(gi) <= 1e-10*(1+math.Abs(ll)) {
			break
		}
		d := gi / float64(len(obs)) // gradient step when not concave here
		if hi < 0 {
			d = -gi / hi
		}
		step, improved := 1.0, false
		for range 60 {
			nmu, nls := mu, ls
			if which == 0 {
				nmu += step * d
			} else {
				nls += step * d
			}
			nll, ng, nh := lognormalLL(obs, nmu, math.Exp(nls))
			if nll >= ll && !math.IsNaN(nll) {
				mu, ls, ll, g, h, improved = nmu, nls, nll, ng, nh, true
				break
			}
			step /= 2
		}
		if !improved || math.Abs(step*d) < 1e-12 {
			break
		}
	}
	return ll
}

// WeibullPercentile returns the life t_p by which a share p of items have
// failed, t_p = η (−ln(1−p))^(1/β), for a Weibull fit res of obs, with its
// two-sided likelihood-ratio bounds at res.Confidence: the profile
// log-likelihood of t_p (maximised over β with η = t_p/(−ln(1−p))^(1/β))
// within χ²₁/2 of the maximum (Meeker & Escobar 1998, §8.3). B10 is p = 0.1.
func WeibullPercentile(obs []Observation, res *FitResult, p float64) (float64, [2]float64, error) {
	if res == nil || res.Distribution != Weibull {
		return 0, [2]float64{}, &DataError{Field: "distribution", Reason: "percentile bounds need a Weibull fit"}
	}
	if !(p > 0 && p < 1) {
		return 0, [2]float64{}, &DataError{Field: "p", Reason: fmt.Sprintf("%v is not in (0,1)", p)}
	}
	if err := Validate(obs); err != nil {
		return 0, [2]float64{}, err
	}
	k := -math.Log1p(-p)
	tp := res.Scale * math.Pow(k, 1/res.Shape)
	// Equal times are grouped (field data repeat them: the bearing-cage
	// data has 1,703 rows and 25 times).
	var lt, cnt []float64
	var sumFail float64 // Σ_failures ln t
	for i, o := range obs {
		l := math.Log(o.Time)
		if i > 0 && o.Time == obs[i-1].Time {
			cnt[len(cnt)-1]++
		} else {
			lt, cnt = append(lt, l), append(cnt, 1)
		}
		if o.Failed {
			sumFail += l
		}
	}
	r := float64(res.Failures)
	// ll is the Weibull log-likelihood at (β, ln η) from the log times.
	ll := func(b, le float64) float64 {
		v := r*(math.Log(b)-le) + (b-1)*(sumFail-r*le)
		for i, l := range lt {
			v -= cnt[i] * math.Exp(b*(l-le))
		}
		return v
	}
	// Golden-section search over ln β; the profile is unimodal in β.
	profile := func(t float64) float64 {
		f := func(lb float64) float64 {
			b := math.Exp(lb)
			return ll(b, math.Log(t)-math.Log(k)/b)
		}
		a, c := math.Log(res.Shape)-4, math.Log(res.Shape)+4
		g := (math.Sqrt(5) - 1) / 2
		for range 60 {
			x1, x2 := c-g*(c-a), a+g*(c-a)
			if f(x1) > f(x2) {
				c = x2
			} else {
				a = x1
			}
		}
		return f((a + c) / 2)
	}
	ci, err := lrInterval(profile, tp, res.LogLikelihood-lrDrop(res.Confidence))
	return tp, ci, err
}
