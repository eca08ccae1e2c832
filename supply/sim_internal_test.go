package supply

import (
	"math/rand/v2"
	"testing"
)

// TestStepAllocFree guards the hot loop: a day step allocates nothing, with
// shocks, every control mode and scope, qualification and a stockpile.
func TestStepAllocFree(t *testing.T) {
	sc := &SimScenario{
		Start: "2025-01-01", Days: 400,
		Network: Network{
			Nodes: []Node{
				{ID: "M", Country: "CN", CapacityPerPeriod: 10},
				{ID: "N", Country: "AU", CapacityPerPeriod: 5},
				{ID: "G", Country: "JP", CapacityPerPeriod: 10, Inventory: 5},
				{ID: "S", Stage: StageStockpile, Country: "US", Inventory: 100},
				{ID: "O", Country: "US", CapacityPerPeriod: 10, Inventory: 20, DemandPerPeriod: 8},
			},
			Arcs: []Arc{
				{ID: "MG", From: "M", To: "G", Ratio: 0.3, Material: "Dy oxide", LeadTimeDays: 5},
				{ID: "NG", From: "N", To: "G", Ratio: 0.3, Material: "Dy oxide", LeadTimeDays: 9},
				{ID: "GO", From: "G", To: "O", Ratio: 1, Material: "Dy magnet", LeadTimeDays: 20},
				{ID: "SO", From: "S", To: "O", Ratio: 1, Material: "Dy magnet", LeadTimeDays: 2},
			},
		},
		Shocks: []Shock{
			{Node: "M", From: "2025-02-01", To: "2025-03-01", CapacityFactor: 0.2},
			{Arc: "GO", Kind: ShockPortDelay, From: "2025-04-01", To: "2025-04-10", DelayDays: 7},
			{Node: "O", Kind: ShockDemandSurge, From: "2025-05-01", To: "2025-05-10", DemandFactor: 1.5},
		},
		Controls: []Control{
			{Name: "lic", Builtin: "CN-2025-18", Effective: "2025-01-10", Announced: "2025-01-10"},
			{Name: "quota", Country: "CN", Mode: ControlQuota, QuotaUnits: 100, QuotaPeriodDays: 30, Effective: "2025-01-01"},
			{Name: "content", Builtin: "CN-2025-61", Announced: "2025-01-01", Effective: "2025-03-01", Suspended: "2025-06-01", Resumes: "2025-08-01"},
		},
		Qualifications: []Qualification{{Arc: "NG", Start: "2025-01-01", ScreeningDays: 10, SamplesDays: 10, AuditDays: 10, RampDays: 30}},
		RandomShocks:   []RandomShock{{Name: "r", Nodes: []NodeID{"N"}, ProbPerDay: 0.01, DurationDays: 10, DurationSigma: 0.3}},
	}
	m, err := compile(sc)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(m)
	w.reset(rand.New(rand.NewPCG(1, 2)))
	d := 0
	allocs := testing.AllocsPerRun(300, func() {
		w.step(d)
		d++
	})
	if allocs != 0 {
		t.Errorf("step allocates %v times per day, want 0", allocs)
	}
	src := rand.NewPCG(1, 2)
	rng := rand.New(src)
	if a := testing.AllocsPerRun(5, func() { src.Seed(3, 4); w.reset(rng) }); a != 0 {
		t.Errorf("reset allocates %v times, want 0", a)
	}
}
