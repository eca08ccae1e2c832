package org

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"lodestone/supply"
)

// Roles returns the roles an actor may have (issue 14: the functions a
// decision passes through).
func Roles() []string {
	return []string{"procurement", "engineering", "finance", "policy", "plant_operations"}
}

// Signals a rule may watch.
const (
	SignalDaysOfCover = "days_of_cover" // node's on-hand stock / its average daily demand (supply.Day.DailyUse)
	SignalInventory   = "inventory"     // node's on-hand stock, units
	SignalFillRate    = "fill_rate"     // node's fill rate over the trailing 7 days
	SignalStockout    = "stockout"      // 1 once the node has had a stockout day, else 0
	SignalLost        = "lost"          // node's external demand lost so far, units
	SignalControl     = "control"       // 0 before the control is announced, 1 announced, 2 in force
	// SignalPrice is the scenario's price of When.Material in
	// When.Country ("" : the benchmark) in force on the day: the latest
	// entry of "prices" dated on or before it (a month or year starts on
	// its first day).
	SignalPrice = "price"
	// SignalLicenceRefused is the number of licence applications under
	// When.Control (a licence control) refused so far.
	SignalLicenceRefused = "licence_refused"
	// SignalPlantAlarm is the number of alarms of the plant twin at
	// When.Node raised so far (Org.Alarms and Org.PlantEstimates).
	SignalPlantAlarm = "plant_alarm"
)

// Actions the engine carries out.
const (
	// ActionActivateArc: a standby lane starts carrying flow on the
	// effective day.
	ActionActivateArc = "activate_arc"
	// ActionStartQualification: a qualification programme of a standby
	// lane starts on the effective day; the lane carries flow once the
	// programme's screening, samples/PPAP and audit are done (defaults:
	// supply.DefaultQualification, 24 + 75 + 45 days, research note c.8
	// [S27]). No ramp: the lane opens at full flow.
	ActionStartQualification = "start_qualification"
	// ActionReleaseStockpile: a stockpile node's standby arcs to its
	// customers go into service on the effective day (the stockpile is
	// then released as its policy says, on shortfall by default).
	ActionReleaseStockpile = "release_stockpile"
	// ActionChangePolicy: from the effective day node Node's inputs are
	// ordered up to CoverDays of its throughput, and/or the allocation
	// rule becomes Allocation ("priority" or "proportional").
	ActionChangePolicy = "change_policy"
	// ActionSubstituteGrade: from the effective day demand node Node
	// substitutes another grade (lower-Dy magnets, thrifting): its demand
	// falls by a share growing RatePerYear per year up to MaxShare, as a
	// scenario's substitutions.
	ActionSubstituteGrade = "substitute_grade"
	// ActionApplyForLicences: on the effective day licences are applied
	// for on every lane of the licence control Control that has none, even
	// before the control is in force (the review runs from then).
	ActionApplyForLicences = "apply_for_licences"
	// ActionStartBuild: on the effective day a build of new capacity at
	// Node starts; after LeadTimeDays (the build time) its capacity grows
	// by AddCapacityPerPeriod, linearly over RampDays, as a scenario's
	// builds (supply.Build). Cost is the build's capex, what approvers'
	// authority limits are checked against (finance approves capex up to a
	// budget).
	ActionStartBuild = "start_build"
)

// Actions lists the action types.
func Actions() []string {
	return []string{ActionActivateArc, ActionStartQualification, ActionReleaseStockpile, ActionChangePolicy, ActionSubstituteGrade, ActionApplyForLicences, ActionStartBuild}
}

// Scenario is the SCENARIO document of `lodestone org run`: a supply
// scenario plus its organisation.
type Scenario struct {
	Supply *supply.SimScenario
	Org    Org
}

// Org is the organisation: who watches what, and who approves.
type Org struct {
	Actors []Actor `json:"actors"`
	Rules  []Rule  `json:"rules"`
	// Alarms and PlantEstimates are the plant twin's alarms that the
	// signal plant_alarm counts.
	Alarms         []Alarm         `json:"alarms,omitempty"`
	PlantEstimates []PlantEstimate `json:"plant_estimates,omitempty"`
}

// Alarm is an alarm of the plant twin at a node of the network on a date.
type Alarm struct {
	Node string      `json:"node"`
	Date supply.Date `json:"date"`
	Kind string      `json:"kind,omitempty"`
}

// PlantEstimate is the output of `lodestone plant estimate --json` (its
// alarms; other fields are ignored) for the plant at Node, whose hour 0
// is the date Start: an alarm at t_h hours is raised on Start + ⌊t_h/24⌋.
type PlantEstimate struct {
	Node   string      `json:"node"`
	Start  supply.Date `json:"start"`
	Alarms []struct {
		TH     float64 `json:"t_h"`
		Kind   string  `json:"kind,omitempty"`
		Sensor string  `json:"sensor,omitempty"`
	} `json:"alarms"`
}

// Actor is a person or function with a role. AuthorityLimit, when set, is
// the largest action cost it may approve alone; above it the decision goes
// on to Escalate (finance approves capex up to a budget, the board above).
type Actor struct {
	ID             string    `json:"id"`
	Role           string    `json:"role"`
	Org            string    `json:"org,omitempty"`
	AuthorityLimit *float64  `json:"authority_limit,omitempty"`
	Escalate       *Approval `json:"escalate,omitempty"`
}

// Rule is "when SIGNAL crosses a threshold, after LATENCY, do ACTION,
// subject to APPROVAL". It fires once, on the first day its condition holds.
type Rule struct {
	ID          string    `json:"id"`
	Actor       string    `json:"actor"`
	When        When      `json:"when"`
	LatencyDays int       `json:"latency_days"`
	Action      Action    `json:"action"`
	Approval    *Approval `json:"approval,omitempty"`
}

// When is a rule's trigger: Signal at Node (or Control) below or above a
// threshold (exactly one of Below and Above).
type When struct {
	Signal  string `json:"signal"`
	Node    string `json:"node,omitempty"`
	Control string `json:"control,omitempty"`
	// Material and Country select the price of the signal price.
	Material string   `json:"material,omitempty"`
	Country  string   `json:"country,omitempty"`
	Below    *float64 `json:"below,omitempty"`
	Above    *float64 `json:"above,omitempty"`
}

// Action is what a rule does. Cost is what an approver's authority limit
// is checked against (scenario currency; a build's capex). It is not
// charged to the run's money.
type Action struct {
	Type string  `json:"type"`
	Arc  string  `json:"arc,omitempty"`
	Node string  `json:"node,omitempty"` // release_stockpile: the stockpile; start_build: where
	Cost float64 `json:"cost,omitempty"`
	// The programme of start_qualification, days (absent: the defaults).
	ScreeningDays *int `json:"screening_days,omitempty"`
	SamplesDays   *int `json:"samples_days,omitempty"`
	AuditDays     *int `json:"audit_days,omitempty"`
	// change_policy: the new cover days of Node's inputs and/or the
	// allocation rule.
	CoverDays  *float64 `json:"cover_days,omitempty"`
	Allocation string   `json:"allocation,omitempty"`
	// substitute_grade: the substitution at Node.
	RatePerYear *float64 `json:"rate_per_year,omitempty"`
	MaxShare    *float64 `json:"max_share,omitempty"`
	// apply_for_licences: the licence control (its name).
	Control string `json:"control,omitempty"`
	// start_build: the capacity added per period (> 0, the node's units
	// per day), the ramp to it and the build time from the effective day
	// until the capacity starts to come online (the fields of
	// supply.Build, whose online date is the effective day + the lead).
	AddCapacityPerPeriod *float64 `json:"add_capacity_per_period,omitempty"`
	RampDays             *int     `json:"ramp_days,omitempty"`
	LeadTimeDays         *int     `json:"lead_time_days,omitempty"`
}

// Approval is a sign-off by another actor, after its own latency.
type Approval struct {
	Actor       string `json:"actor"`
	LatencyDays int    `json:"latency_days"`
}

// FieldError reports bad input at a JSON path such as "org.rules[2].actor".
type FieldError struct {
	Field, Msg string
}

// Error returns "org: FIELD: MSG".
func (e *FieldError) Error() string { return "org: " + e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// strict decodes data into v rejecting unknown fields and trailing data.
func strict(data []byte, v any, field string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fieldErr(field, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return fieldErr(field, "trailing data after the document")
	}
	return nil
}

// DecodeScenario decodes an org SCENARIO strictly: the supply scenario's
// fields as `lodestone supply run` reads them, plus "org".
func DecodeScenario(data []byte) (*Scenario, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fieldErr("scenario", "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if top == nil {
		return nil, fieldErr("scenario", "must be a JSON object")
	}
	raw, ok := top["org"]
	if !ok {
		return nil, fieldErr("org", "required")
	}
	delete(top, "org")
	var sc Scenario
	if err := strict(raw, &sc.Org, "org"); err != nil {
		return nil, err
	}
	rest, err := json.Marshal(top)
	if err != nil {
		return nil, fieldErr("scenario", "%v", err)
	}
	if sc.Supply, err = supply.DecodeScenario(rest); err != nil {
		return nil, err
	}
	if _, err := compile(&sc); err != nil {
		return nil, err
	}
	return &sc, nil
}

// Validate checks the scenario; the error names the offending field.
func (s *Scenario) Validate() error {
	if s.Supply == nil {
		return fieldErr("scenario", "no supply scenario")
	}
	if err := s.Supply.Validate(); err != nil {
		return err
	}
	_, err := compile(s)
	return err
}
