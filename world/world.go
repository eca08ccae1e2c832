package world

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"lodestone/supply"
)

//go:embed data/world2024.json
var world2024 []byte

// Data returns a copy of the JSON text of the default world.
func Data() []byte { return bytes.Clone(world2024) }

// Quantity is a number with its provenance. Value is in the unit the field
// name states (tonnes per year, days, mass fraction).
type Quantity struct {
	Value float64 `json:"value"`
	// Year is the year the figure refers to, when it refers to one.
	Year int `json:"year,omitempty"`
	// Source names the publication in words and cites it by key in square
	// brackets, "[S6]" (or "[KEY, p. 145]" with a page): an entry of the
	// bibliography (data/bibliography.json, [Bibliography]) or of the data
	// set's own sources.
	Source string `json:"source"`
	// Derived marks a value computed from other sourced values; Formula
	// states the arithmetic in words.
	Derived bool   `json:"derived,omitempty"`
	Formula string `json:"formula,omitempty"`
	// Assumption marks a modelling choice; Why says why it is made.
	Assumption bool   `json:"assumption,omitempty"`
	Why        string `json:"why,omitempty"`
	// Note explains the value (what it counts).
	Note string `json:"note,omitempty"`
}

// Figure is a reported figure kept for reference next to a node (it does not
// enter the network): what it counts and its value.
type Figure struct {
	What string `json:"what"`
	// TwinProperty names where Twins puts the figure: the facility's
	// "productionTonnesPerYear" (with productionYear from Year) or the
	// node country's "country.reservesTonnesReo"; empty: nowhere.
	TwinProperty string `json:"twin_property,omitempty"`
	Quantity
}

// Material is a material traded along the chain.
type Material struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Form is the ontology's Material.form (concentrate, oxide, metal,
	// alloy, magnet).
	Form string `json:"form"`
	// Elements lists the elements the material contains; the supply
	// network's arc material names them so that export controls by
	// element match.
	Elements []string `json:"elements"`
	// ConsumptionRatio is the tonnes of this material the consuming stage
	// needs per tonne of its output (the arc ratio). Nil for materials used
	// only in the element-level network, whose ratios come from grades.
	ConsumptionRatio *Quantity `json:"consumption_ratio,omitempty"`
}

// Grade is a magnet grade and its bill of materials: mass fractions of
// NdPr, Dy, Tb, B, Co and Fe (keys are element symbols; NdPr is Nd plus Pr).
type Grade struct {
	Code        string              `json:"code"`
	Name        string              `json:"name"`
	Composition map[string]Quantity `json:"composition"`
}

// Node is a site of the network, or an aggregate of the sites of a country.
type Node struct {
	ID    supply.NodeID `json:"id"`
	Name  string        `json:"name"`
	Stage string        `json:"stage"` // a supply.Stage* name
	// Country is the ISO 3166-1 alpha-2 code, or "ROW" for an aggregate of
	// several countries (listed in Countries).
	Country   string   `json:"country"`
	Countries []string `json:"countries,omitempty"`
	Operator  string   `json:"operator,omitempty"`
	// Output is the code of the material the node makes or holds.
	Output                string    `json:"output"`
	CapacityTonnesPerYear *Quantity `json:"capacity_tonnes_per_year,omitempty"`
	DemandTonnesPerYear   *Quantity `json:"demand_tonnes_per_year,omitempty"`
	InventoryTonnes       *Quantity `json:"inventory_tonnes,omitempty"`
	InventoryCoverDays    *Quantity `json:"inventory_cover_days,omitempty"`
	TargetCoverDays       *Quantity `json:"target_cover_days,omitempty"`
	Reported              []Figure  `json:"reported,omitempty"`
	Notes                 string    `json:"notes,omitempty"`
}

// Capacity returns the node's capacity in tonnes per year (0 if it has none).
func (n *Node) Capacity() float64 { return n.CapacityTonnesPerYear.value() }

// Demand returns the node's demand in tonnes per year (0 if it has none).
func (n *Node) Demand() float64 { return n.DemandTonnesPerYear.value() }

func (q *Quantity) value() float64 {
	if q == nil {
		return 0
	}
	return q.Value
}

// Arc is a trade route: From may supply To with Material. A route the
// research note states has a Source; one it does not is an Assumption with
// Why.
type Arc struct {
	From     supply.NodeID `json:"from"`
	To       supply.NodeID `json:"to"`
	Material string        `json:"material"`
	// Ratio overrides the material's consumption ratio on this arc.
	Ratio        *Quantity `json:"ratio,omitempty"`
	LeadTimeDays *Quantity `json:"lead_time_days,omitempty"`
	Source       string    `json:"source,omitempty"`
	Assumption   bool      `json:"assumption,omitempty"`
	Why          string    `json:"why,omitempty"`
}

// PublishedShare is a published China share of a stage's world output.
type PublishedShare struct {
	Stage      string   `json:"stage"`
	ChinaShare Quantity `json:"china_share"`
}

// Project is announced or planned capacity, kept for scenarios of new
// capacity; it is not part of the 2024 network.
type Project struct {
	Name                  string   `json:"name"`
	Country               string   `json:"country"`
	Stage                 string   `json:"stage"`
	CapacityTonnesPerYear Quantity `json:"capacity_tonnes_per_year"`
}

// Absent is a producer of a published production table (the USGS mine
// production table) that the data deliberately leave without a node, with
// the reason: a country the table does not list, or one it lists with zero
// production. TestUSGSMines checks that every row of the table is a mine
// node or an Absent entry.
type Absent struct {
	// Country is the ISO 3166-1 alpha-2 code.
	Country string `json:"country"`
	Name    string `json:"name"`
	Reason  string `json:"reason"`
	// Source cites the table that was checked, as in a Quantity.
	Source string `json:"source"`
}

// Parameter is a parameter the research note did not supply and the data
// leave without a default.
type Parameter struct {
	Name        string `json:"name"`
	AppliesTo   string `json:"applies_to"`
	Description string `json:"description"`
	Why         string `json:"why"`
}

// World is a decoded, validated world data set.
type World struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	ResearchNote string `json:"research_note"`
	// Sources maps citation keys to their citations. A data set may define
	// keys of its own here; the embedded data define none and cite the
	// bibliography. Decode fills it with every key the data and supply's
	// built-in controls cite, formatted from the bibliography.
	Sources   map[string]string `json:"sources,omitempty"`
	Materials []Material        `json:"materials"`
	// OxideMetalFraction is the metal mass fraction of each element's oxide
	// (keys NdPr, Dy, Tb); OxideMetalLoss the share lost from oxide to metal.
	OxideMetalFraction map[string]Quantity `json:"oxide_metal_fraction"`
	OxideMetalLoss     Quantity            `json:"oxide_metal_loss"`
	Grades             []Grade             `json:"grades"`
	Nodes              []Node              `json:"nodes"`
	Arcs               []Arc               `json:"arcs"`
	PublishedShares    []PublishedShare    `json:"published_shares"`
	// WorldMineProductionTonnesREO is the USGS world total (rounded), the
	// base of the separation stage.
	WorldMineProductionTonnesREO Quantity  `json:"world_mine_production_tonnes_reo"`
	Projects                     []Project `json:"projects"`
	// Absent lists the producers of the USGS table left out of the
	// network, each with its reason.
	Absent             []Absent    `json:"absent"`
	RequiredParameters []Parameter `json:"required_parameters"`
	Missing            []string    `json:"missing"`

	bib map[string]Reference // the bibliography while validating
}

// Load decodes and validates the embedded default world.
func Load() (*World, error) { return Decode(world2024) }

// Decode decodes a world data set strictly (unknown fields are errors) and
// validates it. Errors name the offending field as a JSON path.
func Decode(data []byte) (*World, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("world: decode: field %s: want %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("world: decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("world: decode: trailing data after the document")
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	var controls []string
	for _, c := range supply.BuiltinControls() {
		controls = append(controls, c.Source)
	}
	w.Sources = citedSources(data, w.Sources, w.bib, controls...)
	return &w, nil
}

// FieldError reports a bad value at a JSON path of the data set, such as
// "nodes[3].capacity_tonnes_per_year.source".
type FieldError struct {
	Field string // JSON path of the offending value
	Msg   string // what is wrong with it
}

// Error implements error: "world: FIELD: MSG".
func (e *FieldError) Error() string { return "world: " + e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// checkSource checks that a source is given, that it cites at least one
// key, that every bracketed group in it is a citation and that every key
// resolves, in the data set's own sources or in the bibliography.
func (w *World) checkSource(field, src string) error {
	if strings.TrimSpace(src) == "" {
		return fieldErr(field, "a source is required")
	}
	keys, bad := Citations(src)
	if len(bad) > 0 {
		return fieldErr(field, "%s is not a citation ([KEY] or [KEY, place])", bad[0])
	}
	if len(keys) == 0 {
		return fieldErr(field, "cites no source: name the publication and cite its bibliography key as [KEY]")
	}
	for _, k := range keys {
		if _, ok := w.Sources[k]; ok {
			continue
		}
		if _, ok := w.bib[k]; !ok {
			return fieldErr(field, "citation key [%s] is not in the bibliography", k)
		}
	}
	return nil
}

// checkQ validates a quantity: finite, non-negative, sourced; derived values
// state a formula and assumptions a reason.
func (w *World) checkQ(field string, q *Quantity) error {
	if q == nil {
		return nil
	}
	if math.IsNaN(q.Value) || math.IsInf(q.Value, 0) || q.Value < 0 {
		return fieldErr(field+".value", "must be a finite number >= 0")
	}
	if err := w.checkSource(field+".source", q.Source); err != nil {
		return err
	}
	if q.Derived && strings.TrimSpace(q.Formula) == "" {
		return fieldErr(field+".formula", "a derived value must state its formula")
	}
	if !q.Derived && q.Formula != "" {
		return fieldErr(field+".derived", "a value with a formula must be marked derived")
	}
	if q.Assumption && strings.TrimSpace(q.Why) == "" {
		return fieldErr(field+".why", "an assumption must say why")
	}
	if !q.Assumption && q.Why != "" {
		return fieldErr(field+".assumption", "a value with a reason (why) must be marked an assumption")
	}
	return nil
}

var stages = []string{supply.StageMine, supply.StageConcentrate, supply.StageSeparation, supply.StageMetal,
	supply.StageMagnet, supply.StageOEM, supply.StageStockpile, supply.StageWarehouse}

// Validate checks the data set; the error is a *FieldError naming the field.
func (w *World) Validate() error {
	var err error
	if w.bib, err = bibliographyIndex(); err != nil {
		return err
	}
	if w.Name == "" {
		return fieldErr("name", "required")
	}
	for k, v := range w.Sources {
		if strings.TrimSpace(v) == "" {
			return fieldErr("sources."+k, "empty citation")
		}
	}
	mats := map[string]*Material{}
	for i := range w.Materials {
		m := &w.Materials[i]
		p := fmt.Sprintf("materials[%d]", i)
		if m.Code == "" {
			return fieldErr(p+".code", "required")
		}
		if _, dup := mats[m.Code]; dup {
			return fieldErr(p+".code", "duplicate material %q", m.Code)
		}
		mats[m.Code] = m
		if len(m.Elements) == 0 {
			return fieldErr(p+".elements", "at least one element is required")
		}
		if err := w.checkQ(p+".consumption_ratio", m.ConsumptionRatio); err != nil {
			return err
		}
		if m.ConsumptionRatio != nil && m.ConsumptionRatio.Value <= 0 {
			return fieldErr(p+".consumption_ratio.value", "must be > 0")
		}
	}
	for _, k := range []string{"NdPr", "Dy", "Tb"} {
		q, ok := w.OxideMetalFraction[k]
		if !ok {
			return fieldErr("oxide_metal_fraction."+k, "required")
		}
		if err := w.checkQ("oxide_metal_fraction."+k, &q); err != nil {
			return err
		}
		if q.Value <= 0 || q.Value > 1 {
			return fieldErr("oxide_metal_fraction."+k+".value", "must be in (0, 1]")
		}
	}
	if err := w.checkQ("oxide_metal_loss", &w.OxideMetalLoss); err != nil {
		return err
	}
	if w.OxideMetalLoss.Value >= 1 {
		return fieldErr("oxide_metal_loss.value", "must be < 1")
	}
	for i, g := range w.Grades {
		p := fmt.Sprintf("grades[%d]", i)
		if g.Code == "" {
			return fieldErr(p+".code", "required")
		}
		sum := 0.0
		for _, k := range slices.Sorted(maps.Keys(g.Composition)) {
			q := g.Composition[k]
			if err := w.checkQ(p+".composition."+k, &q); err != nil {
				return err
			}
			sum += q.Value
		}
		if _, ok := g.Composition["NdPr"]; !ok {
			return fieldErr(p+".composition.NdPr", "required")
		}
		if math.Abs(sum-1) > 1e-6 {
			return fieldErr(p+".composition", "mass fractions sum to %.6g, want 1", sum)
		}
	}
	ids := map[supply.NodeID]int{}
	for i := range w.Nodes {
		n := &w.Nodes[i]
		p := fmt.Sprintf("nodes[%d]", i)
		if n.ID == "" {
			return fieldErr(p+".id", "required")
		}
		if j, dup := ids[n.ID]; dup {
			return fieldErr(p+".id", "duplicate id %q (also nodes[%d])", n.ID, j)
		}
		ids[n.ID] = i
		if !slices.Contains(stages, n.Stage) {
			return fieldErr(p+".stage", "unknown stage %q", n.Stage)
		}
		if n.Country == "" {
			return fieldErr(p+".country", "required")
		}
		if _, ok := mats[n.Output]; !ok {
			return fieldErr(p+".output", "unknown material %q", n.Output)
		}
		for _, f := range []struct {
			name string
			q    *Quantity
		}{
			{"capacity_tonnes_per_year", n.CapacityTonnesPerYear},
			{"demand_tonnes_per_year", n.DemandTonnesPerYear},
			{"inventory_tonnes", n.InventoryTonnes},
			{"inventory_cover_days", n.InventoryCoverDays},
			{"target_cover_days", n.TargetCoverDays},
		} {
			if err := w.checkQ(p+"."+f.name, f.q); err != nil {
				return err
			}
		}
		for j := range n.Reported {
			if n.Reported[j].What == "" {
				return fieldErr(fmt.Sprintf("%s.reported[%d].what", p, j), "required")
			}
			switch tp := n.Reported[j].TwinProperty; tp {
			case "", "productionTonnesPerYear", "country.reservesTonnesReo":
			default:
				return fieldErr(fmt.Sprintf("%s.reported[%d].twin_property", p, j), "unknown twin property %q", tp)
			}
			if err := w.checkQ(fmt.Sprintf("%s.reported[%d]", p, j), &n.Reported[j].Quantity); err != nil {
				return err
			}
		}
		switch n.Stage {
		case supply.StageOEM:
			if n.DemandTonnesPerYear == nil {
				return fieldErr(p+".demand_tonnes_per_year", "required for an oem node")
			}
		case supply.StageStockpile:
		default:
			if n.CapacityTonnesPerYear == nil {
				return fieldErr(p+".capacity_tonnes_per_year", "required for a %s node", n.Stage)
			}
		}
	}
	for i, a := range w.Arcs {
		p := fmt.Sprintf("arcs[%d]", i)
		if _, ok := ids[a.From]; !ok {
			return fieldErr(p+".from", "unknown node %q", a.From)
		}
		if _, ok := ids[a.To]; !ok {
			return fieldErr(p+".to", "unknown node %q", a.To)
		}
		m, ok := mats[a.Material]
		if !ok {
			return fieldErr(p+".material", "unknown material %q", a.Material)
		}
		if from := w.Nodes[ids[a.From]]; from.Output != a.Material {
			return fieldErr(p+".material", "%q is not the output of %s (%q)", a.Material, a.From, from.Output)
		}
		if a.Ratio == nil && m.ConsumptionRatio == nil {
			return fieldErr(p+".ratio", "required: material %q has no consumption ratio", a.Material)
		}
		if err := w.checkQ(p+".ratio", a.Ratio); err != nil {
			return err
		}
		if a.Ratio != nil && a.Ratio.Value <= 0 {
			return fieldErr(p+".ratio.value", "must be > 0")
		}
		if err := w.checkQ(p+".lead_time_days", a.LeadTimeDays); err != nil {
			return err
		}
		switch {
		case a.Assumption && strings.TrimSpace(a.Why) == "":
			return fieldErr(p+".why", "an assumed route must say why")
		case !a.Assumption:
			if err := w.checkSource(p+".source", a.Source); err != nil {
				return err
			}
		}
	}
	for i, s := range w.PublishedShares {
		p := fmt.Sprintf("published_shares[%d]", i)
		if !slices.Contains(stages, s.Stage) {
			return fieldErr(p+".stage", "unknown stage %q", s.Stage)
		}
		if err := w.checkQ(p+".china_share", &s.ChinaShare); err != nil {
			return err
		}
		if s.ChinaShare.Value > 1 {
			return fieldErr(p+".china_share.value", "must be <= 1")
		}
	}
	if err := w.checkQ("world_mine_production_tonnes_reo", &w.WorldMineProductionTonnesREO); err != nil {
		return err
	}
	for i := range w.Projects {
		if err := w.checkQ(fmt.Sprintf("projects[%d].capacity_tonnes_per_year", i), &w.Projects[i].CapacityTonnesPerYear); err != nil {
			return err
		}
	}
	return w.validateAbsent()
}

// validateAbsent checks the absent producers: a country code, a reason and
// a resolving source each, and no country that is also a mine node.
func (w *World) validateAbsent() error {
	mines := map[string]supply.NodeID{}
	for i := range w.Nodes {
		if n := &w.Nodes[i]; n.Stage == supply.StageMine {
			mines[n.Country] = n.ID
		}
	}
	seen := map[string]bool{}
	for i, a := range w.Absent {
		p := fmt.Sprintf("absent[%d]", i)
		switch {
		case !isoRE.MatchString(a.Country):
			return fieldErr(p+".country", "%q is not an ISO 3166-1 alpha-2 code", a.Country)
		case seen[a.Country]:
			return fieldErr(p+".country", "duplicate country %q", a.Country)
		case mines[a.Country] != "":
			return fieldErr(p+".country", "%s is absent but has the mine node %s", a.Country, mines[a.Country])
		case strings.TrimSpace(a.Name) == "":
			return fieldErr(p+".name", "required")
		case strings.TrimSpace(a.Reason) == "":
			return fieldErr(p+".reason", "required: say why the producer has no node")
		}
		seen[a.Country] = true
		if err := w.checkSource(p+".source", a.Source); err != nil {
			return err
		}
	}
	return nil
}

// isoRE matches an ISO 3166-1 alpha-2 code.
var isoRE = regexp.MustCompile(`^[A-Z]{2}$`)

// Node returns the node with the given id, or nil.
func (w *World) Node(id supply.NodeID) *Node {
	for i := range w.Nodes {
		if w.Nodes[i].ID == id {
			return &w.Nodes[i]
		}
	}
	return nil
}

// Material returns the material with the given code, or nil.
func (w *World) Material(code string) *Material {
	for i := range w.Materials {
		if w.Materials[i].Code == code {
			return &w.Materials[i]
		}
	}
	return nil
}

// Grade returns the magnet grade with the given code, or nil.
func (w *World) Grade(code string) *Grade {
	for i := range w.Grades {
		if w.Grades[i].Code == code {
			return &w.Grades[i]
		}
	}
	return nil
}
