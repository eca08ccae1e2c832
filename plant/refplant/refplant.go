package refplant

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
)

// data is the reference plant description.
//
//lodestone:readonly
//go:embed data/refplant.json
var data []byte

// Twin is one twin of the reference plant: its id, its model (a DTMI of
// the models package) and its properties as JSON values.
type Twin struct {
	ID         string
	Model      string
	Properties map[string]any
}

// Relationship is one edge: Source --Name--> Target, with a unique ID.
type Relationship struct {
	ID     string
	Source string
	Name   string
	Target string
}

// Plant is the reference plant as twins, with the figures the supply layer
// needs to derive a capacity.
type Plant struct {
	Twins         []Twin
	Relationships []Relationship
	// PlantID is the id of the SeparationPlant twin.
	PlantID string
	// Trains is the number of parallel SX trains (an assumption: see
	// TrainsSource).
	Trains       int
	TrainsSource string
	// CapacityTonnesReoPerYear is the plant's scale and its citation.
	CapacityTonnesReoPerYear float64
	CapacitySource           string
	// trains holds, per train (index 0 = train 1), the equipment a train
	// needs to run, for TrainBlock.
	trains [][]equipRef
}

// equipRef is one equipment unit a train needs: its twin id, its model
// name ("Motor") and, for one of a duty/standby pair, the pair's key.
type equipRef struct {
	ID, Model, Pair string
}

type equipment struct {
	Suffix         string            `json:"suffix"`
	Model          string            `json:"model"`
	EquipmentClass string            `json:"equipmentClass"`
	Name           string            `json:"name"`
	Props          map[string]any    `json:"props"`
	Sources        map[string]string `json:"sources"`
	Items          []string          `json:"items"`
	SamplingPump   bool              `json:"sampling_pump"`
	// Stages, for stage equipment, lists the stages that have it (none:
	// every stage).
	Stages   []int  `json:"stages"`
	Measures string `json:"measures"`
	DriveOf  string `json:"drive_of"`
	Unit     string `json:"unit"`
	Source   string `json:"source"`
}

type unit struct {
	Suffix string         `json:"suffix"`
	Model  string         `json:"model"`
	Name   string         `json:"name"`
	Props  map[string]any `json:"props"`
	Source string         `json:"source"`
}

type description struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Sources     map[string]string `json:"sources"`
	Plant       struct {
		ID                    string            `json:"id"`
		Name                  string            `json:"name"`
		Status                string            `json:"status"`
		Media                 string            `json:"media"`
		HeavyRareEarthCapable bool              `json:"heavyRareEarthCapable"`
		ProductCodes          []string          `json:"productCodes"`
		Capacity              float64           `json:"capacityTonnesPerYear"`
		CapacityBasis         string            `json:"capacityBasis"`
		Sources               map[string]string `json:"sources"`
	} `json:"plant"`
	Trains struct {
		Count  int    `json:"count"`
		Source string `json:"source"`
		Why    string `json:"why"`
	} `json:"trains"`
	Cascade struct {
		Separation    string            `json:"separation"`
		Extractant    string            `json:"extractant"`
		Stages        int               `json:"stages"`
		Sources       map[string]string `json:"sources"`
		StageSections []struct {
			From    int    `json:"from"`
			To      int    `json:"to"`
			Section string `json:"section"`
		} `json:"stage_sections"`
		StageSectionsSource string `json:"stage_sections_source"`
		// Spec is the cascade's SXCascade spec property (the SPEC.json of
		// `lodestone sx simulate`, model parameters as parametersJson
		// text): an illustrative bench-scale spec, see its source.
		Spec map[string]any `json:"spec"`
	} `json:"cascade"`
	StageEquipment []equipment `json:"stage_equipment"`
	TrainEquipment []equipment `json:"train_equipment"`
	Sections       []struct {
		Suffix      string      `json:"suffix"`
		SectionType string      `json:"sectionType"`
		Name        string      `json:"name"`
		Units       []unit      `json:"units"`
		Equipment   []equipment `json:"equipment"`
	} `json:"sections"`
}

func dtmi(model string) string { return "dtmi:lodestone:" + model + ";1" }

// Load builds the reference plant from the embedded description. The
// order of twins and relationships is deterministic.
func Load() (*Plant, error) { return decode(data) }

// builder accumulates twins and relationships and resolves source keys.
type builder struct {
	d     *description
	p     *Plant
	seen  map[string]bool
	rseen map[string]bool
}

func (b *builder) cite(key string) (string, error) {
	s, ok := b.d.Sources[key]
	if !ok {
		return "", fmt.Errorf("refplant: source key %q is not in the sources table", key)
	}
	return s, nil
}

// add adds a twin; source is the key of the twin's overall citation and
// sources the keys per property.
func (b *builder) add(id, model string, props map[string]any, source string, sources map[string]string) error {
	if b.seen[id] {
		return fmt.Errorf("refplant: duplicate twin id %q", id)
	}
	b.seen[id] = true
	p := map[string]any{}
	for k, v := range props {
		p[k] = v
	}
	if source != "" {
		c, err := b.cite(source)
		if err != nil {
			return fmt.Errorf("twin %s: %w", id, err)
		}
		p["source"] = c
	}
	if len(sources) > 0 {
		m := map[string]any{}
		for prop, key := range sources {
			c, err := b.cite(key)
			if err != nil {
				return fmt.Errorf("twin %s, property %s: %w", id, prop, err)
			}
			m[prop] = c
		}
		p["sources"] = m
	}
	b.p.Twins = append(b.p.Twins, Twin{ID: id, Model: dtmi(model), Properties: p})
	return nil
}

func (b *builder) rel(src, name, dst string) {
	id := src + "." + name + "." + dst
	if b.rseen[id] {
		return
	}
	b.rseen[id] = true
	b.p.Relationships = append(b.p.Relationships, Relationship{ID: id, Source: src, Name: name, Target: dst})
}

func decode(raw []byte) (*Plant, error) {
	var d description
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("refplant: %w", err)
	}
	if d.Trains.Count < 1 || d.Cascade.Stages < 1 {
		return nil, fmt.Errorf("refplant: trains.count %d and cascade.stages %d must be positive", d.Trains.Count, d.Cascade.Stages)
	}
	if st, ok := d.Cascade.Spec["stages"].(float64); d.Cascade.Spec != nil && (!ok || int(st) != d.Cascade.Stages) {
		return nil, fmt.Errorf("refplant: cascade.spec.stages %v must equal cascade.stages %d", d.Cascade.Spec["stages"], d.Cascade.Stages)
	}
	for _, e := range d.StageEquipment {
		for _, st := range e.Stages {
			if st < 1 || st > d.Cascade.Stages {
				return nil, fmt.Errorf("refplant: stage_equipment %q: stages: %d is not a stage of the %d-stage cascade", e.Suffix, st, d.Cascade.Stages)
			}
		}
	}
	b := &builder{d: &d, p: &Plant{PlantID: d.Plant.ID, Trains: d.Trains.Count}, seen: map[string]bool{}, rseen: map[string]bool{}}
	var err error
	if b.p.TrainsSource, err = b.cite(d.Trains.Source); err != nil {
		return nil, err
	}
	b.p.TrainsSource += ": " + d.Trains.Why
	b.p.CapacityTonnesReoPerYear = d.Plant.Capacity
	if b.p.CapacitySource, err = b.cite(d.Plant.Sources["capacityTonnesPerYear"]); err != nil {
		return nil, err
	}
	pl := d.Plant
	codes := make([]any, len(pl.ProductCodes))
	for i, c := range pl.ProductCodes {
		codes[i] = c
	}
	if err := b.add(pl.ID, "SeparationPlant", map[string]any{
		"name": pl.Name, "status": pl.Status, "media": pl.Media, "heavyRareEarthCapable": pl.HeavyRareEarthCapable,
		"productCodes": codes, "capacityTonnesPerYear": pl.Capacity, "capacityBasis": pl.CapacityBasis,
		"notes": d.Description,
	}, "", pl.Sources); err != nil {
		return nil, err
	}
	for n := 1; n <= d.Trains.Count; n++ {
		if err := b.train(n); err != nil {
			return nil, err
		}
	}
	for _, s := range d.Sections {
		if err := b.section(s.Suffix, s.SectionType, s.Name, s.Units, s.Equipment); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(b.p.Relationships, func(i, j int) bool { return b.p.Relationships[i].ID < b.p.Relationships[j].ID })
	return b.p, nil
}
