package world

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"lodestone/supply"
)

//go:embed data/crisis2010.json
var crisis2010 []byte

// Crisis2010 is the data of the 2010–11 rare-earth crisis case (research
// note V4), from data/crisis2010.json: annual tonnes of REO with their
// sources. Every field except the header is a Quantity.
type Crisis2010 struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	ResearchNote string `json:"research_note"`
	// Sources maps citation keys to citations, as World.Sources: the data
	// may define keys of their own; DecodeCrisis2010 fills in every key the
	// data cite, from the bibliography.
	Sources map[string]string `json:"sources,omitempty"`

	ChinaProduction2010  Quantity `json:"china_production_2010"`
	ChinaShare2010       Quantity `json:"china_share_2010"`
	ChinaConsumption2009 Quantity `json:"china_consumption_2009"`
	WorldProduction2010  Quantity `json:"world_production_2010"`
	RoWProduction2010    Quantity `json:"row_production_2010"`
	ExChinaDemand        Quantity `json:"ex_china_demand"`
	ChinaExportable      Quantity `json:"china_exportable"`
	Quota2009            Quantity `json:"quota_2009"`
	Quota2010            Quantity `json:"quota_2010"`
	Exports2010          Quantity `json:"exports_2010"`
	SubstitutionRate     Quantity `json:"substitution_rate_per_year"`
	SubstitutionMaxShare Quantity `json:"substitution_max_share"`
	RampSharePerYear     Quantity `json:"ramp_share_per_year"`
	ResponseLagDays      Quantity `json:"response_lag_days"`
	LeadTimeDays         Quantity `json:"lead_time_days"`
	RecoveryMonths       Quantity `json:"recovery_months"`
}

// LoadCrisis2010 decodes and validates the embedded 2010–11 crisis data.
func LoadCrisis2010() (*Crisis2010, error) { return DecodeCrisis2010(crisis2010) }

// DecodeCrisis2010 decodes crisis data strictly (unknown fields are errors)
// and checks every quantity as Decode does: sourced, derived values with a
// formula, assumptions with a reason, citation keys in the bibliography (or
// in the data's own sources).
func DecodeCrisis2010(data []byte) (*Crisis2010, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Crisis2010
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("world: decode crisis: %w", err)
	}
	if dec.More() {
		return nil, errors.New("world: decode crisis: trailing data after the document")
	}
	bib, err := bibliographyIndex()
	if err != nil {
		return nil, err
	}
	w := &World{Sources: c.Sources, bib: bib}
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		q, ok := v.Field(i).Addr().Interface().(*Quantity)
		if !ok {
			continue
		}
		field := strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0]
		if q.Source == "" {
			return nil, fieldErr(field, "missing")
		}
		if err := w.checkQ(field, q); err != nil {
			return nil, err
		}
	}
	c.Sources = citedSources(data, c.Sources, bib)
	return &c, nil
}

// Crisis2010 node ids.
const (
	CrisisChina  supply.NodeID = "cn-export" // Chinese output not consumed in China
	CrisisRoW    supply.NodeID = "row-mine"  // non-Chinese mines
	CrisisMarket supply.NodeID = "ex-china"  // demand outside China
)

// CrisisStart is the first simulated day of the 2010 crisis scenario: the
// 2010 export quota is in force from it.
const CrisisStart supply.Date = "2010-01-01"

// Scenario builds the V4 scenario: four years of days from CrisisStart on a
// three-node per-day network (Chinese exportable output and non-Chinese
// mines shipping to ex-China demand), the 2010 export quota on every
// Chinese export in every quota year, substitution at
// SubstitutionRate of demand per year and a build at the non-Chinese mines
// adding RampSharePerYear of world production per year, both from the
// quota's effective date plus the response lag.
func (c *Crisis2010) Scenario() (*supply.SimScenario, error) {
	const days = 1461 // 2010-01-01 .. 2013-12-31
	perDay := func(q Quantity) float64 { return q.Value / 365 }
	lag := int(c.ResponseLagDays.Value)
	from, err := addDays(CrisisStart, lag)
	if err != nil {
		return nil, err
	}
	rampDays := days - lag
	lead := int(c.LeadTimeDays.Value)
	src := func(fields ...string) string {
		return "data/crisis2010.json: " + strings.Join(fields, ", ")
	}
	s := &supply.SimScenario{
		Description: c.Name,
		Start:       CrisisStart, Days: days,
		InitialState: supply.InitialAtRest,
		Network: supply.Network{
			Nodes: []supply.Node{
				{ID: CrisisChina, Stage: supply.StageMine, Country: "CN", CapacityPerPeriod: perDay(c.ChinaExportable), Source: src("china_exportable")},
				{ID: CrisisRoW, Stage: supply.StageMine, Country: "RoW", CapacityPerPeriod: perDay(c.RoWProduction2010), Source: src("row_production_2010")},
				{ID: CrisisMarket, Stage: supply.StageOEM, Country: "RoW", CapacityPerPeriod: perDay(c.ExChinaDemand), DemandPerPeriod: perDay(c.ExChinaDemand), Source: src("ex_china_demand")},
			},
			Arcs: []supply.Arc{
				{From: CrisisChina, To: CrisisMarket, Ratio: 1, Material: "REO", LeadTimeDays: lead, Source: src("lead_time_days")},
				{From: CrisisRoW, To: CrisisMarket, Ratio: 1, Material: "REO", LeadTimeDays: lead, Source: src("lead_time_days")},
			},
		},
		Controls: []supply.Control{{
			Name: "CN-2010-quota", Country: "CN", Mode: supply.ControlQuota,
			QuotaUnits: c.Quota2010.Value, QuotaPeriodDays: 365,
			Effective: CrisisStart, Announced: CrisisStart,
			Source: src("quota_2010") + " " + c.Quota2010.Source,
		}},
		Substitutions: []supply.Substitution{{
			Node: CrisisMarket, From: from, RatePerYear: c.SubstitutionRate.Value, MaxShare: c.SubstitutionMaxShare.Value,
			Source: src("substitution_rate_per_year", "substitution_max_share") + " [S70]",
		}},
		Builds: []supply.Build{{
			Node: CrisisRoW, Online: from,
			AddCapacityPerPeriod: c.RampSharePerYear.Value * c.WorldProduction2010.Value * float64(rampDays) / 365 / 365,
			RampDays:             rampDays,
			Source:               src("ramp_share_per_year", "world_production_2010") + " [S70]",
		}},
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("world: crisis scenario: %w", err)
	}
	return s, nil
}

// CrisisRecovery reads a run of the crisis scenario: onset is the first
// month in which ex-China demand was lost, recovered the first month from
// which no month to the end of the run loses more than tol of its demand
// (both "YYYY-MM"), and months the whole months between them. ok is false
// when no demand was lost or the market had not recovered by the end.
func CrisisRecovery(res *supply.Result, tol float64) (onset, recovered string, months int, ok bool) {
	k := res.Nodes[CrisisMarket]
	if k == nil {
		return "", "", 0, false
	}
	first, last := -1, -1
	for i, m := range k.Monthly {
		if m.FillRate < 1-tol {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || last+1 >= len(k.Monthly) {
		return "", "", 0, false
	}
	return k.Monthly[first].Month, k.Monthly[last+1].Month, last + 1 - first, true
}

// addDays returns the date n days after d.
func addDays(d supply.Date, n int) (supply.Date, error) {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return "", fieldErr("start", "invalid date %q (want YYYY-MM-DD)", d)
	}
	return supply.Date(t.AddDate(0, 0, n).Format(time.DateOnly)), nil
}
