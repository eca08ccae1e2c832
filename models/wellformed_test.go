package models_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"lodestone/models"
)

// These checks read the models as plain JSON, independently of the dtdl
// package, against the rules of the DTDL v3 specification that a modeller
// most easily breaks, plus the ontology's own conventions (every element
// has a displayName and a description; names are at most 64 characters).

var (
	// dtmiRE is the DTMI syntax of DTDL v3 (user DTMIs only: no segment
	// starts with an underscore), with an optional one- or two-part version.
	dtmiRE = regexp.MustCompile(`^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*(?:;[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,5})?)?$`)
	// nameRE is the pattern of every "name" in DTDL v3.
	nameRE = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$`)
)

const (
	contextDTDL = "dtmi:dtdl:context;3"
	contextQT   = "dtmi:dtdl:extension:quantitativeTypes;1"
	maxName     = 64  // the ontology's own limit (DTDL v3 allows 512)
	maxText     = 512 // displayName, description, comment
	maxDepth    = 10  // extends depth
)

var primitives = map[string]bool{
	"boolean": true, "date": true, "dateTime": true, "double": true, "duration": true, "float": true,
	"integer": true, "long": true, "string": true, "time": true,
	"point": true, "lineString": true, "polygon": true, "multiPoint": true, "multiLineString": true, "multiPolygon": true,
}

var numeric = map[string]bool{"double": true, "float": true, "integer": true, "long": true}

// iface is the part of an Interface document these checks need.
type iface struct {
	file     string
	id       string
	extends  []string
	contents []map[string]any
	raw      map[string]any
}

func loadInterfaces(t *testing.T) map[string]*iface {
	t.Helper()
	out := map[string]*iface{}
	for _, f := range models.Files() {
		var raw map[string]any
		if err := json.Unmarshal(f.Data, &raw); err != nil {
			t.Fatalf("%s: not a JSON object: %v", f.Name, err)
		}
		in := &iface{file: f.Name, raw: raw}
		in.id, _ = raw["@id"].(string)
		switch e := raw["extends"].(type) {
		case string:
			in.extends = []string{e}
		case []any:
			for _, x := range e {
				s, _ := x.(string)
				in.extends = append(in.extends, s)
			}
		}
		cs, _ := raw["contents"].([]any)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			in.contents = append(in.contents, m)
		}
		if _, dup := out[in.id]; dup {
			t.Fatalf("%s: duplicate @id %s", f.Name, in.id)
		}
		out[in.id] = in
	}
	return out
}

func TestFilesMatchConstants(t *testing.T) {
	consts := map[string]string{
		"AlloyMaker":           models.AlloyMaker,
		"Analyser":             models.Analyser,
		"Calciner":             models.Calciner,
		"Company":              models.Company,
		"Concentrator":         models.Concentrator,
		"Connector":            models.Connector,
		"Country":              models.Country,
		"Deposit":              models.Deposit,
		"Entity":               models.Entity,
		"Equipment":            models.Equipment,
		"ExportControl":        models.ExportControl,
		"Facility":             models.Facility,
		"Lane":                 models.Lane,
		"Lot":                  models.Lot,
		"MagnetPlant":          models.MagnetPlant,
		"Material":             models.Material,
		"MetalRefinery":        models.MetalRefinery,
		"Mine":                 models.Mine,
		"Mixer":                models.Mixer,
		"OEM":                  models.OEM,
		"Policy":               models.Policy,
		"Precipitator":         models.Precipitator,
		"ProcessUnit":          models.ProcessUnit,
		"Pump":                 models.Pump,
		"SXCascade":            models.SXCascade,
		"SXStage":              models.SXStage,
		"SoftSensor":           models.SoftSensor,
		"ScenarioRun":          models.ScenarioRun,
		"SeparationPlant":      models.SeparationPlant,
		"Settler":              models.Settler,
		"SimulatedPerformance": models.SimulatedPerformance,
		"Stockpile":            models.Stockpile,
		"Subsidy":              models.Subsidy,
		"Tariff":               models.Tariff,
		"Warehouse":            models.Warehouse,
		"PlantSection":         models.PlantSection,
		"Subunit":              models.Subunit,
		"OrgActor":             models.OrgActor,
		"DecisionRule":         models.DecisionRule,
		"MaintainableItem":     models.MaintainableItem,
		"Motor":                models.Motor,
		"Gearbox":              models.Gearbox,
		"Instrument":           models.Instrument,
		"Flowmeter":            models.Flowmeter,
		"Filter":               models.Filter,
		"Kiln":                 models.Kiln,
		"WorkOrder":            models.WorkOrder,
		"FailureRecord":        models.FailureRecord,
	}
	files := models.Files()
	if len(files) != len(consts) {
		t.Errorf("len(Files()) = %d, want %d (one constant per file)", len(files), len(consts))
	}
	if !slices.IsSortedFunc(files, func(a, b models.File) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Files() is not sorted by name")
	}
	for _, f := range files {
		base := strings.TrimSuffix(f.Name, ".json")
		var head struct {
			ID string `json:"@id"`
		}
		if err := json.Unmarshal(f.Data, &head); err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		want := "dtmi:lodestone:" + base + ";1"
		if head.ID != want {
			t.Errorf("%s: @id = %q, want %q (file named after its interface)", f.Name, head.ID, want)
		}
		if c, ok := consts[base]; !ok || c != head.ID {
			t.Errorf("constant for %s = %q, want %q", base, c, head.ID)
		}
	}
}

func TestModelsWellFormed(t *testing.T) {
	set := loadInterfaces(t)
	for _, in := range set {
		t.Run(in.file, func(t *testing.T) {
			checkInterface(t, set, in)
		})
	}
}

func checkInterface(t *testing.T, set map[string]*iface, in *iface) {
	raw := in.raw
	ctx, _ := raw["@context"].([]any)
	if len(ctx) != 2 || ctx[0] != contextDTDL || ctx[1] != contextQT {
		t.Errorf("@context = %v, want [%q %q]", raw["@context"], contextDTDL, contextQT)
	}
	if raw["@type"] != "Interface" {
		t.Errorf("@type = %v, want Interface", raw["@type"])
	}
	if !dtmiRE.MatchString(in.id) || len(in.id) > 128 {
		t.Errorf("@id %q is not a user DTMI of at most 128 characters", in.id)
	}
	checkText(t, "$", raw, true)
	for _, e := range in.extends {
		if set[e] == nil {
			t.Errorf("extends %q: no such interface in models/", e)
		}
	}
	if d := depth(set, in.id, nil); d > maxDepth {
		t.Errorf("extends depth %d > %d (or a cycle)", d, maxDepth)
	}
	// Names must be unique over the contents of the interface and all it
	// inherits.
	seen := map[string]string{}
	for _, anc := range ancestry(set, in.id) {
		for _, c := range set[anc].contents {
			n, _ := c["name"].(string)
			if prev, ok := seen[n]; ok {
				t.Errorf("content name %q declared in both %s and %s", n, prev, anc)
			}
			seen[n] = anc
		}
	}
	for i, c := range in.contents {
		checkContent(t, set, fmt.Sprintf("$.contents[%d]", i), c)
	}
}

// ancestry returns id and every interface it extends, each once.
func ancestry(set map[string]*iface, id string) []string {
	var out []string
	var walk func(string)
	walk = func(id string) {
		if slices.Contains(out, id) || set[id] == nil {
			return
		}
		out = append(out, id)
		for _, e := range set[id].extends {
			walk(e)
		}
	}
	walk(id)
	return out
}

// depth returns the length of the longest extends chain from id, or a
// number above maxDepth on a cycle.
func depth(set map[string]*iface, id string, path []string) int {
	if slices.Contains(path, id) || len(path) > maxDepth {
		return maxDepth + 1
	}
	in := set[id]
	if in == nil {
		return 0
	}
	d := 0
	for _, e := range in.extends {
		d = max(d, 1+depth(set, e, append(path, id)))
	}
	return d
}

func checkText(t *testing.T, path string, m map[string]any, required bool) {
	t.Helper()
	for _, k := range []string{"displayName", "description"} {
		s, ok := m[k].(string)
		switch {
		case !ok && required:
			t.Errorf("%s: no %s", path, k)
		case len(s) > maxText:
			t.Errorf("%s: %s has %d characters, limit %d", path, k, len(s), maxText)
		}
	}
}

func types(m map[string]any) []string {
	switch v := m["@type"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func checkName(t *testing.T, path string, m map[string]any) {
	t.Helper()
	n, _ := m["name"].(string)
	if !nameRE.MatchString(n) || len(n) > maxName {
		t.Errorf("%s: name %q must match %s and have at most %d characters", path, n, nameRE, maxName)
	}
}

func checkContent(t *testing.T, set map[string]*iface, path string, c map[string]any) {
	t.Helper()
	ts := types(c)
	if len(ts) == 0 {
		t.Errorf("%s: no @type", path)
		return
	}
	path += "(" + fmt.Sprint(c["name"]) + ")"
	checkName(t, path, c)
	checkText(t, path, c, true)
	checkSemantic(t, path, c, ts[1:])
	switch ts[0] {
	case "Property", "Telemetry":
		checkSchema(t, path+".schema", c["schema"], 1)
	case "Relationship":
		if len(ts) > 1 {
			t.Errorf("%s: a Relationship has no semantic type", path)
		}
		if tg, ok := c["target"].(string); ok && set[tg] == nil {
			t.Errorf("%s: target %q: no such interface in models/", path, tg)
		}
		if mx, ok := c["maxMultiplicity"].(float64); ok && mx < 1 {
			t.Errorf("%s: maxMultiplicity %v < 1", path, mx)
		}
		props, _ := c["properties"].([]any)
		names := map[string]bool{}
		for i, p := range props {
			pm, _ := p.(map[string]any)
			pp := fmt.Sprintf("%s.properties[%d]", path, i)
			if pt := types(pm); len(pt) == 0 || pt[0] != "Property" {
				t.Errorf("%s: @type %v, want Property", pp, pm["@type"])
				continue
			}
			checkName(t, pp, pm)
			checkText(t, pp, pm, true)
			checkSemantic(t, pp, pm, types(pm)[1:])
			checkSchema(t, pp+".schema", pm["schema"], 1)
			n, _ := pm["name"].(string)
			if names[n] {
				t.Errorf("%s: duplicate relationship property %q", pp, n)
			}
			names[n] = true
		}
	default:
		t.Errorf("%s: @type %q is not a content type the ontology uses", path, ts[0])
	}
}

// checkSemantic checks a co-type: at most one semantic type, with a unit
// the QuantitativeTypes extension lists for it and a numeric schema.
func checkSemantic(t *testing.T, path string, m map[string]any, cotypes []string) {
	t.Helper()
	unit, hasUnit := m["unit"].(string)
	switch {
	case len(cotypes) == 0 && hasUnit:
		t.Errorf("%s: unit %q without a semantic type", path, unit)
	case len(cotypes) > 1:
		t.Errorf("%s: more than one semantic type %v", path, cotypes)
	case len(cotypes) == 1:
		if s, _ := m["schema"].(string); !numeric[s] {
			t.Errorf("%s: semantic type %s needs a numeric schema, have %v", path, cotypes[0], m["schema"])
		}
		units, ok := semanticUnits[cotypes[0]]
		switch {
		case !ok:
			t.Errorf("%s: %q is not a QuantitativeTypes semantic type", path, cotypes[0])
		case !slices.Contains(units, unit):
			t.Errorf("%s: unit %q is not a unit of %s (want one of %v)", path, unit, cotypes[0], units)
		}
	}
}

func checkSchema(t *testing.T, path string, s any, level int) {
	t.Helper()
	switch v := s.(type) {
	case string:
		if !primitives[v] {
			t.Errorf("%s: %q is not a primitive or geospatial schema (the ontology defines complex schemas inline)", path, v)
		}
		return
	case map[string]any:
		if level > 5 {
			t.Errorf("%s: complex schemas nested deeper than 5 levels", path)
		}
		ts := types(v)
		if len(ts) != 1 {
			t.Errorf("%s: complex schema @type %v", path, v["@type"])
			return
		}
		switch ts[0] {
		case "Array":
			checkSchema(t, path+".elementSchema", v["elementSchema"], level+1)
		case "Map":
			k, _ := v["mapKey"].(map[string]any)
			mv, _ := v["mapValue"].(map[string]any)
			if k == nil || mv == nil {
				t.Errorf("%s: Map needs mapKey and mapValue", path)
				return
			}
			checkName(t, path+".mapKey", k)
			if k["schema"] != "string" {
				t.Errorf("%s.mapKey: schema %v, want string", path, k["schema"])
			}
			checkName(t, path+".mapValue", mv)
			mt := types(mv)
			if len(mt) > 0 {
				if mt[0] != "MapValue" {
					t.Errorf("%s.mapValue: @type %v", path, mv["@type"])
				}
				checkSemantic(t, path+".mapValue", mv, mt[1:])
			}
			checkSchema(t, path+".mapValue.schema", mv["schema"], level+1)
		case "Object":
			fs, _ := v["fields"].([]any)
			names := map[string]bool{}
			for i, f := range fs {
				fm, _ := f.(map[string]any)
				fp := fmt.Sprintf("%s.fields[%d]", path, i)
				checkName(t, fp, fm)
				checkText(t, fp, fm, false)
				if ft := types(fm); len(ft) > 0 {
					if ft[0] != "Field" {
						t.Errorf("%s: @type %v", fp, fm["@type"])
					}
					checkSemantic(t, fp, fm, ft[1:])
				}
				n, _ := fm["name"].(string)
				if names[n] {
					t.Errorf("%s: duplicate field %q", fp, n)
				}
				names[n] = true
				checkSchema(t, fp+".schema", fm["schema"], level+1)
			}
		case "Enum":
			vs := v["valueSchema"]
			if vs != "string" && vs != "integer" {
				t.Errorf("%s: Enum valueSchema %v", path, vs)
			}
			evs, _ := v["enumValues"].([]any)
			names, values := map[string]bool{}, map[any]bool{}
			for i, e := range evs {
				em, _ := e.(map[string]any)
				ep := fmt.Sprintf("%s.enumValues[%d]", path, i)
				checkName(t, ep, em)
				n, _ := em["name"].(string)
				if names[n] || values[em["enumValue"]] {
					t.Errorf("%s: duplicate enum name or value %q", ep, n)
				}
				names[n], values[em["enumValue"]] = true, true
				if _, isStr := em["enumValue"].(string); isStr != (vs == "string") {
					t.Errorf("%s: enumValue %v does not match valueSchema %v", ep, em["enumValue"], vs)
				}
			}
		default:
			t.Errorf("%s: unknown complex schema %q", path, ts[0])
		}
	default:
		t.Errorf("%s: schema %v is neither a string nor an object", path, s)
	}
}

// semanticUnits maps each QuantitativeTypes v1 semantic type the ontology
// may use to its units. TestSemanticUnitsMatchSpec checks it against the
// extension's own document in ../shared.
var semanticUnits = map[string][]string{
	"AngularVelocity": {"degreePerSecond", "radianPerSecond", "revolutionPerMinute", "revolutionPerSecond"},
	"Area":            {"acre", "hectare", "squareCentimetre", "squareFoot", "squareInch", "squareKilometre", "squareMetre", "squareMillimetre"},
	"Concentration":   {"partsPerBillion", "partsPerMillion", "partsPerQuadrillion", "partsPerTrillion", "percent", "unity"},
	"Distance":        {"astronomicalUnit", "centimetre", "foot", "inch", "kilometre", "metre", "micrometre", "mile", "millimetre", "nanometre", "nauticalMile"},
	"Length":          {"astronomicalUnit", "centimetre", "foot", "inch", "kilometre", "metre", "micrometre", "mile", "millimetre", "nanometre", "nauticalMile"},
	"Mass":            {"gram", "kilogram", "massPound", "microgram", "milligram", "slug", "tonne"},
	"MassFlowRate":    {"gramPerHour", "gramPerSecond", "kilogramPerHour", "kilogramPerSecond", "massPoundPerHour"},
	"Power":           {"britishThermalUnitPerHour", "gigajoulePerHour", "gigawatt", "horsepower", "joulePerHour", "joulePerSecond", "kiloBritishThermalUnitPerHour", "kilojoulePerHour", "kilojoulePerSecond", "kilowatt", "kilowattHourPerYear", "megajoulePerHour", "megawatt", "microwatt", "milliwatt", "tonOfRefrigeration", "watt"},
	"Pressure":        {"bar", "decapascal", "hectopascal", "inchesOfMercury", "inchesOfWater", "kilopascal", "millibar", "millimetresOfMercury", "pascal", "poundPerSquareInch"},
	"Temperature":     {"degreeCelsius", "degreeFahrenheit", "kelvin"},
	"TimeSpan":        {"day", "hour", "microsecond", "millisecond", "minute", "nanosecond", "second", "year"},
	"Volume":          {"cubicCentimetre", "cubicFoot", "cubicInch", "cubicMetre", "fluidOunce", "gallon", "litre", "millilitre"},
	"VolumeFlowRate":  {"cubicFootPerMinute", "cubicMetrePerHour", "cubicMetrePerMinute", "cubicMetrePerSecond", "gallonPerHour", "gallonPerMinute", "litrePerHour", "litrePerMinute", "litrePerSecond", "millilitrePerHour", "millilitrePerMinute", "millilitrePerSecond"},
}

// sharedDir returns ../shared beside the module root, skipping the test when
// it is absent (failing under CI=true).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("../shared is required under CI=true: %v", err)
		}
		t.Skipf("../shared not found beside the module (%v); skipping", err)
	}
	return shared
}

// TestSemanticUnitsMatchSpec reads the table of the QuantitativeTypes v1
// document and checks that semanticUnits copies it faithfully.
func TestSemanticUnitsMatchSpec(t *testing.T) {
	path := filepath.Join(sharedDir(t), "conformance", "dtdl", "language", "v3", "DTDL.quantitativeTypes.v1.md")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec := map[string][]string{}
	row := regexp.MustCompile("^\\| `([A-Za-z]+)` \\| `[A-Za-z]+` \\| (.*) \\|$")
	unitRE := regexp.MustCompile("`([A-Za-z]+)`")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		for _, u := range unitRE.FindAllStringSubmatch(m[2], -1) {
			spec[m[1]] = append(spec[m[1]], u[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(spec) < 40 {
		t.Fatalf("read %d semantic types from %s; the table format changed?", len(spec), path)
	}
	for sem, units := range semanticUnits {
		got := slices.Sorted(slices.Values(spec[sem]))
		want := slices.Sorted(slices.Values(units))
		if !slices.Equal(got, want) {
			t.Errorf("units of %s: spec has %v, test table has %v", sem, got, want)
		}
	}
}

// TestOntologyDocumented checks that docs/ontology.md has a section for
// every interface and names each of its contents, so the page keeps up with
// the models.
func TestOntologyDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "ontology.md"))
	if err != nil {
		t.Fatalf("read docs/ontology.md: %v", err)
	}
	text := string(doc)
	for _, in := range loadInterfaces(t) {
		name := strings.TrimSuffix(in.file, ".json")
		head := "\n#### " + name + "\n"
		i := strings.Index(text, head)
		if i < 0 {
			t.Errorf("docs/ontology.md has no %q section", strings.TrimSpace(head))
			continue
		}
		section := text[i+len(head):]
		if j := strings.Index(section, "\n#"); j >= 0 {
			section = section[:j]
		}
		for _, c := range in.contents {
			if n, _ := c["name"].(string); !strings.Contains(section, "`"+n+"`") {
				t.Errorf("docs/ontology.md, section %s, does not list content %q", name, n)
			}
		}
	}
}
