package supply_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
)

func TestExportControls(t *testing.T) {
	// The hand chain of TestRunHandChain (M in CN ships Dy oxide to O in the
	// US; 130 input units and 50 finished units on hand) under controls
	// taking effect on day 10 (2025-01-11).
	tests := []struct {
		name     string
		control  supply.Control
		soDays   int
		lost     float64
		firstDay string
	}{
		// No shipments after day 10: inputs last to day 23, stock to day 28.
		{"ban", supply.Control{Name: "ban", Country: "CN", Elements: []string{"Dy"}, Mode: supply.ControlBan, Effective: "2025-01-11"}, 31, 310, "2025-01-30"},
		// The licence is applied for on day 10 and granted on day 30;
		// ordered day 30, shipped day 31, arrives day 32: stockout days 29–31.
		{"licence granted", supply.Control{Name: "lic", Country: "CN", Elements: []string{"Dy"}, Mode: supply.ControlLicence, ReviewDays: 20, ApprovalProbability: 1, Effective: "2025-01-11"}, 3, 30, "2025-01-30"},
		{"licence refused", supply.Control{Name: "lic", Country: "CN", Elements: []string{"Dy"}, Mode: supply.ControlLicence, ReviewDays: 20, ApprovalProbability: 0, Effective: "2025-01-11"}, 31, 310, "2025-01-30"},
		// 5 units pass after day 10, so day 29 loses 5, not 10.
		{"quota", supply.Control{Name: "q", Country: "CN", Elements: []string{"Dy"}, Mode: supply.ControlQuota, QuotaUnits: 5, Effective: "2025-01-11"}, 31, 305, "2025-01-30"},
		// Suspended after five days: the input buffer (70 units left) bridges.
		{"suspended", supply.Control{Name: "s", Country: "CN", Elements: []string{"Dy"}, Mode: supply.ControlBan, Effective: "2025-01-11", Suspended: "2025-01-16"}, 0, 0, ""},
		{"other element", supply.Control{Name: "x", Country: "CN", Elements: []string{"Tb"}, Mode: supply.ControlBan, Effective: "2025-01-11"}, 0, 0, ""},
		{"other destination", supply.Control{Name: "x", Country: "CN", Destinations: []string{"JP"}, Mode: supply.ControlBan, Effective: "2025-01-11"}, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := chain()
			sc.Controls = []supply.Control{tt.control}
			res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			o := res.Nodes["O"]
			first := ""
			if o.FirstStockout != nil {
				first = string(*o.FirstStockout)
			}
			type kpi struct {
				SO    int
				Lost  float64
				First string
			}
			want := kpi{tt.soDays, tt.lost, tt.firstDay}
			got := kpi{o.StockoutDays, math.Round(o.Lost*1e9) / 1e9, first}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("O mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestControlByContent(t *testing.T) {
	// A Japanese magnet maker turns oxide into magnets for a US OEM. A
	// content-scoped ban on Chinese-origin Dy stops its magnets when its
	// oxide comes from China, not when it comes from Australia.
	for _, tt := range []struct {
		origin string
		stops  bool
	}{{"CN", true}, {"AU", false}} {
		t.Run(tt.origin, func(t *testing.T) {
			sc := supply.SimScenario{
				Start: "2025-01-01", Days: 120,
				Network: supply.Network{
					Nodes: []supply.Node{
						{ID: "sep", Country: tt.origin, CapacityPerPeriod: 10},
						{ID: "mag", Country: "JP", CapacityPerPeriod: 10},
						// Ten days of stock bridge the empty pipelines of the start.
						{ID: "oem", Country: "US", CapacityPerPeriod: 10, DemandPerPeriod: 5, Inventory: 50},
					},
					Arcs: []supply.Arc{
						{From: "sep", To: "mag", Ratio: 1, Material: "Dy oxide", LeadTimeDays: 2},
						{From: "mag", To: "oem", Ratio: 1, Material: "Dy magnet", LeadTimeDays: 2},
					},
				},
				Controls: []supply.Control{{Name: "content", Builtin: "CN-2025-61", Mode: supply.ControlBan, Announced: "2025-01-02", Effective: "2025-01-02", Suspended: "2030-01-01", Resumes: "2031-01-01"}},
			}
			res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			o := res.Nodes["oem"]
			if got := o.StockoutDays > 0; got != tt.stops {
				t.Errorf("oem stockout days = %d, want stops=%v", o.StockoutDays, tt.stops)
			}
		})
	}
}

func TestBuiltinControls(t *testing.T) {
	b := supply.BuiltinControls()
	type dates struct{ Effective, Suspended, Resumes supply.Date }
	want := map[string]dates{
		"CN-2025-18": {"2025-04-04", "", ""},
		"CN-2025-57": {"2025-10-09", "2025-11-07", "2026-11-10"},
		"CN-2025-61": {"2025-12-01", "2025-11-07", "2026-11-10"},
	}
	got := map[string]dates{}
	for k, c := range b {
		got[k] = dates{c.Effective, c.Suspended, c.Resumes}
		if c.Source == "" {
			t.Errorf("%s has no source", k)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("built-in controls (-want +got):\n%s", d)
	}
}

func TestQualification(t *testing.T) {
	q := supply.Qualification{ScreeningDays: 2, SamplesDays: 3, AuditDays: 1, RampDays: 4}
	type st struct {
		State string
		Share float64
	}
	var got []st
	for d := -1; d <= 11; d++ {
		s, f := q.State(d)
		got = append(got, st{s, f})
	}
	want := []st{
		{supply.QualUnqualified, 0},
		{supply.QualScreening, 0}, {supply.QualScreening, 0},
		{supply.QualSamples, 0}, {supply.QualSamples, 0}, {supply.QualSamples, 0},
		{supply.QualAudit, 0},
		{supply.QualRamp, 0.25}, {supply.QualRamp, 0.5}, {supply.QualRamp, 0.75}, {supply.QualRamp, 1},
		{supply.QualQualified, 1}, {supply.QualQualified, 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Qualification.State (-want +got):\n%s", d)
	}
}

func TestQualificationGatesSecondSource(t *testing.T) {
	// O's only supplier A fails on day 10 for good; B is being qualified
	// from day 0 and becomes usable after 30 days (ramp 1 day), so O's
	// stockouts end soon after; without the programme B is usable at once
	// and O never stocks out.
	base := supply.SimScenario{
		Start: "2025-01-01", Days: 90,
		Network: supply.Network{
			Nodes: []supply.Node{
				{ID: "A", CapacityPerPeriod: 10}, {ID: "B", CapacityPerPeriod: 10},
				// Two days of stock bridge the empty pipeline of the start.
				{ID: "O", CapacityPerPeriod: 10, DemandPerPeriod: 10, Inventory: 20},
			},
			Arcs: []supply.Arc{
				{ID: "AO", From: "A", To: "O", Ratio: 1, Material: "m", LeadTimeDays: 1},
				{ID: "BO", From: "B", To: "O", Ratio: 1, Material: "m", LeadTimeDays: 1},
			},
		},
		Shocks:   []supply.Shock{{Node: "A", From: "2025-01-11", To: "2025-03-31"}},
		Policies: supply.Policies{Default: &supply.Policy{CoverDays: 5}},
	}
	withQ := base
	withQ.Qualifications = []supply.Qualification{{Arc: "BO", Start: "2025-01-01", ScreeningDays: 10, SamplesDays: 10, AuditDays: 10, RampDays: 1}}
	for _, tt := range []struct {
		name string
		sc   supply.SimScenario
		so   bool
	}{{"qualified late", withQ, true}, {"already qualified", base, false}} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := supply.Run(t.Context(), &tt.sc, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			o := res.Nodes["O"]
			if (o.StockoutDays > 0) != tt.so || o.StockoutDays > 40 {
				t.Errorf("O stockout days = %d (first %v), want stockouts=%v", o.StockoutDays, o.FirstStockout, tt.so)
			}
		})
	}
}

func TestStockpileAndPolicies(t *testing.T) {
	withStock := func(p supply.Policy) supply.SimScenario {
		sc := chain()
		sc.Network.Nodes = append(sc.Network.Nodes, supply.Node{ID: "S", Stage: supply.StageStockpile, Country: "US", Inventory: 1000})
		sc.Network.Arcs[0].Material = "Dy oxide"
		sc.Network.Arcs = append(sc.Network.Arcs, supply.Arc{From: "S", To: "O", Ratio: 1, Material: "Dy oxide", LeadTimeDays: 1})
		sc.Shocks = []supply.Shock{{Node: "M", From: "2025-01-11", To: "2025-02-09"}}
		sc.Policies = supply.Policies{Nodes: map[supply.NodeID]supply.Policy{"S": p}}
		return sc
	}
	tests := []struct {
		name string
		sc   supply.SimScenario
		so   int // O's stockout days
	}{
		// Released on shortfall, 20 a day: covers the whole outage.
		{"stockpile on shortfall", withStock(supply.Policy{Release: "shortfall", ReleasePerDay: 20}), 0},
		// Released only from 1 March: no help during the outage (12 days as
		// without it).
		{"stockpile by date, too late", withStock(supply.Policy{Release: "date", ReleaseFrom: "2025-03-01"}), 12},
		// (s, S) with no shocks: never short.
		{"ss policy", func() supply.SimScenario {
			sc := chain()
			sc.Policies = supply.Policies{Default: &supply.Policy{Type: "ss", CoverDays: 20, ReorderDays: 8}}
			return sc
		}(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := supply.Run(t.Context(), &tt.sc, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Nodes["O"].StockoutDays; got != tt.so {
				t.Errorf("O stockout days = %d, want %d", got, tt.so)
			}
		})
	}
}

func TestBuildsAndSubstitution(t *testing.T) {
	// A is O's only working source until it fails on day 10 for good; B
	// (no capacity) gets a 10/day build online on day 20, ramping over 4
	// days. O (no finished stock, 5 days of input cover) runs short from
	// day 15 and is whole again once B's full output arrives.
	sc := supply.SimScenario{
		Start: "2025-01-01", Days: 60,
		Network: supply.Network{
			Nodes: []supply.Node{
				{ID: "A", CapacityPerPeriod: 10}, {ID: "B"},
				{ID: "O", CapacityPerPeriod: 10, DemandPerPeriod: 10},
			},
			Arcs: []supply.Arc{
				{From: "A", To: "O", Ratio: 1, Material: "m", LeadTimeDays: 1},
				{From: "B", To: "O", Ratio: 1, Material: "m", LeadTimeDays: 1},
			},
		},
		Shocks:   []supply.Shock{{Node: "A", From: "2025-01-11", To: "2025-03-31"}},
		Builds:   []supply.Build{{Node: "B", Online: "2025-01-21", AddCapacityPerPeriod: 10, RampDays: 4}},
		Policies: supply.Policies{Default: &supply.Policy{CoverDays: 5}},
	}
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	o := res.Nodes["O"]
	if o.FirstStockout == nil || o.StockoutDays < 5 || o.StockoutDays > 20 || o.Monthly[1].FillRate < 0.99 {
		t.Errorf("O with a build: first stockout %v, %d days, February fill %v", o.FirstStockout, o.StockoutDays, o.Monthly[1].FillRate)
	}
	// Substitution: 0.365 of demand per year is 0.001 per day, capped at
	// 0.02: demand on day d (from day 0) is 10·(1 − min(0.02, 0.001(d+1))),
	// so over 60 days O is asked 600 − 10·(Σ_{k=1..20} 0.001k + 40·0.02) = 589.9.
	sc = chain()
	sc.Substitutions = []supply.Substitution{{Node: "O", From: "2025-01-01", RatePerYear: 0.365, MaxShare: 0.02}}
	res, err = supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Nodes["O"].Requested; math.Abs(got-589.9) > 1e-9 {
		t.Errorf("O requested %v with substitution, want 589.9", got)
	}
}

// TestQuotaClosesLane checks that a used-up quota closes the controlled lane
// so the customer orders from its other source, and that a new quota period
// brings its orders back to the controlled source.
func TestQuotaClosesLane(t *testing.T) {
	sc := supply.SimScenario{
		Start: "2025-01-01", Days: 60,
		Network: supply.Network{
			Nodes: []supply.Node{
				{ID: "cn", Country: "CN", CapacityPerPeriod: 10},
				{ID: "au", Country: "AU", CapacityPerPeriod: 10},
				// Five days of stock bridge the empty pipelines of the start.
				{ID: "oem", Country: "US", CapacityPerPeriod: 10, DemandPerPeriod: 5, Inventory: 25},
			},
			Arcs: []supply.Arc{
				{From: "cn", To: "oem", Ratio: 1, Material: "REO", LeadTimeDays: 2},
				{From: "au", To: "oem", Ratio: 1, Material: "REO", LeadTimeDays: 2},
			},
		},
		// 40 units per 30 days: the lane closes within each period.
		Controls: []supply.Control{{Name: "q", Country: "CN", Mode: supply.ControlQuota, QuotaUnits: 40, QuotaPeriodDays: 30, Effective: "2025-01-01"}},
	}
	res, err := supply.Run(t.Context(), &sc, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	// Australia alone covers the demand: nothing is lost when the Chinese
	// lane closes, China ships its 40 units in each period and Australia
	// the rest.
	got := struct {
		Lost           float64
		CNReq, AUShare bool
	}{res.Nodes["oem"].Lost, res.Nodes["cn"].Requested > 80, res.Nodes["au"].Requested > 200}
	want := got
	want.Lost, want.CNReq, want.AUShare = 0, true, true
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mismatch (-want +got):\n%s\ncn %+v\nau %+v", d, res.Nodes["cn"], res.Nodes["au"])
	}
}
