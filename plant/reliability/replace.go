package reliability

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// ReplaceSpec is an item for the age-replacement policy: its Weibull life
// (shape β, scale η, any time unit) and the cost of a preventive and of a
// failure (corrective) replacement, in any currency unit.
type ReplaceSpec struct {
	Shape          float64 `json:"shape"`
	Scale          float64 `json:"scale"`
	CostPreventive float64 `json:"cost_preventive"`
	CostFailure    float64 `json:"cost_failure"`
}

// ReplaceResult is the optimum age-replacement interval and its long-run
// cost per unit time, with the run-to-failure cost rate to compare.
// Interval is nil when running to failure is optimal (β ≤ 1 or
// c_p ≥ c_f); CostRate then equals RunToFailureCostRate.
type ReplaceResult struct {
	Interval             *float64 `json:"interval"`
	CostRate             float64  `json:"cost_rate"`
	RunToFailureCostRate float64  `json:"run_to_failure_cost_rate"`
	RunToFailure         bool     `json:"run_to_failure"`
	// Saving is 1 − CostRate/RunToFailureCostRate.
	Saving float64 `json:"saving"`
	// ReliabilityAtInterval is R(T*), the share of items that reach the
	// preventive replacement (0 when running to failure).
	ReliabilityAtInterval float64 `json:"reliability_at_interval"`
}

// Validate checks a spec and names the first bad field.
func (s *ReplaceSpec) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
		zero bool // zero allowed
	}{{"shape", s.Shape, false}, {"scale", s.Scale, false}, {"cost_preventive", s.CostPreventive, true}, {"cost_failure", s.CostFailure, false}} {
		switch {
		case math.IsNaN(f.v) || math.IsInf(f.v, 0):
			return &DataError{Field: f.name, Reason: fmt.Sprintf("%v is not a finite number", f.v)}
		case f.v < 0 || (f.v == 0 && !f.zero):
			return &DataError{Field: f.name, Reason: fmt.Sprintf("%v must be positive", f.v)}
		}
	}
	return nil
}

// WeibullR is the Weibull survivor function R(t) = exp(−(t/η)^β).
func WeibullR(t, shape, scale float64) float64 { return math.Exp(-math.Pow(t/scale, shape)) }

// weibullIntR is ∫₀ᵀ R(t) dt = η Γ(1+1/β) P(1/β, (T/η)^β).
func weibullIntR(T, shape, scale float64) float64 {
	if T <= 0 {
		return 0
	}
	return scale * math.Gamma(1+1/shape) * mathext.GammaIncReg(1/shape, math.Pow(T/scale, shape))
}

// AgeReplacementCostRate is C(T), the long-run cost per unit time of
// replacing at age T or on failure, whichever comes first.
func AgeReplacementCostRate(s ReplaceSpec, T float64) float64 {
	R := WeibullR(T, s.Shape, s.Scale)
	return (s.CostPreventive*R + s.CostFailure*(1-R)) / weibullIntR(T, s.Shape, s.Scale)
}

// AgeReplacement finds the interval T* minimising C(T).
func AgeReplacement(s ReplaceSpec) (*ReplaceResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	mttf := s.Scale * math.Gamma(1+1/s.Shape)
	rtf := s.CostFailure / mttf
	res := &ReplaceResult{CostRate: rtf, RunToFailureCostRate: rtf, RunToFailure: true}
	if s.Shape <= 1 || s.CostPreventive >= s.CostFailure {
		return res, nil
	}
	// g(T) = h(T)∫R − F(T) − c_p/(c_f−c_p) increases from −c_p/(c_f−c_p).
	target := s.CostPreventive / (s.CostFailure - s.CostPreventive)
	g := func(T float64) float64 {
		x := math.Pow(T/s.Scale, s.Shape)
		h := s.Shape / s.Scale * math.Pow(T/s.Scale, s.Shape-1)
		return h*weibullIntR(T, s.Shape, s.Scale) + math.Expm1(-x) - target
	}
	lo, hi := 0.0, s.Scale
	for g(hi) < 0 {
		lo, hi = hi, hi*2
		if hi > s.Scale*1e12 {
			return res, nil // the optimum is beyond any horizon: run to failure
		}
	}
	for range 200 {
		mid := (lo + hi) / 2
		if g(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-12*hi {
			break
		}
	}
	T := (lo + hi) / 2
	c := AgeReplacementCostRate(s, T)
	if !(c < rtf) {
		return res, nil
	}
	res.Interval = &T
	res.CostRate = c
	res.RunToFailure = false
	res.Saving = 1 - c/rtf
	res.ReliabilityAtInterval = WeibullR(T, s.Shape, s.Scale)
	return res, nil
}
