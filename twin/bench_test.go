package twin_test

import (
	"encoding/json"
	"testing"
	"time"

	"lodestone/twin"
)

func benchDoc() twin.Twin {
	tw := sampleTwin()
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		tw.Properties[k] = 1.5
		tw.Metadata.Properties[k] = twin.PropertyMetadata{LastUpdateTime: t1}
	}
	return tw
}

func BenchmarkTwinMarshal(b *testing.B) {
	tw := benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(tw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTwinUnmarshal(b *testing.B) {
	data, _ := json.Marshal(benchDoc())
	b.ReportAllocs()
	for b.Loop() {
		var tw twin.Twin
		if err := json.Unmarshal(data, &tw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyPatch(b *testing.B) {
	tw := benchDoc()
	p, _ := twin.ParsePatch([]byte(`[{"op":"replace","path":"/output","value":50},{"op":"replace","path":"/site/country","value":"AU"}]`))
	now := time.Date(2025, 4, 3, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tw.ApplyPatch(p, now); err != nil {
			b.Fatal(err)
		}
	}
}
