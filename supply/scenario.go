package supply

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Date is a calendar date "YYYY-MM-DD" (UTC, no time of day).
type Date string

// dateLayout is the wire format of Date.
const dateLayout = "2006-01-02"

func (d Date) parse(field string) (time.Time, error) {
	t, err := time.Parse(dateLayout, string(d))
	if err != nil {
		return time.Time{}, fieldErr(field, "invalid date %q (want YYYY-MM-DD)", string(d))
	}
	return t, nil
}

// SimScenario is the SCENARIO document of `lodestone supply run`: a network
// whose quantities are per day, simulated day by day from Start for Days
// days under shocks, export controls, qualification programmes and
// inventory policies.
type SimScenario struct {
	Description    string          `json:"description,omitempty"`
	Start          Date            `json:"start" req:"true"`
	Days           int             `json:"days" req:"true"`
	Network        Network         `json:"network" req:"true"`
	Shocks         []Shock         `json:"shocks,omitempty"`
	Controls       []Control       `json:"controls,omitempty"`
	Policies       Policies        `json:"policies,omitzero"`
	Qualifications []Qualification `json:"qualifications,omitempty"`
	RandomShocks   []RandomShock   `json:"random_shocks,omitempty"`
	Builds         []Build         `json:"builds,omitempty"`
	Substitutions  []Substitution  `json:"substitutions,omitempty"`
	// Prices are the prices of materials per country, each with its
	// currency, date and source; Costs the margins, holding costs and
	// units. With neither (and no build or qualification cost) results
	// carry no money.
	Prices []Price `json:"prices,omitempty"`
	Costs  *Costs  `json:"costs,omitempty"`
	// InitialState is InitialDeclared (the default: exactly the declared
	// stocks; input stocks and pipelines empty unless given) or
	// InitialAtRest (a network in steady state, as a historical replay
	// starts); InitialCoverDays is the input stock of "at_rest" in days of
	// throughput (absent: DefaultCoverDays).
	InitialState     string   `json:"initial_state,omitempty"`
	InitialCoverDays *float64 `json:"initial_cover_days,omitempty"`
}

// Build is new capacity at a node: from Online the node's capacity grows by
// AddCapacityPerPeriod, linearly over RampDays (at once when 0). The build
// time is the caller's (the note gives ~3 years for a magnet plant and up to
// ~7 years for a mine [S26][S15]).
type Build struct {
	Node                 NodeID  `json:"node" req:"true"`
	Online               Date    `json:"online" req:"true"`
	AddCapacityPerPeriod float64 `json:"add_capacity_per_period" req:"true"`
	RampDays             int     `json:"ramp_days,omitempty"`
	// Capex is the capital cost of the build, charged once; OpexPerDay its
	// operating cost per day from Online to the horizon (scenario currency).
	Capex      float64 `json:"capex,omitempty"`
	OpexPerDay float64 `json:"opex_per_day,omitempty"`
	Source     string  `json:"source,omitempty"`
}

// Substitution lowers a demand node's demand from From on (lower-Dy grades,
// thrifting, other technologies): the substituted share grows by RatePerYear
// per year up to MaxShare. Sprecher et al. (2017) report substitution of up
// to 10% of total demand per year in the 2010–11 crisis [S70].
type Substitution struct {
	Node        NodeID  `json:"node" req:"true"`
	From        Date    `json:"from" req:"true"`
	RatePerYear float64 `json:"rate_per_year" req:"true"`
	MaxShare    float64 `json:"max_share" req:"true"`
	Source      string  `json:"source,omitempty"`
}

// Shock kinds.
const (
	ShockOutage      = "outage"       // node capacity × capacity_factor
	ShockLaneClosure = "lane_closure" // arc flow × capacity_factor (0 closes the lane)
	ShockPortDelay   = "port_delay"   // arc transit + delay_days
	ShockDemandSurge = "demand_surge" // node demand × demand_factor
)

// Shock is a dated disruption; From and To are inclusive. Exactly one of Node
// and Arc is set. Kind defaults to outage for a node and lane_closure for an
// arc.
type Shock struct {
	Node           NodeID  `json:"node,omitempty"`
	Arc            string  `json:"arc,omitempty"` // an arc's id, or "FROM->TO"
	Kind           string  `json:"kind,omitempty"`
	From           Date    `json:"from" req:"true"`
	To             Date    `json:"to" req:"true"`
	CapacityFactor float64 `json:"capacity_factor,omitempty"` // share of capacity or lane flow kept
	DelayDays      int     `json:"delay_days,omitempty"`      // extra transit days (port_delay)
	DemandFactor   float64 `json:"demand_factor,omitempty"`   // demand multiplier (demand_surge)
}

// RandomShock is a shock process for Monte Carlo: each day a new event starts
// with probability ProbPerDay (when none is under way); it lasts a lognormal
// number of days with median DurationDays and log-sd DurationSigma (fixed
// when 0) and hits all of Nodes at once (a common-mode shock).
type RandomShock struct {
	Name           string   `json:"name" req:"true"`
	Nodes          []NodeID `json:"nodes" req:"true"`
	ProbPerDay     float64  `json:"prob_per_day" req:"true"`
	DurationDays   float64  `json:"duration_days" req:"true"`
	DurationSigma  float64  `json:"duration_sigma,omitempty"`
	CapacityFactor float64  `json:"capacity_factor,omitempty"`
}

// Policy is the inventory policy of one node's inputs. Levels are in days of
// the node's input use at full capacity.
type Policy struct {
	// Type is "base_stock" (order up to CoverDays every day, the default)
	// or "ss" (order up to CoverDays when the position falls to ReorderDays).
	Type        string  `json:"type,omitempty"`
	CoverDays   float64 `json:"cover_days,omitempty"`   // order-up-to level S; 0: lead time + 14 days
	ReorderDays float64 `json:"reorder_days,omitempty"` // reorder point s of an (s,S) policy
	// Release applies to stockpile nodes (stage "stockpile"): "shortfall"
	// (the default) ships only to cover customers' unfilled orders of the
	// previous day; "date" ships like any source from ReleaseFrom on.
	Release       string  `json:"release,omitempty"`
	ReleaseFrom   Date    `json:"release_from,omitempty"`
	ReleasePerDay float64 `json:"release_per_day,omitempty"` // cap on daily release; 0: no cap
}

// Allocation rules.
const (
	AllocProportional = "proportional" // every request gets the same share
	AllocPriority     = "priority"     // external demand first, then arcs in file order
)

// Policies holds the default and per-node inventory policies and the
// allocation rule.
type Policies struct {
	Default    *Policy           `json:"default,omitempty"`
	Nodes      map[NodeID]Policy `json:"nodes,omitempty"`
	Allocation string            `json:"allocation,omitempty"`
}

// Qualification is an OEM's programme to qualify a new supplier on an arc:
// the arc carries nothing until the programme passes screening, samples and
// PPAP, and audit; then its flow ramps linearly to full over RampDays.
type Qualification struct {
	Arc           string `json:"arc" req:"true"`
	Start         Date   `json:"start" req:"true"`
	ScreeningDays int    `json:"screening_days"`
	SamplesDays   int    `json:"samples_days"`
	AuditDays     int    `json:"audit_days"`
	RampDays      int    `json:"ramp_days"`
	// Cost is the cost of the programme (scenario currency), charged to
	// the lane's customer.
	Cost float64 `json:"cost,omitempty"`
}

// Qualification states.
const (
	QualUnqualified = "unqualified"
	QualScreening   = "screening"
	QualSamples     = "samples_ppap"
	QualAudit       = "audit"
	QualRamp        = "ramp"
	QualQualified   = "qualified"
)

// State returns the programme's state on day d (days since its start) and
// the share of the arc's flow available (0 before ramp, τ/RampDays in ramp, 1
// when qualified).
func (q Qualification) State(d int) (string, float64) {
	switch {
	case d < 0:
		return QualUnqualified, 0
	case d < q.ScreeningDays:
		return QualScreening, 0
	case d < q.ScreeningDays+q.SamplesDays:
		return QualSamples, 0
	case d < q.ScreeningDays+q.SamplesDays+q.AuditDays:
		return QualAudit, 0
	}
	tau := d - (q.ScreeningDays + q.SamplesDays + q.AuditDays)
	if tau < q.RampDays {
		return QualRamp, float64(tau+1) / float64(q.RampDays)
	}
	return QualQualified, 1
}

// DefaultQualification returns a programme with the mid-points of the
// supplier playbook's ranges for production programmes [S27, vendor source,
// verify]: screening 3–4 weeks (24 days), samples + PPAP level 3 2–3 months
// (75 days), audit 1–2 months (45 days). The playbook gives no ramp length;
// rampDays is the caller's.
func DefaultQualification(arc string, start Date, rampDays int) Qualification {
	return Qualification{Arc: arc, Start: start, ScreeningDays: 24, SamplesDays: 75, AuditDays: 45, RampDays: rampDays}
}

// DecodeScenario decodes a SCENARIO JSON document strictly and validates it.
func DecodeScenario(data []byte) (*SimScenario, error) {
	var s SimScenario
	if err := decodeStrict(data, &s); err != nil {
		return nil, err
	}
	if _, err := compile(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the scenario; the error names the offending field.
func (s *SimScenario) Validate() error {
	_, err := compile(s)
	return err
}

// arcKey returns the names an arc answers to: its ID and "FROM->TO".
func arcNames(a Arc) []string {
	n := []string{string(a.From) + "->" + string(a.To)}
	if a.ID != "" {
		n = append(n, a.ID)
	}
	return n
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// materialTokens splits a material name into element-like tokens: "Dy
// oxide" → ["dy", "oxide"]; used to match control scopes.
func materialTokens(m string) []string {
	return strings.FieldsFunc(strings.ToLower(m), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

func describe(i int, name string) string {
	return fmt.Sprintf("%s[%d]", name, i)
}
