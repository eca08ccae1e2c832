package reliability

import (
	"errors"
	"fmt"
	"math"
)

// Observation is one life record: how long the item ran and whether that
// ended in a failure (true) or a suspension (false, right-censored).
type Observation struct {
	Time   float64 // operating time, in the caller's unit (hours, cycles…)
	Failed bool
}

// Distribution names a life distribution.
type Distribution string

// The distributions Fit knows, and Auto, which lets the AIC choose.
const (
	Weibull     Distribution = "weibull"
	Exponential Distribution = "exponential"
	Lognormal   Distribution = "lognormal"
	Auto        Distribution = "auto"
)

// ErrNoFailures is returned when every observation is a suspension: no
// life distribution can be estimated from it. Checked with errors.Is.
var ErrNoFailures = errors.New("reliability: no failures (every row is a suspension): nothing to estimate")

// DataError names the row (1-based, data rows only) and field of bad life
// data and says why.
type DataError struct {
	Row    int
	Field  string
	Reason string
}

func (e *DataError) Error() string {
	if e.Row == 0 {
		return fmt.Sprintf("reliability: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("reliability: row %d: %s: %s", e.Row, e.Field, e.Reason)
}

// Validate checks life data: at least one observation, every time finite
// and positive, times in ascending order (a record sorted by time is how
// life data is kept; an unsorted one is often a mix-up of columns or units,
// so it is refused rather than silently sorted), and at least one failure.
func Validate(obs []Observation) error {
	if len(obs) == 0 {
		return &DataError{Field: "time", Reason: "no observations"}
	}
	failures := 0
	for i, o := range obs {
		switch {
		case math.IsNaN(o.Time) || math.IsInf(o.Time, 0):
			return &DataError{Row: i + 1, Field: "time", Reason: fmt.Sprintf("%v is not a finite number", o.Time)}
		case o.Time < 0:
			return &DataError{Row: i + 1, Field: "time", Reason: fmt.Sprintf("%v is negative", o.Time)}
		case o.Time == 0:
			return &DataError{Row: i + 1, Field: "time", Reason: "0: a life must be positive"}
		case i > 0 && o.Time < obs[i-1].Time:
			return &DataError{Row: i + 1, Field: "time", Reason: fmt.Sprintf("%v is less than the previous row's %v (times must be in ascending order)", o.Time, obs[i-1].Time)}
		}
		if o.Failed {
			failures++
		}
	}
	if failures == 0 {
		return ErrNoFailures
	}
	return nil
}

// FitOptions holds the knobs of Fit. The zero value (or nil) means a
// Weibull fit with 95 % two-sided bounds.
type FitOptions struct {
	Distribution Distribution // "" means Weibull
	Confidence   float64      // two-sided level of the bounds in (0,1); 0 means 0.95
	Bounds       string       // BoundsFisher ("" too) or BoundsLR
}

// The kinds of confidence bounds.
const (
	BoundsFisher = "fisher" // Fisher-matrix (observed information) bounds
	BoundsLR     = "lr"     // likelihood-ratio bounds
)

// FitResult is a fitted life distribution. Shape and Scale are the
// Weibull β and η, the exponential's 1 and θ, or the lognormal's σ and
// median e^μ. The bounds are Fisher-matrix bounds at Confidence.
type FitResult struct {
	Distribution  Distribution `json:"distribution"`
	Shape         float64      `json:"shape"`
	Scale         float64      `json:"scale"`
	MTTF          float64      `json:"mttf"`
	N             int          `json:"n"`
	Failures      int          `json:"failures"`
	LogLikelihood float64      `json:"log_likelihood"`
	ShapeCI       [2]float64   `json:"shape_ci"`
	ScaleCI       [2]float64   `json:"scale_ci"`
	AIC           float64      `json:"aic"`
	Confidence    float64      `json:"confidence"`
	Bounds        string       `json:"bounds"` // fisher or lr
	// Candidates holds every model fitted when Distribution was Auto, best
	// first; it is empty otherwise.
	Candidates []FitResult `json:"candidates,omitempty"`
}

// Fit estimates a life distribution from failures and suspensions by
// maximum likelihood. Bad data gives a *DataError or ErrNoFailures.
func Fit(obs []Observation, opts *FitOptions) (*FitResult, error) {
	if err := Validate(obs); err != nil {
		return nil, err
	}
	var o FitOptions
	if opts != nil {
		o = *opts
	}
	if o.Confidence == 0 {
		o.Confidence = 0.95
	}
	if !(o.Confidence > 0 && o.Confidence < 1) {
		return nil, &DataError{Field: "confidence", Reason: fmt.Sprintf("%v is not in (0,1)", o.Confidence)}
	}
	if o.Bounds != "" && o.Bounds != BoundsFisher && o.Bounds != BoundsLR {
		return nil, &DataError{Field: "bounds", Reason: fmt.Sprintf("%q is not fisher or lr", o.Bounds)}
	}
	z := normalQuantile(0.5 + o.Confidence/2)
	var res *FitResult
	var err error
	switch o.Distribution {
	case "", Weibull:
		res, err = fitWeibull(obs, z, o.Confidence)
	case Exponential:
		res = fitExponential(obs, z, o.Confidence)
	case Lognormal:
		res, err = fitLognormal(obs, z, o.Confidence)
	case Auto:
		res, err = fitAuto(obs, z, o.Confidence)
	default:
		return nil, &DataError{Field: "distribution", Reason: fmt.Sprintf("%q is not one of weibull, exponential, lognormal, auto", o.Distribution)}
	}
	if err != nil {
		return nil, err
	}
	res.Bounds = BoundsFisher
	if o.Bounds == BoundsLR {
		if err := setLRBounds(obs, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// fitAuto fits every distribution and keeps the one with the smallest
// AIC; on a tie the one with fewer parameters (the exponential) wins.
func fitAuto(obs []Observation, z, conf float64) (*FitResult, error) {
	exp := fitExponential(obs, z, conf)
	wb, err := fitWeibull(obs, z, conf)
	if err != nil {
		return nil, err
	}
	ln, err := fitLognormal(obs, z, conf)
	if err != nil {
		return nil, err
	}
	cands := []FitResult{*exp, *wb, *ln}
	for i := range cands {
		cands[i].Bounds = BoundsFisher
	}
	best := 0
	for i, c := range cands {
		if c.AIC < cands[best].AIC {
			best = i
		}
	}
	out := cands[best]
	// Best first, the others in the fixed order exponential, weibull, lognormal.
	out.Candidates = append([]FitResult{cands[best]}, append(append([]FitResult{}, cands[:best]...), cands[best+1:]...)...)
	return &out, nil
}

func counts(obs []Observation) (n, r int) {
	for _, o := range obs {
		if o.Failed {
			r++
		}
	}
	return len(obs), r
}

func bounds(p, seLog, z float64) [2]float64 {
	return [2]float64{p * math.Exp(-z*seLog), p * math.Exp(z*seLog)}
}

func fitExponential(obs []Observation, z, conf float64) *FitResult {
	n, r := counts(obs)
	var total float64
	for _, o := range obs {
		total += o.Time
	}
	theta := total / float64(r)
	ll := -float64(r)*math.Log(theta) - total/theta
	// Observed information of ln θ is r, so se(ln θ) = 1/√r.
	return &FitResult{
		Distribution: Exponential, Shape: 1, Scale: theta, MTTF: theta, N: n, Failures: r,
		LogLikelihood: ll, ShapeCI: [2]float64{1, 1}, ScaleCI: bounds(theta, 1/math.Sqrt(float64(r)), z),
		AIC: 2 - 2*ll, Confidence: conf,
	}
}
