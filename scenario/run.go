package scenario

import (
	"cmp"
	"encoding/json"
	"fmt"
	"time"

	"lodestone/models"
	"lodestone/supply"
	"lodestone/twin"
	"lodestone/world"
)

// Status says where a run is.
type Status string

// Run statuses, the enum of the ScenarioRun model's status property.
const (
	Running Status = "running"
	Done    Status = "done"
	Failed  Status = "failed"
	// Cancelled is a study stopped by DELETE /scenarios/{id}.
	Cancelled Status = "cancelled"
)

// Run is a stored scenario run: what ran, on what, and what came out.
type Run struct {
	ID twin.ID
	// Name is the run's display name; empty means the ID.
	Name   string
	Status Status
	// Runs is the number of Monte Carlo replications (1 for a single run).
	Runs int
	Seed uint64
	// Graph says whether the network was built from the twin graph, as of
	// AsOf, rather than given in the scenario.
	Graph bool
	AsOf  *time.Time
	Start supply.Date
	Days  int
	// InputHash is "sha256:" and the hex SHA-256 of the canonical inputs.
	InputHash string
	// ModelVersion names the supply engine that produced the result.
	ModelVersion string
	// KPIs are set once the run is done.
	KPIs *supply.DemandKPIs
	// Provenance lists the process-twin results the graph's network used.
	Provenance []world.ProcessLink
	// Error says why the run failed.
	Error     string
	CreatedAt time.Time
	// CompletedAt is nil while the run is under way.
	CompletedAt *time.Time
	// Scenario is the SCENARIO document that ran, with its network.
	Scenario json.RawMessage
	// Result is a supply.Result (one run) or supply.MCResult (a study).
	Result json.RawMessage
}

// owned lists the properties Encode may write. Update removes those of
// them a run no longer has and leaves every other property alone.
var owned = []string{
	"name", "status", "runs", "seed", "fromGraph", "graphAsOf", "startDate", "days",
	"inputHash", "modelVersion", "scenarioJson", "resultJson", "provenanceJson",
	"lostTonnes", "demandFillRate", "firstStockout", "fillRates",
	"error", "createdAt", "completedAt", "source",
}

// Encode returns the ScenarioRun twin of a run. The twin has no ETag; the
// store sets it.
func Encode(run *Run) twin.Twin {
	p := map[string]any{
		"name":         cmp.Or(run.Name, string(run.ID)),
		"status":       string(run.Status),
		"runs":         run.Runs,
		"seed":         run.Seed,
		"fromGraph":    run.Graph,
		"startDate":    string(run.Start),
		"days":         run.Days,
		"inputHash":    run.InputHash,
		"modelVersion": run.ModelVersion,
		"scenarioJson": string(run.Scenario),
		"createdAt":    run.CreatedAt.Format(time.RFC3339Nano),
		"source":       "computed by " + run.ModelVersion,
	}
	if run.AsOf != nil {
		p["graphAsOf"] = run.AsOf.UTC().Format(time.RFC3339Nano)
	}
	if run.CompletedAt != nil {
		p["completedAt"] = run.CompletedAt.Format(time.RFC3339Nano)
	}
	if run.Error != "" {
		p["error"] = run.Error
	}
	if len(run.Provenance) > 0 {
		b, _ := json.Marshal(run.Provenance) // plain structs of strings and numbers
		p["provenanceJson"] = string(b)
	}
	if run.Result != nil {
		p["resultJson"] = string(run.Result)
	}
	if k := run.KPIs; k != nil {
		p["lostTonnes"] = k.Lost
		p["demandFillRate"] = k.FillRate
		if k.FirstStockout != nil {
			p["firstStockout"] = string(*k.FirstStockout)
		}
		fr := make(map[string]any, len(k.FillRates))
		for id, v := range k.FillRates {
			fr[string(id)] = v
		}
		p["fillRates"] = fr
	}
	return twin.Twin{ID: run.ID, Metadata: twin.Metadata{Model: models.ScenarioRun}, Properties: p}
}

// Decode reads a run back from its twin. A twin of another model gives an
// error wrapping ErrNotFound: it is not a run. Properties of the wrong type
// read as their zero value, as a twin validated against the model never
// has them.
func Decode(t twin.Twin) (Run, error) {
	if t.Metadata.Model != models.ScenarioRun {
		return Run{}, fmt.Errorf("scenario: twin %s is a %s, not a ScenarioRun: %w", t.ID, t.Metadata.Model, ErrNotFound)
	}
	p := t.Properties
	str := func(k string) string { v, _ := p[k].(string); return v }
	num := func(k string) float64 { v, _ := p[k].(float64); return v }
	tm := func(k string) *time.Time {
		ts, err := time.Parse(time.RFC3339Nano, str(k))
		if err != nil {
			return nil
		}
		return &ts
	}
	run := Run{
		ID: t.ID, Status: Status(str("status")), Runs: int(num("runs")), Seed: uint64(num("seed")),
		Start: supply.Date(str("startDate")), Days: int(num("days")), InputHash: str("inputHash"),
		ModelVersion: str("modelVersion"), Error: str("error"), AsOf: tm("graphAsOf"), CompletedAt: tm("completedAt"),
	}
	if n := str("name"); n != string(t.ID) {
		run.Name = n
	}
	run.Graph, _ = p["fromGraph"].(bool)
	if c := tm("createdAt"); c != nil {
		run.CreatedAt = *c
	}
	if pj := str("provenanceJson"); pj != "" {
		_ = json.Unmarshal([]byte(pj), &run.Provenance) // lenient, as for the other properties
	}
	if fr, ok := p["fillRates"].(map[string]any); ok {
		k := &supply.DemandKPIs{Lost: num("lostTonnes"), FillRate: num("demandFillRate"), FillRates: make(map[supply.NodeID]float64, len(fr))}
		if so := str("firstStockout"); so != "" {
			d := supply.Date(so)
			k.FirstStockout = &d
		}
		for id, v := range fr {
			k.FillRates[supply.NodeID(id)], _ = v.(float64)
		}
		run.KPIs = k
	}
	if s := str("scenarioJson"); s != "" {
		run.Scenario = json.RawMessage(s)
	}
	if s := str("resultJson"); s != "" {
		run.Result = json.RawMessage(s)
	}
	return run, nil
}
