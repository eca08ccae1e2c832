package reliability

import (
	"fmt"
	"math"
)

// OEEInput is a continuous line's record over a period. Times share one
// unit, masses another; NameplateRate is mass per time unit.
type OEEInput struct {
	PlannedTime   float64 `json:"planned_time"`
	RunTime       float64 `json:"run_time"`
	NameplateRate float64 `json:"nameplate_rate"`
	Output        float64 `json:"output"`
	InSpecOutput  float64 `json:"in_spec_output"`
}

// OEEResult holds the three factors and their product.
type OEEResult struct {
	Availability float64 `json:"availability"`
	Performance  float64 `json:"performance"`
	Quality      float64 `json:"quality"`
	OEE          float64 `json:"oee"`
}

// OEE computes the overall equipment effectiveness of a continuous line
// (package documentation, "OEE of a continuous line").
func OEE(in OEEInput) (*OEEResult, error) {
	check := func(name string, v float64, zero bool) error {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (v == 0 && !zero) {
			return &DataError{Field: name, Reason: fmt.Sprintf("%v must be a positive number", v)}
		}
		return nil
	}
	for _, f := range []struct {
		n    string
		v    float64
		zero bool
	}{{"planned_time", in.PlannedTime, false}, {"run_time", in.RunTime, true}, {"nameplate_rate", in.NameplateRate, false}, {"output", in.Output, true}, {"in_spec_output", in.InSpecOutput, true}} {
		if err := check(f.n, f.v, f.zero); err != nil {
			return nil, err
		}
	}
	if in.RunTime > in.PlannedTime {
		return nil, &DataError{Field: "run_time", Reason: fmt.Sprintf("%v exceeds planned_time %v", in.RunTime, in.PlannedTime)}
	}
	if in.InSpecOutput > in.Output {
		return nil, &DataError{Field: "in_spec_output", Reason: fmt.Sprintf("%v exceeds output %v", in.InSpecOutput, in.Output)}
	}
	r := &OEEResult{Availability: in.RunTime / in.PlannedTime}
	if in.RunTime > 0 {
		r.Performance = in.Output / (in.NameplateRate * in.RunTime)
	}
	if in.Output > 0 {
		r.Quality = in.InSpecOutput / in.Output
	}
	r.OEE = r.Availability * r.Performance * r.Quality
	return r, nil
}
