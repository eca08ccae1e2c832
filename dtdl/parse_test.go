package dtdl_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/dtdl"
)

// loadPlant parses testdata/plant.json, the shared fixture of these tests.
func loadPlant(t testing.TB) *dtdl.ModelSet {
	t.Helper()
	data, err := os.ReadFile("testdata/plant.json")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := dtdl.ParseOne("plant.json", data, nil)
	if err != nil {
		t.Fatalf("Parse(plant.json) = %v", err)
	}
	return ms
}

func TestParseModel(t *testing.T) {
	ms := loadPlant(t)
	var ids []string
	for _, i := range ms.Interfaces() {
		ids = append(ids, i.ID)
	}
	if diff := cmp.Diff([]string{"dtmi:test:Assay;1", "dtmi:test:Asset;1", "dtmi:test:Plant;1"}, ids); diff != "" {
		t.Errorf("Interfaces() mismatch (-want +got):\n%s", diff)
	}
	plant := ms.Interface("dtmi:test:Plant;1")
	asset := ms.Interface("dtmi:test:Asset;1")
	if plant == nil || asset == nil {
		t.Fatal("Interface() = nil")
	}
	want := []string{"address", "assay", "batches", "capacity", "commissioned", "grades", "level", "location",
		"name", "owner", "ships", "status", "stop", "tags", "temp"}
	if diff := cmp.Diff(want, plant.ContentNames()); diff != "" {
		t.Errorf("ContentNames() mismatch (-want +got):\n%s", diff)
	}
	if !plant.IsA(asset) || asset.IsA(plant) || !plant.IsAID("dtmi:test:Plant;1") {
		t.Error("IsA relations wrong")
	}
	if got := plant.Extends(); len(got) != 1 || got[0] != asset {
		t.Errorf("Extends() = %v, want [Asset]", got)
	}
	capacity := plant.Property("capacity")
	if capacity == nil || capacity != asset.Property("capacity") {
		t.Fatal("inherited Property capacity missing or not shared")
	}
	if diff := cmp.Diff(dtdl.Semantic{SemanticType: "Mass", Unit: "tonne"}, capacity.Semantic); diff != "" {
		t.Errorf("capacity.Semantic mismatch (-want +got):\n%s", diff)
	}
	if !capacity.Writable || capacity.Schema.SchemaKind() != "double" {
		t.Errorf("capacity = %+v", capacity)
	}
	temp := plant.Telemetry("temp")
	if temp == nil || !temp.Historized || temp.Unit != "degreeCelsius" {
		t.Errorf("temp = %+v", temp)
	}
	ships := plant.Relationship("ships")
	if ships == nil || ships.Target != "dtmi:test:Plant;1" || ships.MaxMultiplicity != 2 || ships.Property("tonnesPerYear") == nil {
		t.Errorf("ships = %+v", ships)
	}
	if c := plant.Component("assay"); c == nil || c.Schema != ms.Interface("dtmi:test:Assay;1") {
		t.Errorf("assay component = %+v", c)
	}
	if c := plant.Command("stop"); c == nil || c.Request == nil || c.Request.Name != "reason" {
		t.Errorf("stop command = %+v", c)
	}
	addr, ok := plant.Property("address").Schema.(*dtdl.Object)
	if !ok || addr.ID != "dtmi:test:Address;1" || addr.Field("since").Schema.SchemaKind() != "date" {
		t.Errorf("address schema = %#v", plant.Property("address").Schema)
	}
	if len(plant.Schemas) != 1 || plant.Schemas[0] != dtdl.Schema(addr) {
		t.Errorf("Schemas = %v, want the shared Address object", plant.Schemas)
	}
	status := plant.Property("status").Schema.(*dtdl.Enum)
	if diff := cmp.Diff([]any{"running", "stopped"}, []any{status.Values[0].Value, status.Values[1].Value}); diff != "" {
		t.Errorf("enum values mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"en": "A processing plant.", "de": "Eine Anlage."}, plant.Description); diff != "" {
		t.Errorf("Description mismatch (-want +got):\n%s", diff)
	}
}

// errKey is the comparable part of an Error.
type errKey struct{ File, ID, Path, Rule string }

func keys(err error) []errKey {
	var el *dtdl.ErrorList
	if !errors.As(err, &el) {
		return nil
	}
	var out []errKey
	for _, e := range el.Errors {
		out = append(out, errKey{e.File, e.ID, e.Path, e.Rule})
	}
	return out
}

const ctx3 = `"@context": "dtmi:dtdl:context;3"`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want []errKey
	}{
		{"not json", []string{`{"@context":`}, []errKey{{"d0", "", "$", "json-syntax"}}},
		{"number", []string{`42`}, []errKey{{"d0", "", "$", "root-shape"}}},
		{"array of non-objects", []string{`[1]`}, []errKey{{"d0", "", "$[0]", "root-shape"}}},
		{"no context", []string{`{"@id": "dtmi:a:b;1", "@type": "Interface"}`}, []errKey{{"d0", "dtmi:a:b;1", "$", "context-required"}}},
		{"v4 context", []string{`{"@context": "dtmi:dtdl:context;4", "@id": "dtmi:a:b;1", "@type": "Interface"}`},
			[]errKey{{"d0", "dtmi:a:b;1", "$.@context", "context-version"}}},
		{"bad id", []string{`{` + ctx3 + `, "@id": "urn:x", "@type": "Interface"}`}, []errKey{{"d0", "urn:x", "$.@id", "id-syntax"}}},
		{"two bad names in one pass", []string{`{` + ctx3 + `, "@id": "dtmi:a:b;1", "@type": "Interface", "contents": [
			{"@type": "Property", "name": "1bad", "schema": "double"},
			{"@type": "Telemetry", "name": "bad_", "schema": "double"}]}`},
			[]errKey{{"d0", "dtmi:a:b;1", "$.contents[0].name", "pattern"}, {"d0", "dtmi:a:b;1", "$.contents[1].name", "pattern"}}},
		{"duplicate content name", []string{`{` + ctx3 + `, "@id": "dtmi:a:b;1", "@type": "Interface", "contents": [
			{"@type": "Property", "name": "x", "schema": "double"}, {"@type": "Telemetry", "name": "x", "schema": "double"}]}`},
			[]errKey{{"d0", "dtmi:a:b;1", "$.contents[1]", "unique-name"}}},
		{"extends cycle across documents", []string{
			`{` + ctx3 + `, "@id": "dtmi:a:A;1", "@type": "Interface", "extends": "dtmi:a:B;1"}`,
			`{` + ctx3 + `, "@id": "dtmi:a:B;1", "@type": "Interface", "extends": "dtmi:a:A;1"}`},
			[]errKey{{"d0", "dtmi:a:A;1", "$.extends", "extends-cycle"}, {"d1", "dtmi:a:B;1", "$.extends", "extends-cycle"}}},
		{"unresolved", []string{`{` + ctx3 + `, "@id": "dtmi:a:A;1", "@type": "Interface", "extends": "dtmi:a:Missing;1"}`},
			[]errKey{{"d0", "dtmi:a:A;1", "$.extends", "unresolved-reference"}}},
		{"duplicate id", []string{`{` + ctx3 + `, "@id": "dtmi:a:A;1", "@type": "Interface"}`, `{` + ctx3 + `, "@id": "dtmi:a:A;1", "@type": "Interface"}`},
			[]errKey{{"d1", "dtmi:a:A;1", "$.@id", "id-duplicate"}}},
		{"unit of the wrong type", []string{`{"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"], "@id": "dtmi:a:A;1", "@type": "Interface",
			"contents": [{"@type": ["Property", "Mass"], "name": "m", "schema": "double", "unit": "metre"}]}`},
			[]errKey{{"d0", "dtmi:a:A;1", "$.contents[0].unit", "unit"}}},
		{"undefined extension", []string{`{"@context": ["dtmi:dtdl:context;3", "dtmi:other:ext;1"], "@id": "dtmi:a:A;1", "@type": "Interface"}`},
			[]errKey{{"d0", "dtmi:a:A;1", "$.@context[1]", "context-undefined-extension"}}},
		{"component nesting", []string{`[{` + ctx3 + `, "@id": "dtmi:a:A;1", "@type": "Interface", "contents": [{"@type": "Component", "name": "c", "schema": "dtmi:a:B;1"}]},
			{` + ctx3 + `, "@id": "dtmi:a:B;1", "@type": "Interface", "contents": [{"@type": "Component", "name": "d", "schema": "dtmi:a:C;1"}]},
			{` + ctx3 + `, "@id": "dtmi:a:C;1", "@type": "Interface"}]`},
			[]errKey{{"d0", "dtmi:a:A;1", "$[0].contents[0].schema", "component-nesting"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var docs []dtdl.Document
			for i, d := range tt.docs {
				docs = append(docs, dtdl.Document{Name: "d" + string(rune('0'+i)), Data: []byte(d)})
			}
			ms, err := dtdl.Parse(docs, nil)
			if ms != nil {
				t.Errorf("Parse returned a ModelSet with errors %v", err)
			}
			if diff := cmp.Diff(tt.want, keys(err)); diff != "" {
				t.Errorf("Parse errors mismatch (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}

func TestParseErrorMessages(t *testing.T) {
	_, err := dtdl.ParseOne("m.json", []byte(`{`+ctx3+`, "@id": "dtmi:a:b;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "1x", "schema": "double"}]}`), nil)
	var el *dtdl.ErrorList
	if !errors.As(err, &el) || el.Len() != 1 {
		t.Fatalf("Parse = %v, want one error", err)
	}
	got := el.Errors[0].Error()
	want := `m.json: dtmi:a:b;1: $.contents[0].name: pattern: "name" value "1x" must match: contains only alphanumerics and underscore, starting with a letter, ending with alphanumeric`
	if got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !strings.HasPrefix(err.Error(), "dtdl: m.json:") {
		t.Errorf("ErrorList.Error() = %q, want dtdl: prefix", err.Error())
	}
}

func TestParseBOMAndArray(t *testing.T) {
	doc := "\xef\xbb\xbf[{" + ctx3 + `, "@id": "dtmi:a:A;1", "@type": "Interface"}, {` + ctx3 + `, "@id": "dtmi:a:B;1", "@type": "Interface", "extends": "dtmi:a:A;1"}]`
	ms, err := dtdl.ParseOne("bom.json", []byte(doc), nil)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if ms.Len() != 2 || !ms.Interface("dtmi:a:B;1").IsAID("dtmi:a:A;1") {
		t.Errorf("model set = %v", ms.Interfaces())
	}
}

func TestParseResolve(t *testing.T) {
	base := []byte(`{` + ctx3 + `, "@id": "dtmi:a:Base;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "p", "schema": "double"}]}`)
	child := []byte(`{` + ctx3 + `, "@id": "dtmi:a:Child;1", "@type": "Interface", "extends": ["dtmi:a:Base;1", "dtmi:a:Other;1"]}`)
	var asked []string
	opts := &dtdl.Options{Resolve: func(id string) ([]byte, bool) {
		asked = append(asked, id)
		if id == "dtmi:a:Base;1" {
			return base, true
		}
		return nil, false
	}}
	_, err := dtdl.ParseOne("child.json", child, opts)
	var el *dtdl.ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("Parse = %v, want an ErrorList for the unknown Other", err)
	}
	if diff := cmp.Diff([]string{"dtmi:a:Other;1"}, el.Unresolved); diff != "" {
		t.Errorf("Unresolved mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dtmi:a:Base;1", "dtmi:a:Other;1"}, asked); diff != "" {
		t.Errorf("resolver calls mismatch (-want +got):\n%s", diff)
	}
	opts.Resolve = func(id string) ([]byte, bool) {
		if id == "dtmi:a:Base;1" {
			return base, true
		}
		return []byte(`{` + ctx3 + `, "@id": "` + id + `", "@type": "Interface"}`), true
	}
	ms, err := dtdl.ParseOne("child.json", child, opts)
	if err != nil {
		t.Fatalf("Parse with resolver = %v", err)
	}
	if ms.Interface("dtmi:a:Child;1").Property("p") == nil {
		t.Error("inherited property from resolved model missing")
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	huge := `{` + ctx3 + `, "@id": "dtmi:a:A;1", "@type": "Interface", "comment": "` + strings.Repeat("x", 4096) + `"}`
	tests := []struct {
		name string
		data string
		opts *dtdl.Options
		rule string
	}{
		{"deep nesting", deep, nil, "json-syntax"},
		{"size limit", huge, &dtdl.Options{MaxDocumentSize: 1024}, "size-limit"},
		{"comment length", huge, nil, "string-length"},
		{"empty", "", nil, "json-syntax"},
		{"bom only", "\xef\xbb\xbf", nil, "json-syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dtdl.ParseOne("x.json", []byte(tt.data), tt.opts)
			k := keys(err)
			if len(k) == 0 || k[0].Rule != tt.rule {
				t.Errorf("Parse = %v, want rule %s", err, tt.rule)
			}
		})
	}
}

// TestParseHostileShapes checks that large adversarial model sets finish
// quickly with an error: a long extends chain and a wide DAG of schemas
// shared by reference.
func TestParseHostileShapes(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:h:I%d;1","@type":"Interface","extends":"dtmi:h:I%d;1"}`, i, (i+1)%3000)
	}
	b.WriteString("]")
	chainDoc := b.String()

	b.Reset()
	b.WriteString(`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:h:S;1","@type":"Interface","schemas":[`)
	const layers, width = 40, 8
	for l := 0; l < layers; l++ {
		if l > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"@id":"dtmi:h:O%d;1","@type":"Object","fields":[`, l)
		for f := 0; f < width; f++ {
			if f > 0 {
				b.WriteString(",")
			}
			schema := `"double"`
			if l+1 < layers {
				schema = fmt.Sprintf(`"dtmi:h:O%d;1"`, l+1)
			}
			fmt.Fprintf(&b, `{"name":"f%d","schema":%s}`, f, schema)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}")
	dagDoc := b.String()

	for name, doc := range map[string]string{"extends chain": chainDoc, "schema dag": dagDoc} {
		t.Run(name, func(t *testing.T) {
			if _, err := dtdl.ParseOne("h.json", []byte(doc), nil); err == nil {
				t.Error("Parse accepted a hostile model set")
			}
		})
	}
}

func TestUnits(t *testing.T) {
	if got := dtdl.UnitType("Mass"); got != "MassUnit" {
		t.Errorf("UnitType(Mass) = %q, want MassUnit", got)
	}
	if got := dtdl.UnitSymbol("tonne"); got != "t" {
		t.Errorf("UnitSymbol(tonne) = %q, want t", got)
	}
	found := false
	for _, u := range dtdl.Units("Concentration") {
		if u == "partsPerMillion" {
			found = true
		}
	}
	if !found {
		t.Errorf("Units(Concentration) = %v, want partsPerMillion among them", dtdl.Units("Concentration"))
	}
	if dtdl.Units("Nope") != nil || len(dtdl.SemanticTypes()) < 40 {
		t.Errorf("Units(Nope) = %v, SemanticTypes() has %d", dtdl.Units("Nope"), len(dtdl.SemanticTypes()))
	}
}
