package dtdl_test

import (
	"fmt"
	"strings"
	"testing"

	"lodestone/dtdl"
)

// BenchmarkParseCorpus parses every valid case of the v3 corpus.
func BenchmarkParseCorpus(b *testing.B) {
	corpus := loadCorpus(b, "v3")
	type input struct {
		docs []dtdl.Document
		opts *dtdl.Options
	}
	var inputs []input
	for _, cases := range corpus {
		for _, c := range cases {
			if c.Valid {
				inputs = append(inputs, input{caseDocs(c), caseOptions(c)})
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			if _, err := dtdl.Parse(in.docs, in.opts); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(inputs)*b.N)/b.Elapsed().Seconds(), "cases/s")
}

// ontology generates a DTDL v3 ontology of n Interfaces: a few base
// Interfaces, chains of inheritance, properties with units, objects, enums,
// relationships between Interfaces and components.
func ontology(n int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"@context":["dtmi:dtdl:context;3","dtmi:dtdl:extension:quantitativeTypes;1"],"@id":"dtmi:bench:T%d;1","@type":"Interface","displayName":"Type %d"`, i, i)
		if i%10 != 0 {
			fmt.Fprintf(&b, `,"extends":"dtmi:bench:T%d;1"`, i-1)
		}
		fmt.Fprintf(&b, `,"contents":[
{"@type":["Property","Mass"],"name":"mass%d","schema":"double","unit":"tonne","writable":true},
{"@type":["Telemetry","MassFlowRate"],"name":"flow%d","schema":"double","unit":"kilogramPerHour"},
{"@type":"Property","name":"state%d","schema":{"@type":"Enum","valueSchema":"string","enumValues":[{"name":"on","enumValue":"on"},{"name":"off","enumValue":"off"}]}},
{"@type":"Property","name":"spec%d","schema":{"@type":"Object","fields":[{"name":"purity","schema":"double"},{"name":"grade","schema":{"@type":"Array","elementSchema":"string"}}]}},
{"@type":"Relationship","name":"feeds%d","target":"dtmi:bench:T%d;1","maxMultiplicity":10,"properties":[{"@type":"Property","name":"tonnesPerYear","schema":"double"}]}`,
			i, i, i, i, i, (i+1)%n)
		if i%10 == 5 {
			fmt.Fprintf(&b, `,{"@type":"Component","name":"part%d","schema":"dtmi:bench:T%d;1"}`, i, (i/10)*10)
		}
		b.WriteString("]}")
	}
	b.WriteString("]")
	return []byte(b.String())
}

func BenchmarkParseOntology(b *testing.B) {
	for _, n := range []int{300} {
		b.Run(fmt.Sprintf("interfaces=%d", n), func(b *testing.B) {
			data := ontology(n)
			docs := []dtdl.Document{{Name: "ontology.json", Data: data}}
			if _, err := dtdl.Parse(docs, nil); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dtdl.Parse(docs, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
