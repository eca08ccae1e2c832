package supply_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/supply"
)

func TestCompareExposure(t *testing.T) {
	tests := []struct {
		name string
		in   []supply.StressResult
		want []string
	}{{
		// An exposed scenario comes first even with a smaller REI.
		name: "exposed first",
		in:   []supply.StressResult{{Name: "safe", REI: 1}, {Name: "exposed", Exposed: true, ShortagePeriods: 2, REI: 0.1}},
		want: []string{"exposed", "safe"},
	}, {
		// Among exposed ones, the longer shortage first, REI second.
		name: "by shortage, then REI",
		in: []supply.StressResult{
			{Name: "short", Exposed: true, ShortagePeriods: 5, REI: 1},
			{Name: "long", Exposed: true, ShortagePeriods: 30, REI: 0.2},
			{Name: "long, larger REI", Exposed: true, ShortagePeriods: 30, REI: 0.6},
		},
		want: []string{"long, larger REI", "long", "short"},
	}, {
		// Not exposed: by REI, then by name.
		name: "by REI, then name",
		in:   []supply.StressResult{{Name: "b", REI: 0.5}, {Name: "c", REI: 0.9}, {Name: "a", REI: 0.5}},
		want: []string{"c", "a", "b"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := slices.Clone(tt.in)
			slices.SortStableFunc(res, supply.CompareExposure)
			var got []string
			for _, r := range res {
				got = append(got, r.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sorted by CompareExposure (-want +got):\n%s", diff)
			}
		})
	}
}
