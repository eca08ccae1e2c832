package world_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"lodestone/internal/golden"
)

// TestGolden pins the documents users get from the default world (the
// NETWORK of `world network`, the stage shares), so that a change to the data or
// the conversion shows up as a reviewed diff. Regenerate with
// `go test ./world -run TestGolden -update`.
func TestGolden(t *testing.T) {
	w := load(t)
	net, err := w.Network(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		v    any
		prov golden.Provenance
	}{
		{"network-per-day.golden.json", net, golden.Provenance{
			Sources: []string{
				"capacity_per_period and demand_per_period (annual tonnes of world/data/world2024.json / 365), " +
					"inventory (its tonnes) and ratio (its consumption ratios): the publication each node's and " +
					"arc's source field cites, resolved in world/data/bibliography.json; the data mark which of " +
					"them are derived (with their formula, recomputed by TestDerivedValues) or assumed",
			},
			Note: "loss_per_unit 1 and capacity = demand of the OEMs, and the stockpiles' zero holdings, are " +
				"conventions of the conversion (docs/world.md), not data",
		}},
		{"stage-shares.golden.json", w.StageShares(), golden.Provenance{
			Sources: []string{
				"published.value: the published China shares, USGS MCS 2025 [MCS2025, p. 145] (mining, derived 270/390), " +
					"IEA GCMO 2024 [S13] (separation), DOE 2022 [S16] (metal), DOE 2022 [S16] and Argonne [S19] " +
					"(magnets), as the data cite them",
				"china_tonnes_per_year, world_tonnes_per_year: sums of the sourced capacities of the data's nodes " +
					"(for mining, the country rows of the USGS table, checked by TestUSGSMines)",
			},
			Note: "share is this code's ratio of the two sums; only mining is an independent check, the other " +
				"stages are sized from their published share (docs/world.md, Stage shares)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := json.MarshalIndent(tt.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.file), tt.prov, append(got, '\n'))
		})
	}
}
