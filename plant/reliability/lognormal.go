package reliability

import (
	"fmt"
	"math"
)

// normLogQ returns ln(1−Φ(z)) and the standard normal hazard φ(z)/(1−Φ(z)),
// accurate in the far tail (where 1−Φ underflows the hazard tends to z).
func normLogQ(z float64) (logQ, hazard float64) {
	q := 0.5 * math.Erfc(z/math.Sqrt2)
	logPhi := -0.5*z*z - 0.5*math.Log(2*math.Pi)
	if q < 1e-300 {
		// Mills ratio: 1−Φ(z) ≈ φ(z)/z for large z.
		return logPhi - math.Log(z), z
	}
	return math.Log(q), math.Exp(logPhi - math.Log(q))
}

// lognormalLL returns the log-likelihood at (μ, σ), its gradient and its
// Hessian in (μ, ln σ).
func lognormalLL(obs []Observation, mu, sigma float64) (ll float64, g [2]float64, h [2][2]float64) {
	for _, o := range obs {
		y := math.Log(o.Time)
		z := (y - mu) / sigma
		if o.Failed {
			ll += -math.Log(sigma) - y - 0.5*math.Log(2*math.Pi) - 0.5*z*z
			// d/dμ = z/σ; d/d(ln σ) = z² − 1.
			g[0] += z / sigma
			g[1] += z*z - 1
			h[0][0] += -1 / (sigma * sigma)
			h[0][1] += -2 * z / sigma
			h[1][1] += -2 * z * z
			continue
		}
		lq, lam := normLogQ(z)
		ll += lq
		// d ln Q/dz = −λ, dλ/dz = λ(λ−z); dz/dμ = −1/σ, dz/d(ln σ) = −z.
		dl := lam * (lam - z)
		g[0] += lam / sigma
		g[1] += lam * z
		h[0][0] += -dl / (sigma * sigma)
		h[0][1] += -lam/sigma - dl*z/sigma
		h[1][1] += -lam*z - dl*z*z
	}
	h[1][0] = h[0][1]
	return ll, g, h
}

func fitLognormal(obs []Observation, z, conf float64) (*FitResult, error) {
	n, r := counts(obs)
	// Start from the moments of the log failure times.
	var m, v float64
	for _, o := range obs {
		if o.Failed {
			m += math.Log(o.Time)
		}
	}
	m /= float64(r)
	for _, o := range obs {
		if o.Failed {
			d := math.Log(o.Time) - m
			v += d * d
		}
	}
	s := 1.0
	if r > 1 && v > 0 {
		s = math.Sqrt(v / float64(r))
	}
	mu, ls := m, math.Log(s)
	ll, g, h := lognormalLL(obs, mu, s)
	for it := 0; ; it++ {
		if it == 500 {
			return nil, fmt.Errorf("reliability: lognormal fit did not converge in 500 Newton steps (log-likelihood %v)", ll)
		}
		// Newton direction when the Hessian is negative definite, else the
		// gradient; halve the step until the likelihood rises.
		det := h[0][0]*h[1][1] - h[0][1]*h[1][0]
		var d0, d1 float64
		if h[0][0] < 0 && det > 0 {
			d0 = -(h[1][1]*g[0] - h[0][1]*g[1]) / det
			d1 = -(-h[1][0]*g[0] + h[0][0]*g[1]) / det
		} else {
			d0, d1 = g[0]*math.Exp(2*ls)/float64(n), g[1]/float64(n)
		}
		step := 1.0
		improved := false
		for range 60 {
			nmu, nls := mu+step*d0, ls+step*d1
			nll, ng, nh := lognormalLL(obs, nmu, math.Exp(nls))
			if nll >= ll-1e-12*math.Abs(ll) && !math.IsNaN(nll) {
				mu, ls, ll, g, h = nmu, nls, nll, ng, nh
				improved = true
				break
			}
			step /= 2
		}
		if !improved || math.Abs(step*d0)+math.Abs(step*d1) < 1e-11 {
			break
		}
	}
	if math.Abs(g[0])*math.Exp(ls)+math.Abs(g[1]) > 1e-6*float64(n) {
		return nil, fmt.Errorf("reliability: lognormal fit stopped away from a maximum (gradient %v, %v)", g[0], g[1])
	}
	sigma := math.Exp(ls)
	// Information in (μ, ln σ); se(ln median) = se(μ).
	info := [2][2]float64{{-h[0][0], -h[0][1]}, {-h[1][0], -h[1][1]}}
	seMu, seLs, ok := inverseSE(info)
	median := math.Exp(mu)
	res := &FitResult{
		Distribution: Lognormal, Shape: sigma, Scale: median, MTTF: math.Exp(mu + sigma*sigma/2),
		N: n, Failures: r, LogLikelihood: ll, AIC: 4 - 2*ll, Confidence: conf,
	}
	if ok {
		res.ShapeCI = bounds(sigma, seLs, z)
		res.ScaleCI = bounds(median, seMu, z)
	} else {
		res.ShapeCI = [2]float64{0, math.MaxFloat64}
		res.ScaleCI = [2]float64{0, math.MaxFloat64}
	}
	return res, nil
}
