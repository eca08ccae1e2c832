package supply_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"lodestone/supply"
)

// layered builds a SYNTHETIC five-stage network of 5·k nodes (k mines,
// separators, metal plants, magnet makers and OEMs), each node drawing one
// material from two or three upstream nodes, for benchmarks.
func layered(k int, seed uint64) supply.Network {
	rng := rand.New(rand.NewPCG(seed, 9))
	stages := []string{"mine", "separation", "metal", "magnet", "oem"}
	ratios := []float64{0, 2, 1.2, 0.3, 1}
	var net supply.Network
	for s, st := range stages {
		for i := range k {
			nd := supply.Node{ID: supply.NodeID(fmt.Sprintf("%s-%d", st, i)), Stage: st, Country: []string{"CN", "AU", "US", "MY"}[i%4],
				CapacityPerPeriod: 80 + 40*rng.Float64(), Inventory: 20 * rng.Float64()}
			if st == "oem" {
				nd.DemandPerPeriod = 20 + 10*rng.Float64()
				nd.LossPerUnit = 10 + 90*rng.Float64()
				nd.Inventory = 30 * nd.DemandPerPeriod / 30
			}
			net.Nodes = append(net.Nodes, nd)
			if s == 0 {
				continue
			}
			for j := range 2 + rng.IntN(2) {
				up := (i + j*3) % k
				net.Arcs = append(net.Arcs, supply.Arc{From: supply.NodeID(fmt.Sprintf("%s-%d", stages[s-1], up)), To: nd.ID,
					Ratio: ratios[s], Material: stages[s-1] + " Dy", LeadTimeDays: 5 + rng.IntN(30)})
			}
		}
	}
	return net
}

func BenchmarkStressEveryNode(b *testing.B) {
	for _, k := range []int{4, 8} {
		net := layered(k, 1)
		b.Run(fmt.Sprintf("nodes=%d", len(net.Nodes)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := supply.Stress(b.Context(), &net, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func fiveYears() supply.SimScenario {
	net := layered(8, 1)
	return supply.SimScenario{
		Start: "2025-01-01", Days: 1826, Network: net,
		Shocks:       []supply.Shock{{Node: "separation-0", From: "2026-03-01", To: "2026-06-30", CapacityFactor: 0.1}},
		Controls:     []supply.Control{{Name: "no18", Builtin: "CN-2025-18"}},
		RandomShocks: []supply.RandomShock{{Name: "magnet outage", Nodes: []supply.NodeID{"magnet-1", "magnet-5"}, ProbPerDay: 0.002, DurationDays: 30, DurationSigma: 0.5}},
	}
}

func BenchmarkRunFiveYears(b *testing.B) {
	sc := fiveYears()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := supply.Run(b.Context(), &sc, rand.New(rand.NewPCG(1, 1))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMonteCarlo reports runs/s of five-year runs of the 40-node
// network. The acceptance study (10,000 runs) runs only with
// LODESTONE_BENCH_FULL=1, so that CI's one-pass benchmark run stays short.
func BenchmarkMonteCarlo(b *testing.B) {
	sc := fiveYears()
	sizes := []int{256}
	if os.Getenv("LODESTONE_BENCH_FULL") == "1" {
		sizes = append(sizes, 10000)
	}
	for _, runs := range sizes {
		b.Run(fmt.Sprintf("runs=%d", runs), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := supply.MonteCarlo(b.Context(), &sc, supply.MCOptions{Runs: runs, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(runs*b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
}
