package reliability_test

import (
	"math"
	"strings"
	"testing"

	"lodestone/plant/reliability"
)

func TestAgeReplacement(t *testing.T) {
	tests := []struct {
		name string
		spec reliability.ReplaceSpec
		rtf  bool
	}{
		{"wear-out", reliability.ReplaceSpec{Shape: 2.5, Scale: 1000, CostPreventive: 1, CostFailure: 10}, false},
		{"strong wear-out", reliability.ReplaceSpec{Shape: 4, Scale: 20000, CostPreventive: 500, CostFailure: 3000}, false},
		{"shape 2", reliability.ReplaceSpec{Shape: 2, Scale: 1, CostPreventive: 1, CostFailure: 5}, false},
		{"constant rate", reliability.ReplaceSpec{Shape: 1, Scale: 1000, CostPreventive: 1, CostFailure: 10}, true},
		{"infant mortality", reliability.ReplaceSpec{Shape: 0.7, Scale: 1000, CostPreventive: 1, CostFailure: 10}, true},
		{"preventive dearer", reliability.ReplaceSpec{Shape: 3, Scale: 1000, CostPreventive: 10, CostFailure: 10}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reliability.AgeReplacement(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			mttf := tt.spec.Scale * math.Gamma(1+1/tt.spec.Shape)
			if want := tt.spec.CostFailure / mttf; math.Abs(got.RunToFailureCostRate-want) > 1e-12*want {
				t.Errorf("run_to_failure_cost_rate = %v, want c_f/MTTF = %v", got.RunToFailureCostRate, want)
			}
			if tt.rtf {
				if got.Interval != nil || !got.RunToFailure || got.CostRate != got.RunToFailureCostRate {
					t.Errorf("got %+v, want run to failure", got)
				}
				return
			}
			if got.Interval == nil {
				t.Fatalf("interval = nil, want a finite optimum")
			}
			T := *got.Interval
			// Brute force: no grid point beats the optimum, and the best grid
			// point is next to it.
			best, bestT := math.Inf(1), 0.0
			for i := 1; i <= 20000; i++ {
				x := tt.spec.Scale * 3 * float64(i) / 20000
				if c := reliability.AgeReplacementCostRate(tt.spec, x); c < best {
					best, bestT = c, x
				}
			}
			if got.CostRate > best*(1+1e-9) {
				t.Errorf("cost_rate %v at %v > brute-force %v at %v", got.CostRate, T, best, bestT)
			}
			if math.Abs(bestT-T) > tt.spec.Scale*3/20000*2 {
				t.Errorf("interval %v, brute-force minimum at %v", T, bestT)
			}
			// Optimality condition (Barlow & Proschan): C(T*) = (c_f − c_p) h(T*).
			h := tt.spec.Shape / tt.spec.Scale * math.Pow(T/tt.spec.Scale, tt.spec.Shape-1)
			if want := (tt.spec.CostFailure - tt.spec.CostPreventive) * h; math.Abs(got.CostRate-want) > 1e-6*want {
				t.Errorf("C(T*) = %v, want (c_f−c_p)h(T*) = %v", got.CostRate, want)
			}
		})
	}
}

func TestAgeReplacementBadSpec(t *testing.T) {
	for _, tt := range []struct {
		spec reliability.ReplaceSpec
		want string
	}{
		{reliability.ReplaceSpec{Shape: 0, Scale: 1, CostFailure: 1}, "shape: 0 must be positive"},
		{reliability.ReplaceSpec{Shape: 2, Scale: -1, CostFailure: 1}, "scale: -1 must be positive"},
		{reliability.ReplaceSpec{Shape: 2, Scale: 1, CostPreventive: -1, CostFailure: 1}, "cost_preventive: -1"},
		{reliability.ReplaceSpec{Shape: 2, Scale: 1, CostPreventive: 1, CostFailure: math.Inf(1)}, "cost_failure: +Inf is not a finite number"},
	} {
		if _, err := reliability.AgeReplacement(tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("AgeReplacement(%+v) = %v, want %q", tt.spec, err, tt.want)
		}
	}
}

func ptr(v float64) *float64 { return &v }

func TestSystemAvailability(t *testing.T) {
	a1, a2, a3 := 0.9, 0.95, 0.8
	u := func(a float64) reliability.Block {
		return reliability.Block{Kind: reliability.KindUnit, Availability: ptr(a)}
	}
	rho := 10.0 / 1000 // MTTR/MTBF
	tests := []struct {
		name string
		b    reliability.Block
		want float64
	}{
		{"unit mtbf/mttr", reliability.Block{Kind: "unit", MTBF: 990, MTTR: 10}, 0.99},
		{"series", reliability.Block{Kind: "series", Blocks: []reliability.Block{u(a1), u(a2), u(a3)}}, a1 * a2 * a3},
		{"parallel", reliability.Block{Kind: "parallel", Blocks: []reliability.Block{u(a1), u(a2)}}, 1 - (1-a1)*(1-a2)},
		{"2 of 3 identical", reliability.Block{Kind: "k_of_n", K: 2, Blocks: []reliability.Block{u(a1), u(a1), u(a1)}}, 3*a1*a1 - 2*a1*a1*a1},
		{"2 of 3 mixed", reliability.Block{Kind: "k_of_n", K: 2, Blocks: []reliability.Block{u(a1), u(a2), u(a3)}},
			a1*a2*a3 + (1-a1)*a2*a3 + a1*(1-a2)*a3 + a1*a2*(1-a3)},
		// Duty/standby pair, cold, one crew: A = (1+ρ)/(1+ρ+ρ²), ρ = λ/μ.
		{"cold standby pair", reliability.Block{Kind: "standby", N: 2, K: 1, MTBF: 1000, MTTR: 10}, (1 + rho) / (1 + rho + rho*rho)},
		// Hot standby with a crew per unit is a parallel pair of independent items.
		{"hot standby = parallel", reliability.Block{Kind: "standby", N: 2, K: 1, MTBF: 1000, MTTR: 10, Hot: true, RepairCrews: 2},
			1 - math.Pow(10.0/1010, 2)},
		{"single standby unit = item", reliability.Block{Kind: "standby", N: 1, MTBF: 1000, MTTR: 10}, 1000.0 / 1010},
		{"nested", reliability.Block{Kind: "series", Blocks: []reliability.Block{
			u(a1), {Kind: "parallel", Blocks: []reliability.Block{u(a2), u(a3)}}}}, a1 * (1 - (1-a2)*(1-a3))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reliability.SystemAvailability(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Availability-tt.want) > 1e-12 {
				t.Errorf("availability = %.15g, want %.15g", got.Availability, tt.want)
			}
		})
	}
}

func TestSystemAvailabilityBad(t *testing.T) {
	tests := []struct {
		b    reliability.Block
		want string
	}{
		{reliability.Block{Kind: "ring"}, `kind: "ring" is not one of`},
		{reliability.Block{Kind: "series"}, "blocks: a series block needs"},
		{reliability.Block{Kind: "series", Blocks: []reliability.Block{{Kind: "unit", MTBF: 1, MTTR: -1}}}, "blocks[0].mttr: -1"},
		{reliability.Block{Kind: "parallel", Blocks: []reliability.Block{{Kind: "unit", MTBF: 1}, {Kind: "unit", Availability: ptr(2)}}}, "blocks[1].availability: 2 is not in [0,1]"},
		{reliability.Block{Kind: "k_of_n", K: 3, Blocks: []reliability.Block{{Kind: "unit", MTBF: 1}}}, "k: 3 is not between 1 and the 1"},
		{reliability.Block{Kind: "standby", N: 2, K: 3, MTBF: 1, MTTR: 1}, "k: 3 is not between 1 and n = 2"},
		{reliability.Block{Kind: "standby", N: 2, MTBF: 1}, "mttr: 0 must be a positive number"},
	}
	for _, tt := range tests {
		if _, err := reliability.SystemAvailability(tt.b); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SystemAvailability(%+v) = %v, want %q", tt.b, err, tt.want)
		}
	}
}

func TestOEE(t *testing.T) {
	got, err := reliability.OEE(reliability.OEEInput{PlannedTime: 720, RunTime: 648, NameplateRate: 10, Output: 5832, InSpecOutput: 5540.4})
	if err != nil {
		t.Fatal(err)
	}
	// 648/720 = 0.9; 5832/(10·648) = 0.9; 5540.4/5832 = 0.95.
	if math.Abs(got.Availability-0.9) > 1e-12 || math.Abs(got.Performance-0.9) > 1e-12 || math.Abs(got.Quality-0.95) > 1e-12 || math.Abs(got.OEE-0.9*0.9*0.95) > 1e-12 {
		t.Errorf("OEE = %+v", got)
	}
	if _, err := reliability.OEE(reliability.OEEInput{PlannedTime: 10, RunTime: 11, NameplateRate: 1}); err == nil || !strings.Contains(err.Error(), "run_time: 11 exceeds planned_time 10") {
		t.Errorf("run time over planned: %v", err)
	}
}

func TestPlan(t *testing.T) {
	spec := reliability.PlanSpec{Horizon: 8760, Items: []reliability.PlanItem{
		{ID: "agitator-gearbox", Shape: 2.5, Scale: 3000, CostPreventive: 1000, CostFailure: 8000, MTTRPreventive: 4, MTTRCorrective: 24},
		{ID: "dosing-pump", Shape: 1, Scale: 2000, CostPreventive: 200, CostFailure: 900, MTTRCorrective: 6},
		{ID: "filter", Shape: 3, Scale: 1000, CostPreventive: 50, CostFailure: 400, MTTRPreventive: 1, MTTRCorrective: 8, Interval: ptr(500), Age: 100},
	}}
	got, err := reliability.Plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	gear, pump, filter := got.Items[0], got.Items[1], got.Items[2]
	opt, _ := reliability.AgeReplacement(reliability.ReplaceSpec{Shape: 2.5, Scale: 3000, CostPreventive: 1000, CostFailure: 8000})
	if gear.Interval == nil || *gear.Interval != *opt.Interval || !gear.Optimised {
		t.Errorf("gearbox interval %v, want the optimum %v", gear.Interval, *opt.Interval)
	}
	// Run to failure: availability MTTF/(MTTF+MTTR), failures H/(MTTF+MTTR).
	if pump.Interval != nil || len(pump.WorkOrders) != 0 {
		t.Errorf("dosing pump: %+v, want run to failure", pump)
	}
	if want := 2000.0 / 2006; math.Abs(pump.Availability-want) > 1e-12 {
		t.Errorf("pump availability %v, want %v", pump.Availability, want)
	}
	if want := 8760.0 / 2006; math.Abs(pump.ExpectedFailures-want) > 1e-9 {
		t.Errorf("pump failures %v, want %v", pump.ExpectedFailures, want)
	}
	// Fixed interval 500 at age 100: due 400 + 501k ≤ 8760, k = 0..16.
	if n := len(filter.WorkOrders); n != 17 || filter.WorkOrders[0].Due != 400 || filter.WorkOrders[1].Due != 901 {
		t.Errorf("filter work orders: %d, first %+v", n, filter.WorkOrders[:2])
	}
	if want := gear.Availability * pump.Availability * filter.Availability; math.Abs(got.Availability-want) > 1e-12 {
		t.Errorf("plant availability %v, want product %v", got.Availability, want)
	}
	if want := gear.ExpectedCost + pump.ExpectedCost + filter.ExpectedCost; math.Abs(got.ExpectedCost-want) > 1e-9 {
		t.Errorf("expected cost %v, want sum %v", got.ExpectedCost, want)
	}
	bad := spec
	bad.Items = append([]reliability.PlanItem{}, spec.Items...)
	bad.Items[1].MTTRCorrective = -1
	if _, err := reliability.Plan(bad); err == nil || !strings.Contains(err.Error(), "items[1].mttr_corrective: -1") {
		t.Errorf("bad item: %v", err)
	}
}

func TestFromRecords(t *testing.T) {
	obs, err := reliability.FromRecords([]reliability.Record{
		{ID: "fr-3", OperatingTime: 500, Suspension: true}, {ID: "fr-1", OperatingTime: 54}, {ID: "fr-2", OperatingTime: 187},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []reliability.Observation{{Time: 54, Failed: true}, {Time: 187, Failed: true}, {Time: 500}}
	for i := range want {
		if obs[i] != want[i] {
			t.Errorf("obs[%d] = %v, want %v", i, obs[i], want[i])
		}
	}
	if _, err := reliability.FromRecords([]reliability.Record{{ID: "fr-9", OperatingTime: 0}}); err == nil || !strings.Contains(err.Error(), `operatingTime: failure record "fr-9"`) {
		t.Errorf("bad record: %v", err)
	}
}
