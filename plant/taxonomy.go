package plant

import "fmt"

// Level is an ISO 14224 taxonomy level, 1 (industry) to 9 (part).
type Level int

// The nine levels of the ISO 14224 taxonomy.
const (
	Industry Level = iota + 1
	BusinessCategory
	Installation
	PlantUnit
	SectionSystem
	EquipmentUnit
	SubunitLevel
	MaintainableItem
	Part
)

// levelNames are the ISO 14224 names of the levels, indexed by level.
//
//lodestone:readonly
var levelNames = [...]string{"", "industry", "business category", "installation", "plant/unit", "section/system", "equipment unit", "subunit", "component/maintainable item", "part"}

func (l Level) String() string {
	if l < Industry || l > Part {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return levelNames[l]
}

// EquipmentClass is a kind of equipment unit of an SX plant: the
// ontology model that types its twins, the ISO 14224 class it belongs to,
// and the subunits and maintainable items its boundary holds.
type EquipmentClass struct {
	Name     string   // what the plant calls it
	Model    string   // DTMI of its twins
	ISOClass string   // ISO 14224 equipment class
	Subunits []string // level 7
	Items    []string // level 8, typical maintainable items
}

// SXEquipmentClasses returns the equipment classes of a rare-earth SX
// plant (research note plant-trust.md §b.5: mixer motors and gearboxes,
// impellers, dosing and transfer pumps, level/interface instruments,
// flowmeters, on-line analysers, valves; plus filters and kilns). The
// slice is fresh: the caller may keep or change it.
func SXEquipmentClasses() []EquipmentClass {
	return []EquipmentClass{
		{"mixer (mixer-settler mixing chamber)", "dtmi:lodestone:Mixer;1", "Mixers", []string{"power transmission", "mixing unit"}, []string{"impeller", "shaft", "shaft seal"}},
		{"settler", "dtmi:lodestone:Settler;1", "Vessels", []string{"settling unit"}, []string{"picket fence", "weir", "liner"}},
		{"agitator motor", "dtmi:lodestone:Motor;1", "Electric motors", []string{"stator", "rotor", "cooling"}, []string{"bearings", "winding", "fan"}},
		{"agitator gearbox", "dtmi:lodestone:Gearbox;1", "Mixers (power transmission subunit)", []string{"power transmission"}, []string{"gears", "bearings", "seals", "lubricating oil"}},
		{"transfer pump", "dtmi:lodestone:Pump;1", "Pumps", []string{"power transmission", "pump unit", "control and monitoring"}, []string{"impeller", "mechanical seal", "bearings"}},
		{"dosing pump", "dtmi:lodestone:Pump;1", "Pumps", []string{"power transmission", "pump unit", "control and monitoring"}, []string{"diaphragm", "check valves"}},
		{"interface or level instrument", "dtmi:lodestone:Instrument;1", "Input devices", []string{"sensor", "transmitter"}, []string{"probe", "electronics"}},
		{"flowmeter", "dtmi:lodestone:Flowmeter;1", "Input devices", []string{"sensor", "transmitter"}, []string{"liner", "electrodes", "electronics"}},
		{"on-line XRF analyser", "dtmi:lodestone:Analyser;1", "Analysers (input devices)", []string{"sampling system", "analyser unit"}, []string{"X-ray tube", "detector", "peristaltic pump tube"}},
		{"filter", "dtmi:lodestone:Filter;1", "Filters and strainers", []string{"filter unit"}, []string{"filter element", "filter cloths", "coalescer element"}},
		{"kiln", "dtmi:lodestone:Kiln;1", "Heaters and boilers (furnaces)", []string{"shell", "drive", "burners"}, []string{"refractory lining", "tyres and rollers", "burner nozzles"}},
	}
}

// Node is one element of an installation's hierarchy: its id, its
// taxonomy level and its parent's id ("" for the root).
type Node struct {
	ID     string
	Level  Level
	Parent string
}

// ValidateHierarchy checks that a hierarchy follows the taxonomy: ids are
// unique, every parent exists, levels are 1–9 and every child sits below
// its parent (ISO 14224 allows levels to be skipped, e.g. a plant without
// sections, so only the order is checked), and no node is its own
// ancestor.
func ValidateHierarchy(nodes []Node) error {
	byID := make(map[string]Node, len(nodes))
	for i, n := range nodes {
		if n.ID == "" {
			return fmt.Errorf("plant: nodes[%d].id: missing", i)
		}
		if _, dup := byID[n.ID]; dup {
			return fmt.Errorf("plant: nodes[%d].id: %q appears twice", i, n.ID)
		}
		if n.Level < Industry || n.Level > Part {
			return fmt.Errorf("plant: node %q: level %d is not an ISO 14224 level (1–9)", n.ID, n.Level)
		}
		byID[n.ID] = n
	}
	for _, n := range nodes {
		if n.Parent == "" {
			continue
		}
		p, ok := byID[n.Parent]
		if !ok {
			return fmt.Errorf("plant: node %q: parent %q does not exist", n.ID, n.Parent)
		}
		if p.Level >= n.Level {
			return fmt.Errorf("plant: node %q (%s) is not below its parent %q (%s)", n.ID, n.Level, p.ID, p.Level)
		}
	}
	// Levels strictly increase along parent links, so there is no cycle.
	return nil
}
