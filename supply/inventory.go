package supply

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// stdNormal is the standard normal distribution N(0, 1). Its methods used
// here (Prob, CDF, Quantile) only read it; it has no random source.
//
//lodestone:readonly
var stdNormal = distuv.Normal{Mu: 0, Sigma: 1}

// errInventory is returned for non-positive or non-finite inventory inputs.
var errInventory = errors.New("supply: inventory model parameters must be finite and positive")

func positive(vs ...float64) bool {
	for _, v := range vs {
		if !(v > 0) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// EOQ returns the economic order quantity Q* = √(2KD/h) and its cost per unit
// time √(2KDh), for fixed cost per order K, holding cost per unit per unit
// time h and demand rate D (Harris 1913; Snyder & Shen 2019, §3.2).
func EOQ(K, h, D float64) (Q, cost float64, err error) {
	if !positive(K, h, D) {
		return 0, 0, errInventory
	}
	return math.Sqrt(2 * K * D / h), math.Sqrt(2 * K * D * h), nil
}

// StandardNormalLoss returns G(z) = φ(z) − z(1 − Φ(z)), the expected shortfall
// E[(Z − z)⁺] of a standard normal variable.
func StandardNormalLoss(z float64) float64 {
	return stdNormal.Prob(z) - z*(1-stdNormal.CDF(z))
}

// NewsvendorNormal returns the optimal order quantity S* = μ + zσ with
// z = Φ⁻¹(p/(p+h)) and its expected cost (h+p)σφ(z), for holding (overage)
// cost h, stockout (underage) cost p and demand N(μ, σ²).
func NewsvendorNormal(h, p, mu, sigma float64) (S, cost float64, err error) {
	if !positive(h, p, sigma) || math.IsNaN(mu) {
		return 0, 0, errInventory
	}
	z := stdNormal.Quantile(p / (p + h))
	return mu + z*sigma, (h + p) * sigma * stdNormal.Prob(z), nil
}

// BaseStock is a periodic-review order-up-to policy for i.i.d. normal demand.
type BaseStock struct {
	Level    float64 // order-up-to level S = μτ + zσ√τ
	Z        float64 // safety factor
	FillRate float64 // type-2 (volume) fill rate β = 1 − σ√τ G(z)/(μR)
	CycleSL  float64 // type-1 cycle service level Φ(z)
}

// BaseStockNormal sizes an order-up-to level for demand N(μ, σ²) per
// period, lead time L and review period R (protection interval τ = L + R),
// with the cost-optimal safety factor z = Φ⁻¹(p/(p+h)) (research note b.4).
func BaseStockNormal(mu, sigma, L, R, h, p float64) (BaseStock, error) {
	if !positive(mu, sigma, R, h, p) || !(L >= 0) {
		return BaseStock{}, errInventory
	}
	z := stdNormal.Quantile(p / (p + h))
	return BaseStockZ(mu, sigma, L, R, z), nil
}

// BaseStockZ is BaseStockNormal for a given safety factor z (for example
// z = Φ⁻¹(α) for a cycle service level α).
func BaseStockZ(mu, sigma, L, R, z float64) BaseStock {
	tau := L + R
	sd := sigma * math.Sqrt(tau)
	return BaseStock{
		Level:    mu*tau + z*sd,
		Z:        z,
		FillRate: 1 - sd*StandardNormalLoss(z)/(mu*R),
		CycleSL:  stdNormal.CDF(z),
	}
}

// SSPolicy is the (s, S) policy of one period: order up to S when the
// inventory position is at or below s.
type SSPolicy struct {
	S, Small int // order-up-to level S and reorder point s
}

// SSFiniteHorizon solves the finite-horizon stochastic lot-sizing DP with
// fixed order cost K, unit cost c, holding h and backorder p per unit per
// period, terminal holding hT and backorder pT, and demand N(μ, σ²)
// discretized on the integers (each integer d takes the probability of
// [d−½, d+½)). Scarf (1960) shows an (s, S) policy is optimal; it returns one
// per period, first period first.
func SSFiniteHorizon(T int, K, c, h, p, hT, pT, mu, sigma float64) ([]SSPolicy, error) {
	if T <= 0 || !positive(h, p, sigma, mu) || K < 0 || c < 0 || hT < 0 || pT < 0 {
		return nil, errInventory
	}
	dLo := max(0, int(math.Floor(mu-8*sigma)))
	dHi := int(math.Ceil(mu + 8*sigma))
	pd := make([]float64, dHi-dLo+1)
	for d := dLo; d <= dHi; d++ {
		lo := float64(d) - 0.5
		if d == dLo {
			lo = math.Inf(-1)
		}
		pd[d-dLo] = distuv.Normal{Mu: mu, Sigma: sigma}.CDF(float64(d)+0.5) - distuv.Normal{Mu: mu, Sigma: sigma}.CDF(lo)
	}
	// States x in [xLo, xHi]; orders never push above xHi.
	span := dHi * (T + 1)
	xLo, xHi := -span, span
	nx := xHi - xLo + 1
	next := make([]float64, nx) // θ_{t+1}(x)
	for i := range next {
		x := float64(xLo + i)
		next[i] = hT*max(x, 0) + pT*max(-x, 0)
	}
	at := func(f []float64, x int) float64 {
		if x < xLo {
			return f[0] + float64(xLo-x)*(p+pT) // linear extrapolation far below
		}
		return f[x-xLo]
	}
	out := make([]SSPolicy, T)
	G := make([]float64, nx)
	cur := make([]float64, nx)
	for t := T - 1; t >= 0; t-- {
		for i := range nx {
			y := xLo + i
			g := c * float64(y)
			for k, pr := range pd {
				if pr == 0 {
					continue
				}
				r := float64(y - (dLo + k))
				g += pr * (h*max(r, 0) + p*max(-r, 0) + at(next, y-(dLo+k)))
			}
			G[i] = g
		}
		// S = argmin G; s = the largest x below S with G(x) > K + G(S).
		best := 0
		for i := range nx {
			if G[i] < G[best] {
				best = i
			}
		}
		s := xLo
		for i := best; i >= 0; i-- {
			if G[i] > G[best]+K {
				s = xLo + i
				break
			}
		}
		out[t] = SSPolicy{S: xLo + best, Small: s}
		minAbove := math.Inf(1)
		for i := nx - 1; i >= 0; i-- {
			// cheapest order-up-to level at or above x
			minAbove = min(minAbove, G[i])
			x := float64(xLo + i)
			cur[i] = min(G[i], K+minAbove) - c*x
			if xLo+i <= s {
				cur[i] = K + G[best] - c*x
			}
		}
		next, cur = cur, next
	}
	return out, nil
}

// SerialStage is one stage of a serial system for ClarkScarf, listed from
// the demand end (stage 1) upstream.
type SerialStage struct {
	EchelonHolding float64 // echelon holding cost h_j per unit per period
	LeadTime       float64 // shipment lead time L_j, periods
}

// ClarkScarfResult holds the optimal echelon base-stock levels (stage 1, the
// demand end, first) and the expected cost per period.
type ClarkScarfResult struct {
	Echelon []float64
	Cost    float64
}

// ClarkScarf computes optimal echelon base-stock levels of a serial system
// with normal demand N(μ, σ²) per period and stockout cost p per unit per
// period, by the Chen–Zheng (1994) recursion of Clark and Scarf (1960)
// (Snyder & Shen 2019, §6.2):
//
//	C_0(x) = (p + Σ_i h_i) x⁻
//	Ĉ_j(x) = h_j x + C_{j−1}(min(x, S*_{j−1}))     (no min for j = 1)
//	C_j(y) = E[Ĉ_j(y − D_j)],  D_j ~ N(μL_j, σ²L_j)
//	S*_j = argmin C_j,  cost = C_N(S*_N)
//
// evaluated on a grid of step σ/100 with the normal density integrated by
// the trapezoid rule.
func ClarkScarf(stages []SerialStage, p, mu, sigma float64) (ClarkScarfResult, error) {
	if len(stages) == 0 || !positive(p, mu, sigma) {
		return ClarkScarfResult{}, errInventory
	}
	sumH, sumL := 0.0, 0.0
	for _, s := range stages {
		if !positive(s.LeadTime) || !(s.EchelonHolding >= 0) {
			return ClarkScarfResult{}, errInventory
		}
		sumH += s.EchelonHolding
		sumL += s.LeadTime
	}
	dx := sigma / 100
	lo := -10 * sigma * math.Sqrt(sumL)
	hi := mu*sumL + 10*sigma*math.Sqrt(sumL)
	nx := int(math.Ceil((hi-lo)/dx)) + 1
	xs := func(i int) float64 { return lo + float64(i)*dx }
	prev := make([]float64, nx) // C_{j-1}(min(x, S*_{j-1})) on the grid
	for i := range nx {
		prev[i] = (p + sumH) * max(-xs(i), 0)
	}
	res := ClarkScarfResult{}
	cur := make([]float64, nx)
	for _, st := range stages {
		m := mu * st.LeadTime
		sd := sigma * math.Sqrt(st.LeadTime)
		k := int(math.Ceil(8 * sd / dx))
		w := make([]float64, 2*k+1)
		wsum := 0.0
		for j := range w {
			d := m + float64(j-k)*dx
			w[j] = distuv.Normal{Mu: m, Sigma: sd}.Prob(d)
			wsum += w[j]
		}
		for j := range w {
			w[j] /= wsum
		}
		chat := func(x float64) float64 {
			// Ĉ(x) = h x + prev(x); prev is constant above the grid's top and
			// linear (slope −(p+Σh)) below its bottom for stage 1. For later
			// stages prev is flat above S*_{j−1} and only queried inside.
			f := (x - lo) / dx
			i := int(math.Floor(f))
			var v float64
			switch {
			case i < 0:
				v = prev[0] + (p+sumH)*(lo-x)
			case i >= nx-1:
				v = prev[nx-1]
			default:
				fr := f - float64(i)
				v = prev[i]*(1-fr) + prev[i+1]*fr
			}
			return st.EchelonHolding*x + v
		}
		best, bestV := 0, math.Inf(1)
		for i := range nx {
			y := xs(i)
			v := 0.0
			for j, wj := range w {
				v += wj * chat(y-(m+float64(j-k)*dx))
			}
			cur[i] = v
			if v < bestV {
				best, bestV = i, v
			}
		}
		// Refine the minimum by a parabola through the neighbours.
		sStar := xs(best)
		if best > 0 && best < nx-1 {
			a, b, c := cur[best-1], cur[best], cur[best+1]
			den := a - 2*b + c
			if den > 0 {
				off := 0.5 * (a - c) / den
				sStar += off * dx
				bestV = b - 0.25*(a-c)*off
			}
		}
		res.Echelon = append(res.Echelon, sStar)
		res.Cost = bestV
		for i := range nx {
			if xs(i) > sStar {
				prev[i] = bestV
			} else {
				prev[i] = cur[i]
			}
		}
	}
	return res, nil
}
