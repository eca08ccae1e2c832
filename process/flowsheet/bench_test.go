package flowsheet_test

import (
	"testing"

	"lodestone/process/flowsheet"
)

func BenchmarkRun(b *testing.B) {
	for _, tc := range []struct {
		name string
		spec func() *flowsheet.Spec
	}{{"model=constant", constantSpec}, {"model=mass-action", massActionSpec}} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.spec()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := flowsheet.Run(b.Context(), s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
