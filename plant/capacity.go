package plant

import (
	"fmt"
	"math"
)

// Quantity is a number with where it came from.
type Quantity struct {
	Value  float64 `json:"value"`
	Source string  `json:"source"`
}

// CapacityInput holds the terms of a separation plant's effective
// capacity. ScaleUp may be left zero: it then counts as 1 with the source
// "no scale-up correction". Nameplate is optional.
type CapacityInput struct {
	Trains                   Quantity  `json:"trains"`
	DesignThroughputPerTrain Quantity  `json:"design_throughput_per_train"` // t REO/yr of feed per train
	Recovery                 Quantity  `json:"recovery"`                    // fraction of feed REO to product
	ScaleUp                  Quantity  `json:"scale_up"`                    // factor from the process twin's scale to the plant's
	Availability             Quantity  `json:"availability"`                // steady-state availability of one train
	Nameplate                *Quantity `json:"nameplate,omitempty"`         // t REO/yr, for the sanity check
	// Band is the accepted ratio of effective capacity to nameplate,
	// [Band[0], Band[1]]; zero means [0.2, 1.05].
	Band [2]float64 `json:"band"`
}

// CapacityResult is the effective capacity with every term and its source,
// the formula, and the nameplate check.
type CapacityResult struct {
	TonnesReoPerYear float64    `json:"tonnes_reo_per_year"`
	Formula          string     `json:"formula"`
	Terms            []Term     `json:"terms"`
	NameplateRatio   *float64   `json:"nameplate_ratio,omitempty"`
	Warnings         []string   `json:"warnings"`
	Band             [2]float64 `json:"band"`
}

// Term is one factor of the capacity with its provenance.
type Term struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Source string  `json:"source"`
}

// EffectiveCapacity multiplies the terms (package documentation,
// "Effective capacity"). Terms without a source, out of range or not
// finite are errors naming the term; a result outside the nameplate band
// is a warning, not an error, so the caller can show it and decide.
func EffectiveCapacity(in CapacityInput) (*CapacityResult, error) {
	if in.ScaleUp == (Quantity{}) {
		in.ScaleUp = Quantity{Value: 1, Source: "no scale-up correction (the recovery is taken as plant-scale)"}
	}
	terms := []struct {
		name   string
		q      Quantity
		lo, hi float64
	}{
		{"trains", in.Trains, 1, math.Inf(1)},
		{"design_throughput_per_train", in.DesignThroughputPerTrain, 0, math.Inf(1)},
		{"recovery", in.Recovery, 0, 1},
		{"scale_up", in.ScaleUp, 0, math.Inf(1)},
		{"availability", in.Availability, 0, 1},
	}
	res := &CapacityResult{
		Formula:  "trains × design_throughput_per_train × recovery × scale_up × availability",
		Warnings: []string{},
		Band:     in.Band,
	}
	if res.Band == [2]float64{} {
		res.Band = [2]float64{0.2, 1.05}
	}
	v := 1.0
	for _, t := range terms {
		switch {
		case math.IsNaN(t.q.Value) || math.IsInf(t.q.Value, 0):
			return nil, fmt.Errorf("plant: %s: %v is not a finite number", t.name, t.q.Value)
		case t.q.Value < t.lo || t.q.Value > t.hi || (t.q.Value == 0 && t.lo == 0 && t.name != "availability" && t.name != "recovery"):
			return nil, fmt.Errorf("plant: %s: %v is out of range [%v, %v]", t.name, t.q.Value, t.lo, t.hi)
		case t.q.Source == "":
			return nil, fmt.Errorf("plant: %s: no source (every term of a capacity carries its provenance)", t.name)
		}
		if t.name == "trains" && t.q.Value != math.Trunc(t.q.Value) {
			return nil, fmt.Errorf("plant: trains: %v is not a whole number", t.q.Value)
		}
		v *= t.q.Value
		res.Terms = append(res.Terms, Term{Name: t.name, Value: t.q.Value, Source: t.q.Source})
	}
	res.TonnesReoPerYear = v
	if in.Nameplate != nil {
		np := *in.Nameplate
		if !(np.Value > 0) || math.IsInf(np.Value, 0) {
			return nil, fmt.Errorf("plant: nameplate: %v must be a positive number", np.Value)
		}
		if np.Source == "" {
			return nil, fmt.Errorf("plant: nameplate: no source")
		}
		r := v / np.Value
		res.NameplateRatio = &r
		res.Terms = append(res.Terms, Term{Name: "nameplate", Value: np.Value, Source: np.Source})
		switch {
		case r < res.Band[0]:
			res.Warnings = append(res.Warnings, fmt.Sprintf("effective capacity %.4g t/yr is %.3g of the nameplate %.4g t/yr, below %.3g: check the recovery's scale (a bench-scale simulation is not a plant) and the units", v, r, np.Value, res.Band[0]))
		case r > res.Band[1]:
			res.Warnings = append(res.Warnings, fmt.Sprintf("effective capacity %.4g t/yr is %.3g of the nameplate %.4g t/yr, above %.3g: a plant rarely beats its nameplate; check the design throughput and availability", v, r, np.Value, res.Band[1]))
		}
	}
	return res, nil
}
