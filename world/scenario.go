package world

import (
	"fmt"
	"slices"
	"time"

	"lodestone/supply"
)

// ScenarioInfo describes a built-in scenario.
type ScenarioInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Controls    []string `json:"controls"` // names of supply.BuiltinControls used
}

// Scenario names.
const (
	ScenarioBaseline   = "baseline"
	ScenarioApril2025  = "april-2025"
	ScenarioOctober25  = "october-2025"
	ScenarioNovember25 = "november-2025"
)

// Scenarios lists the built-in scenarios.
func Scenarios() []ScenarioInfo {
	return []ScenarioInfo{
		{ScenarioBaseline, "the default world with no export control", nil},
		{ScenarioApril2025, "MOFCOM & GAC Announcement No. 18 (4 Apr 2025): licences for Sm, Gd, Tb, Dy, Lu, Sc, Y and their oxides, metals, alloys and magnet materials [S52]", []string{"CN-2025-18"}},
		{ScenarioOctober25, "No. 18 plus the 9 Oct 2025 measures as announced: No. 57 (Ho, Er, Tm, Eu, Yb) and No. 61 (foreign goods with >= 0.1% Chinese-origin controlled content, from 1 Dec 2025) [S53], without the later suspension", []string{"CN-2025-18", "CN-2025-57", "CN-2025-61"}},
		{ScenarioNovember25, "as october-2025, with Announcement No. 70 (7 Nov 2025) suspending Nos. 57 and 61 until 10 Nov 2026; No. 18 stays in force [S54]", []string{"CN-2025-18", "CN-2025-57", "CN-2025-61"}},
	}
}

// ScenarioOptions holds the knobs of World.Scenario. The zero value runs
// five years from 1 January 2025 on the aggregate per-day network.
type ScenarioOptions struct {
	// Start is the first simulated day; empty means DefaultStart.
	Start supply.Date
	// Days is the run length; 0 means five years from Start.
	Days int
	// Network selects the network; PerYear must be false (the simulation
	// steps in days).
	Network NetworkOptions
	// Prices attaches the world's sourced prices (data/prices.json, as
	// SupplyPrices converts them) as the scenario's prices input.
	Prices bool
}

// DefaultStart is the first day of the built-in scenarios: the April 2025
// regime starts three months in.
const DefaultStart supply.Date = "2025-01-01"

// Scenario builds a SCENARIO for `lodestone supply run` from the world and
// a built-in scenario name (see Scenarios). The export controls are
// supply's built-ins (supply.BuiltinControls) with their own sources; the
// october-2025 scenario drops the suspension of Nos. 57 and 61.
func (w *World) Scenario(name string, opts *ScenarioOptions) (*supply.SimScenario, error) {
	var o ScenarioOptions
	if opts != nil {
		o = *opts
	}
	if o.Network.PerYear {
		return nil, fieldErr("network.per_year", "a simulation needs the per-day network")
	}
	if o.Start == "" {
		o.Start = DefaultStart
	}
	t0, err := time.Parse(time.DateOnly, string(o.Start))
	if err != nil {
		return nil, fieldErr("start", "invalid date %q (want YYYY-MM-DD)", o.Start)
	}
	if o.Days == 0 {
		o.Days = int(t0.AddDate(5, 0, 0).Sub(t0).Hours() / 24)
	}
	if o.Days < 0 {
		return nil, fieldErr("days", "must be > 0")
	}
	i := slices.IndexFunc(Scenarios(), func(s ScenarioInfo) bool { return s.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("world: unknown scenario %q", name)
	}
	info := Scenarios()[i]
	net, err := w.Network(&o.Network)
	if err != nil {
		return nil, err
	}
	s := &supply.SimScenario{
		Description: w.Name + ": " + info.Name + ": " + info.Description,
		Start:       o.Start, Days: o.Days, Network: *net,
		InitialState: supply.InitialAtRest,
	}
	if o.Prices {
		ps, err := w.DecodePrices(pricesJSON)
		if err != nil {
			return nil, err
		}
		s.Prices = SupplyPrices(ps)
	}
	builtin := supply.BuiltinControls()
	for _, c := range info.Controls {
		ctl := builtin[c]
		if name == ScenarioOctober25 {
			ctl.Suspended, ctl.Resumes = "", ""
			ctl.Source += "; suspension by No. 70 left out (scenario october-2025)"
		}
		s.Controls = append(s.Controls, ctl)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("world: scenario %s: %w", name, err)
	}
	return s, nil
}
