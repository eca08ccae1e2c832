package provenance

import (
	"encoding/json"
	"fmt"
)

// Document is a PROV-JSON document. Every section is present (possibly
// empty) so that readers need not check for absent keys. Records are keyed
// by their qualified name; relations by a blank-node id ("_:g1").
type Document struct {
	Prefix            map[string]string `json:"prefix"`
	Entity            map[string]Attrs  `json:"entity"`
	Activity          map[string]Attrs  `json:"activity"`
	Agent             map[string]Attrs  `json:"agent"`
	WasGeneratedBy    map[string]Attrs  `json:"wasGeneratedBy"`
	Used              map[string]Attrs  `json:"used"`
	WasInvalidatedBy  map[string]Attrs  `json:"wasInvalidatedBy"`
	WasDerivedFrom    map[string]Attrs  `json:"wasDerivedFrom"`
	WasAttributedTo   map[string]Attrs  `json:"wasAttributedTo"`
	WasAssociatedWith map[string]Attrs  `json:"wasAssociatedWith"`
}

// Attrs are the attributes of a record: PROV attributes (prov:type,
// prov:value, prov:startTime, …) and Lodestone's (lodestone:…).
type Attrs map[string]any

// Namespaces of the document's qualified names.
const (
	NSLodestone = "https://lodestone.dev/ns/provenance#"
	NSTwin      = "https://lodestone.dev/ns/twin/"
	NSChange    = "https://lodestone.dev/ns/change/"
	NSAgent     = "https://lodestone.dev/ns/agent/"
	NSRun       = "https://lodestone.dev/ns/run/"
	NSBib       = "https://lodestone.dev/ns/bibliography/"
)

func newDocument() *Document {
	return &Document{
		Prefix: map[string]string{
			"lodestone": NSLodestone, "twin": NSTwin, "change": NSChange,
			"agent": NSAgent, "run": NSRun, "bib": NSBib,
		},
		Entity: map[string]Attrs{}, Activity: map[string]Attrs{}, Agent: map[string]Attrs{},
		WasGeneratedBy: map[string]Attrs{}, Used: map[string]Attrs{}, WasInvalidatedBy: map[string]Attrs{},
		WasDerivedFrom: map[string]Attrs{}, WasAttributedTo: map[string]Attrs{}, WasAssociatedWith: map[string]Attrs{},
	}
}

// relation adds a relation under the next blank-node id of its section.
func relation(section map[string]Attrs, prefix string, a Attrs) {
	section[fmt.Sprintf("_:%s%d", prefix, len(section)+1)] = a
}

// literal is a PROV-JSON attribute value: strings, numbers and booleans as
// they are; anything else (objects, arrays: component values, maps of
// recoveries) as its JSON text typed lodestone:json.
func literal(v any) any {
	switch v.(type) {
	case string, bool, float64, float32, int, int64, json.Number, nil:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return map[string]string{"$": string(b), "type": "lodestone:json"}
}

// typed is a PROV-JSON typed literal.
func typed(v, typ string) map[string]string { return map[string]string{"$": v, "type": typ} }
