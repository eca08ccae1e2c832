package dtdl_test

import (
	"fmt"
	"strings"
	"testing"

	"lodestone/dtdl"
)

// iface wraps contents in a v3 Interface with the given extension contexts.
func iface(exts, contents string) string {
	ctx := `"dtmi:dtdl:context;3"`
	for _, e := range strings.Fields(exts) {
		ctx += `, "dtmi:dtdl:extension:` + e + `"`
	}
	return `{"@context": [` + ctx + `], "@id": "dtmi:r:I;1", "@type": "Interface", "contents": [` + contents + `]}`
}

// chain builds n Interfaces, each extending the previous one.
func chain(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		ext := ""
		if i > 0 {
			ext = fmt.Sprintf(`, "extends": "dtmi:r:C%d;1"`, i-1)
		}
		parts = append(parts, fmt.Sprintf(`{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:C%d;1", "@type": "Interface"%s}`, i, ext))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// nestedArrays builds a Property whose schema nests n Arrays.
func nestedArrays(n int) string {
	s := `"double"`
	for i := 0; i < n; i++ {
		s = `{"@type": "Array", "elementSchema": ` + s + `}`
	}
	return iface("", `{"@type": "Property", "name": "p", "schema": `+s+`}`)
}

func TestRules(t *testing.T) {
	const hist = "historization;1"
	tests := []struct {
		name  string
		doc   string
		valid bool
	}{
		{"extends depth 10", chain(11), true},
		{"extends depth 11", chain(12), false},
		{"schema depth 5", nestedArrays(5), true},
		{"schema depth 6", nestedArrays(6), false},
		{"name 512", iface("", `{"@type": "Property", "name": "a`+strings.Repeat("b", 511)+`", "schema": "double"}`), true},
		{"name 513", iface("", `{"@type": "Property", "name": "a`+strings.Repeat("b", 512)+`", "schema": "double"}`), false},
		{"interface id 128", `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:` + strings.Repeat("a", 121) + `;1", "@type": "Interface"}`, true},
		{"interface id 129", `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:` + strings.Repeat("a", 122) + `;1", "@type": "Interface"}`, false},
		{"unversioned and minor versions in v3", `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:I", "@type": "Interface", "extends": {"@id": "dtmi:r:J;1.2", "@type": "Interface"}}`, true},
		{"unversioned in v2", `{"@context": "dtmi:dtdl:context;2", "@id": "dtmi:r:I", "@type": "Interface"}`, false},
		{"array property in v3", iface("", `{"@type": "Property", "name": "p", "schema": {"@type": "Array", "elementSchema": "double"}}`), true},
		{"array property in v2", `{"@context": "dtmi:dtdl:context;2", "@id": "dtmi:r:I;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "p", "schema": {"@type": "Array", "elementSchema": "double"}}]}`, false},
		{"historized property", iface(hist, `{"@type": ["Property", "Historized"], "name": "p", "schema": "double"}`), true},
		{"historized without context", iface("", `{"@type": ["Property", "Historized"], "name": "p", "schema": "double"}`), false},
		{"historized relationship", iface(hist, `{"@type": ["Relationship", "Historized"], "name": "r"}`), false},
		{"semantic type needs numeric schema", iface("quantitativeTypes;1", `{"@type": ["Property", "Mass"], "name": "p", "schema": "string", "unit": "tonne"}`), false},
		{"semantic type needs unit", iface("quantitativeTypes;1", `{"@type": ["Telemetry", "Mass"], "name": "p", "schema": "double"}`), false},
		{"semantic type on field", iface("quantitativeTypes;1", `{"@type": "Property", "name": "p", "schema": {"@type": "Object", "fields": [{"@type": ["Field", "Temperature"], "name": "t", "schema": "float", "unit": "kelvin"}]}}`), true},
		{"annotation", iface("annotation;1", `{"@type": "Telemetry", "name": "t", "schema": "double"}, {"@type": ["Property", "ValueAnnotation"], "name": "a", "annotates": "t", "schema": "string"}`), true},
		{"annotation of nothing", iface("annotation;1", `{"@type": ["Property", "ValueAnnotation"], "name": "a", "annotates": "t", "schema": "string"}`), false},
		{"override unit", iface("quantitativeTypes;1 annotation;1 overriding;1", `{"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double", "unit": "kelvin"},
			{"@type": ["Property", "ValueAnnotation", "Override"], "name": "tu", "annotates": "t", "overrides": "unit", "schema": "TemperatureUnit", "writable": true}`), true},
		{"override with wrong unit type", iface("quantitativeTypes;1 annotation;1 overriding;1", `{"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double", "unit": "kelvin"},
			{"@type": ["Property", "ValueAnnotation", "Override"], "name": "tu", "annotates": "t", "overrides": "unit", "schema": "MassUnit"}`), false},
		{"override needs annotation", iface("quantitativeTypes;1 annotation;1 overriding;1", `{"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double", "unit": "kelvin"},
			{"@type": ["Property", "Override"], "name": "tu", "overrides": "unit", "schema": "TemperatureUnit"}`), false},
		{"mqtt", `{"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:mqtt;1"], "@id": "dtmi:r:I;1", "@type": ["Interface", "Mqtt"],
			"payloadFormat": "Json/ecma/404", "telemetryTopic": "sample/{senderId}/telemetry",
			"contents": [{"@type": ["Command", "Idempotent", "Cacheable"], "name": "c", "ttl": "PT10M"},
			             {"@type": ["Telemetry", "Indexed"], "name": "t", "schema": "double", "index": 1}]}`, true},
		{"mqtt missing payload format", `{"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:mqtt;1"], "@id": "dtmi:r:I;1", "@type": ["Interface", "Mqtt"]}`, false},
		{"cacheable needs idempotent", `{"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:mqtt;1"], "@id": "dtmi:r:I;1", "@type": "Interface",
			"contents": [{"@type": ["Command", "Cacheable"], "name": "c", "ttl": "PT10M"}]}`, false},
		{"duplicate index", `{"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:mqtt;1"], "@id": "dtmi:r:I;1", "@type": "Interface",
			"contents": [{"@type": ["Telemetry", "Indexed"], "name": "a", "schema": "double", "index": 1}, {"@type": ["Telemetry", "Indexed"], "name": "b", "schema": "double", "index": 1}]}`, false},
		{"schema cycle", `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:I;1", "@type": "Interface",
			"schemas": [{"@id": "dtmi:r:O;1", "@type": "Object", "fields": [{"name": "self", "schema": "dtmi:r:O;1"}]}]}`, false},
		{"component of component", `[{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:A;1", "@type": "Interface", "contents": [{"@type": "Component", "name": "b", "schema": "dtmi:r:B;1"}]},
			{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:B;1", "@type": "Interface", "extends": "dtmi:r:C;1"},
			{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:C;1", "@type": "Interface", "contents": [{"@type": "Component", "name": "c", "schema": "dtmi:r:D;1"}]},
			{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:D;1", "@type": "Interface"}]`, false},
		{"inherited name clash", `[{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:A;1", "@type": "Interface", "extends": "dtmi:r:B;1", "contents": [{"@type": "Property", "name": "x", "schema": "double"}]},
			{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:B;1", "@type": "Interface", "contents": [{"@type": "Telemetry", "name": "x", "schema": "double"}]}]`, false},
		{"extension IRIs", iface("quantitativeTypes;1 historization;1", `{"@type": ["Property", "dtmi:dtdl:extension:historization:v1:Historized", "dtmi:dtdl:extension:quantitativeTypes:v1:class:Mass"],
			"name": "m", "schema": "double", "dtmi:dtdl:extension:quantitativeTypes:v1:property:unit": "dtmi:dtdl:extension:quantitativeTypes:v1:unit:tonne"}`), true},
		{"unit given twice", iface("quantitativeTypes;1", `{"@type": ["Property", "Mass"], "name": "m", "schema": "double", "unit": "tonne", "dtmi:dtdl:extension:quantitativeTypes:v1:property:unit": "tonne"}`), false},
		{"languageMajorVersion reserved", iface("", `{"@type": "Property", "name": "p", "schema": "double", "languageMajorVersion": 3}`), false},
		{"v2 primitive instance in v3", iface("", `{"@type": "Property", "name": "p", "schema": "dtmi:dtdl:instance:Schema:double;2"}`), true},
		{"diamond inheritance", `[{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:A;1", "@type": "Interface", "extends": ["dtmi:r:B;1", "dtmi:r:C;1"]},
			{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:B;1", "@type": "Interface", "extends": "dtmi:r:D;1"},
			{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:C;1", "@type": "Interface", "extends": "dtmi:r:D;1"},
			{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:r:D;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "x", "schema": "double"}]}]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dtdl.ParseOne("r.json", []byte(tt.doc), nil)
			if (err == nil) != tt.valid {
				t.Errorf("Parse valid=%v, want %v: %v", err == nil, tt.valid, err)
			}
		})
	}
}
