package reliability

import (
	"fmt"
	"math"
)

// maxOrders caps the preventive work orders listed per item, so a short
// interval over a long horizon cannot make an unbounded answer.
const maxOrders = 1000

// PlanItem is one maintainable item of a maintenance plan: its Weibull
// life, the costs of a preventive and a corrective replacement, the
// downtime of each, its present age and, optionally, a fixed interval
// (otherwise the age-replacement optimum is used). Times share the plan's
// unit (hours in the demo), costs one currency.
type PlanItem struct {
	ID             string   `json:"id"`
	Shape          float64  `json:"shape"`
	Scale          float64  `json:"scale"`
	CostPreventive float64  `json:"cost_preventive"`
	CostFailure    float64  `json:"cost_failure"`
	MTTRPreventive float64  `json:"mttr_preventive"`
	MTTRCorrective float64  `json:"mttr_corrective"`
	Age            float64  `json:"age,omitempty"`
	Interval       *float64 `json:"interval,omitempty"`
}

// PlanSpec is a maintenance plan request: the items and the horizon over
// which work is scheduled and costs are totalled.
type PlanSpec struct {
	Horizon float64    `json:"horizon"`
	Items   []PlanItem `json:"items"`
}

// WorkOrder is a scheduled preventive job (the WorkOrder twin's core).
type WorkOrder struct {
	ID        string  `json:"id"`
	Equipment string  `json:"equipment"`
	Kind      string  `json:"kind"`
	Due       float64 `json:"due"`
	Duration  float64 `json:"duration"`
}

// PlanItemResult is the plan for one item: the interval used (nil: run to
// failure), its long-run cost rate and availability, and the expected
// failures and cost over the horizon.
type PlanItemResult struct {
	ID               string      `json:"id"`
	Interval         *float64    `json:"interval"`
	Optimised        bool        `json:"optimised"`
	CostRate         float64     `json:"cost_rate"`
	Availability     float64     `json:"availability"`
	ExpectedFailures float64     `json:"expected_failures"`
	ExpectedCost     float64     `json:"expected_cost"`
	WorkOrders       []WorkOrder `json:"work_orders"`
	Truncated        bool        `json:"truncated,omitempty"`
}

// PlanResult is a maintenance plan: per item, and for the plant taken as
// a series of its items (every item needed to run).
type PlanResult struct {
	Horizon      float64          `json:"horizon"`
	Items        []PlanItemResult `json:"items"`
	ExpectedCost float64          `json:"expected_cost"`
	Availability float64          `json:"availability"`
}

// Plan schedules preventive replacements and reports expected cost and
// availability. Costs and availability are long-run renewal-reward
// figures: one cycle ends at a preventive replacement (age T) or a
// failure, and lasts ∫₀ᵀ R + d_p R(T) + d_f (1−R(T)) including downtime
// d_p or d_f; cost rate = [c_p R(T) + c_f (1−R(T))] / cycle length;
// availability = ∫₀ᵀ R / cycle length; expected failures over the horizon
// H = H (1−R(T)) / cycle length. The listed work orders are the plan as a
// maintenance system holds it: the first at T − age, then every T + d_p
// (a failure in between would reset the clock; the expected figures
// account for that, the list does not).
func Plan(spec PlanSpec) (*PlanResult, error) {
	if math.IsNaN(spec.Horizon) || math.IsInf(spec.Horizon, 0) || spec.Horizon <= 0 {
		return nil, &DataError{Field: "horizon", Reason: fmt.Sprintf("%v must be a positive number", spec.Horizon)}
	}
	if len(spec.Items) == 0 {
		return nil, &DataError{Field: "items", Reason: "no items to plan"}
	}
	out := &PlanResult{Horizon: spec.Horizon, Availability: 1}
	seen := map[string]bool{}
	for i, it := range spec.Items {
		path := fmt.Sprintf("items[%d].", i)
		if it.ID == "" {
			return nil, &DataError{Field: path + "id", Reason: "missing"}
		}
		if seen[it.ID] {
			return nil, &DataError{Field: path + "id", Reason: fmt.Sprintf("%q appears twice", it.ID)}
		}
		seen[it.ID] = true
		r, err := planItem(it, spec.Horizon, path)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, *r)
		out.ExpectedCost += r.ExpectedCost
		out.Availability *= r.Availability
	}
	return out, nil
}

func planItem(it PlanItem, horizon float64, path string) (*PlanItemResult, error) {
	rs := ReplaceSpec{Shape: it.Shape, Scale: it.Scale, CostPreventive: it.CostPreventive, CostFailure: it.CostFailure}
	if err := rs.Validate(); err != nil {
		de := err.(*DataError)
		return nil, &DataError{Field: path + de.Field, Reason: de.Reason}
	}
	for _, f := range []struct {
		n string
		v float64
	}{{"mttr_preventive", it.MTTRPreventive}, {"mttr_corrective", it.MTTRCorrective}, {"age", it.Age}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return nil, &DataError{Field: path + f.n, Reason: fmt.Sprintf("%v must be a non-negative number", f.v)}
		}
	}
	res := &PlanItemResult{ID: it.ID, WorkOrders: []WorkOrder{}}
	T := it.Interval
	if T != nil {
		if math.IsNaN(*T) || math.IsInf(*T, 0) || *T <= 0 {
			return nil, &DataError{Field: path + "interval", Reason: fmt.Sprintf("%v must be a positive number", *T)}
		}
	} else {
		ar, err := AgeReplacement(rs)
		if err != nil {
			return nil, err
		}
		T, res.Optimised = ar.Interval, true
	}
	res.Interval = T
	var up, pFail float64
	if T == nil {
		up, pFail = it.Scale*math.Gamma(1+1/it.Shape), 1
	} else {
		up, pFail = weibullIntR(*T, it.Shape, it.Scale), 1-WeibullR(*T, it.Shape, it.Scale)
	}
	cycle := up + it.MTTRPreventive*(1-pFail) + it.MTTRCorrective*pFail
	res.CostRate = (it.CostPreventive*(1-pFail) + it.CostFailure*pFail) / cycle
	res.Availability = up / cycle
	res.ExpectedFailures = horizon * pFail / cycle
	res.ExpectedCost = res.CostRate * horizon
	if T != nil {
		for due, n := *T-it.Age, 1; due <= horizon; due, n = due+*T+it.MTTRPreventive, n+1 {
			if n > maxOrders {
				res.Truncated = true
				break
			}
			res.WorkOrders = append(res.WorkOrders, WorkOrder{
				ID: fmt.Sprintf("wo-%s-%d", it.ID, n), Equipment: it.ID, Kind: "preventive",
				Due: math.Max(due, 0), Duration: it.MTTRPreventive,
			})
		}
	}
	return res, nil
}
