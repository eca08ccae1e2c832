package org

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"lodestone/supply"
)

// The signals price and plant_alarm and the actions change_policy,
// substitute_grade, apply_for_licences and start_build (issue 14, item 1).

func controlIndex(s *supply.SimScenario, name string) int {
	for i, c := range s.Controls {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// compileAction checks the fields of change_policy, substitute_grade,
// apply_for_licences and start_build.
func compileAction(s *Scenario, p string, a Action, cr *crule) error {
	switch a.Type {
	case ActionChangePolicy, ActionSubstituteGrade, ActionStartBuild:
		cr.actNode = nodeIndex(s.Supply, a.Node)
		if cr.actNode < 0 {
			return fieldErr(p+".node", "unknown node %q", a.Node)
		}
	}
	switch a.Type {
	case ActionChangePolicy:
		if a.CoverDays == nil && a.Allocation == "" {
			return fieldErr(p, "change_policy needs cover_days or allocation (or both)")
		}
		if a.CoverDays != nil && (*a.CoverDays < 0 || !finite(*a.CoverDays)) {
			return fieldErr(p+".cover_days", "must be a finite number >= 0")
		}
		if a.Allocation != "" && a.Allocation != supply.AllocPriority && a.Allocation != supply.AllocProportional {
			return fieldErr(p+".allocation", "unknown rule %q (want %s or %s)", a.Allocation, supply.AllocProportional, supply.AllocPriority)
		}
	case ActionSubstituteGrade:
		for _, f := range []struct {
			n string
			v *float64
		}{{"rate_per_year", a.RatePerYear}, {"max_share", a.MaxShare}} {
			if f.v == nil {
				return fieldErr(p+"."+f.n, "required with substitute_grade (a share per year, e.g. 0.10 [S70])")
			}
			if !(*f.v >= 0 && *f.v <= 1) {
				return fieldErr(p+"."+f.n, "must be a share in [0, 1]")
			}
		}
		if dem := s.Supply.Network.Nodes[cr.actNode].DemandPerPeriod; dem <= 0 {
			return fieldErr(p+".node", "node %q has no external demand to substitute", a.Node)
		}
	case ActionApplyForLicences:
		cr.actControl = controlIndex(s.Supply, a.Control)
		if cr.actControl < 0 {
			return fieldErr(p+".control", "unknown control %q", a.Control)
		}
		if m := s.Supply.Controls[cr.actControl].Mode; m != supply.ControlLicence {
			return fieldErr(p+".control", "control %q is not a licence control (mode %q)", a.Control, m)
		}
	case ActionStartBuild:
		if a.AddCapacityPerPeriod == nil {
			return fieldErr(p+".add_capacity_per_period", "required with start_build (the capacity the build adds, units per day)")
		}
		if v := *a.AddCapacityPerPeriod; !(v > 0) || !finite(v) {
			return fieldErr(p+".add_capacity_per_period", "must be a finite number > 0")
		}
		if a.RampDays != nil && *a.RampDays < 0 {
			return fieldErr(p+".ramp_days", "must be >= 0")
		}
		if a.LeadTimeDays != nil {
			if *a.LeadTimeDays < 0 {
				return fieldErr(p+".lead_time_days", "must be >= 0")
			}
			cr.programme = *a.LeadTimeDays
		}
	}
	return nil
}

// checkActionFields refuses the fields of an action that do not go with
// its type.
func checkActionFields(p string, a Action) error {
	for _, f := range []struct {
		name string
		set  bool
		with []string
	}{
		{"arc", a.Arc != "", []string{ActionActivateArc, ActionStartQualification}},
		{"node", a.Node != "", []string{ActionReleaseStockpile, ActionChangePolicy, ActionSubstituteGrade, ActionStartBuild}},
		{"cover_days", a.CoverDays != nil, []string{ActionChangePolicy}},
		{"allocation", a.Allocation != "", []string{ActionChangePolicy}},
		{"rate_per_year", a.RatePerYear != nil, []string{ActionSubstituteGrade}},
		{"max_share", a.MaxShare != nil, []string{ActionSubstituteGrade}},
		{"control", a.Control != "", []string{ActionApplyForLicences}},
		{"add_capacity_per_period", a.AddCapacityPerPeriod != nil, []string{ActionStartBuild}},
		{"ramp_days", a.RampDays != nil, []string{ActionStartBuild}},
		{"lead_time_days", a.LeadTimeDays != nil, []string{ActionStartBuild}},
	} {
		if f.set && !slices.Contains(f.with, a.Type) {
			return fieldErr(p+"."+f.name, "does not go with %s (only with %s)", a.Type, strings.Join(f.with, ", "))
		}
	}
	return nil
}

// act carries out rule r's action of change_policy, substitute_grade,
// apply_for_licences or start_build today.
func act(r *crule, d supply.Day) {
	a := r.action
	switch a.Type {
	case ActionChangePolicy:
		if a.CoverDays != nil {
			d.SetCoverDays(r.actNode, *a.CoverDays)
		}
		if a.Allocation != "" {
			d.SetAllocation(a.Allocation == supply.AllocPriority)
		}
	case ActionSubstituteGrade:
		d.Substitute(r.actNode, *a.RatePerYear, *a.MaxShare)
	case ActionApplyForLicences:
		d.ApplyLicences(r.actControl)
	case ActionStartBuild:
		ramp := 0
		if a.RampDays != nil {
			ramp = *a.RampDays
		}
		d.StartBuild(r.actNode, d.Index()+r.programme, *a.AddCapacityPerPeriod, ramp)
	}
}

// dayStart pads a price date (YYYY, YYYY-MM or YYYY-MM-DD) to its first
// day.
func dayStart(d string) string {
	switch len(d) {
	case 4:
		return d + "-01-01"
	case 7:
		return d + "-01"
	}
	return d
}

// priceSeries is the price of material in country in force on each day of
// the run (NaN before its first entry): the entries of the scenario's
// prices for that material and country ("" is the benchmark), the latest
// dated on or before the day; an entry without a date holds from the
// start.
func priceSeries(s *supply.SimScenario, material, country string) ([]float64, error) {
	if material == "" {
		return nil, fmt.Errorf("required with the signal price")
	}
	type entry struct {
		from  string
		price float64
	}
	var es []entry
	for _, p := range s.Prices {
		if p.Material == material && p.Country == country {
			es = append(es, entry{dayStart(string(p.Date)), p.Price})
		}
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("the scenario's prices have no price of %q in country %q", material, country)
	}
	slices.SortStableFunc(es, func(a, b entry) int { return strings.Compare(a.from, b.from) })
	start, err := time.Parse("2006-01-02", string(s.Start))
	if err != nil {
		return nil, fmt.Errorf("start: %v", err)
	}
	out := make([]float64, max(s.Days, 1))
	k, cur := 0, math.NaN()
	for d := range out {
		day := start.AddDate(0, 0, d).Format("2006-01-02")
		for k < len(es) && es[k].from <= day {
			cur = es[k].price
			k++
		}
		out[d] = cur
	}
	return out, nil
}

// alarmDays returns the day indices of the alarms at node, sorted.
func alarmDays(s *Scenario, node string) ([]int, error) {
	start, err := time.Parse("2006-01-02", string(s.Supply.Start))
	if err != nil {
		return nil, fieldErr("start", "%v", err)
	}
	dayOf := func(t time.Time) int { return int(math.Floor(t.Sub(start).Hours() / 24)) }
	var days []int
	for i, a := range s.Org.Alarms {
		p := fmt.Sprintf("org.alarms[%d]", i)
		if nodeIndex(s.Supply, a.Node) < 0 {
			return nil, fieldErr(p+".node", "unknown node %q", a.Node)
		}
		t, err := time.Parse("2006-01-02", string(a.Date))
		if err != nil {
			return nil, fieldErr(p+".date", "invalid date %q (want YYYY-MM-DD)", a.Date)
		}
		if a.Node == node {
			days = append(days, dayOf(t))
		}
	}
	for i, pe := range s.Org.PlantEstimates {
		p := fmt.Sprintf("org.plant_estimates[%d]", i)
		if nodeIndex(s.Supply, pe.Node) < 0 {
			return nil, fieldErr(p+".node", "unknown node %q", pe.Node)
		}
		t0, err := time.Parse("2006-01-02", string(pe.Start))
		if err != nil {
			return nil, fieldErr(p+".start", "invalid date %q (want YYYY-MM-DD)", pe.Start)
		}
		for j, a := range pe.Alarms {
			if a.TH < 0 || !finite(a.TH) {
				return nil, fieldErr(fmt.Sprintf("%s.alarms[%d].t_h", p, j), "must be a finite number of hours >= 0")
			}
			if pe.Node == node {
				days = append(days, dayOf(t0.Add(time.Duration(a.TH*float64(time.Hour)))))
			}
		}
	}
	slices.Sort(days)
	return days, nil
}
