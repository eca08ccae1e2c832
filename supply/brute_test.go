package supply_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"lodestone/supply"
)

// bruteTTR finds the least loss of a three-tier network (2 mines → 2 plants
// → 2 demand nodes, every arc ratio 1, one material per tier) by enumerating
// every integer shipment plan. With integer data the LP's constraint matrix is
// a network matrix, so the integer optimum equals the LP optimum: an
// independent check of the LP model and solver.
func bruteTTR(cap, inv, dem, loss [6]int, down int, T int) int {
	avail := func(i int) int {
		c := cap[i] * T
		if i == down {
			c = 0
		}
		return c
	}
	best := math.MaxInt
	// y[m][p]: mine m → plant p.
	for a := 0; a <= avail(0)+inv[0]; a++ {
		for b := 0; a+b <= avail(0)+inv[0]; b++ {
			for c := 0; c <= avail(1)+inv[1]; c++ {
				for d := 0; c+d <= avail(1)+inv[1]; d++ {
					in := [2]int{a + c, b + d}
					var out [2]int
					for p := range 2 {
						out[p] = min(avail(2+p), in[p]) + inv[2+p]
					}
					// plant p → demand q.
					for e := 0; e <= out[0]; e++ {
						for f := 0; e+f <= out[0]; f++ {
							for g := 0; g <= out[1]; g++ {
								for h := 0; g+h <= out[1]; h++ {
									recv := [2]int{e + g, f + h}
									cost := 0
									for q := range 2 {
										got := min(avail(4+q), recv[q]) + inv[4+q]
										cost += loss[4+q] * max(0, dem[4+q]*T-got)
									}
									best = min(best, cost)
								}
							}
						}
					}
				}
			}
		}
	}
	return best
}

func TestTTRMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	trials := 40
	if testing.Short() {
		trials = 10
	}
	for trial := range trials {
		var capc, inv, dem, loss [6]int
		for i := range 6 {
			capc[i] = rng.IntN(3)
			if i >= 2 {
				inv[i] = rng.IntN(3)
			}
			if i >= 4 {
				dem[i] = rng.IntN(4)
				loss[i] = 1 + rng.IntN(4)
			}
		}
		T := 1 + rng.IntN(2)
		down := rng.IntN(6)
		ids := []supply.NodeID{"M0", "M1", "P0", "P1", "D0", "D1"}
		net := supply.Network{}
		for i, id := range ids {
			net.Nodes = append(net.Nodes, supply.Node{ID: id, CapacityPerPeriod: float64(capc[i]), Inventory: float64(inv[i]),
				DemandPerPeriod: float64(dem[i]), LossPerUnit: float64(loss[i])})
		}
		for m := range 2 {
			for p := range 2 {
				net.Arcs = append(net.Arcs, supply.Arc{From: ids[m], To: ids[2+p], Ratio: 1, Material: "ore"})
				net.Arcs = append(net.Arcs, supply.Arc{From: ids[2+m], To: ids[4+p], Ratio: 1, Material: "oxide"})
			}
		}
		sc := supply.Scenario{Name: "x", Disrupted: []supply.NodeID{ids[down]}, TTRPeriods: float64(T)}
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			_, per, err := supply.TimeToRecover(&net, sc)
			if err != nil {
				t.Fatal(err)
			}
			got := 0.0
			for i, nd := range net.Nodes {
				got += float64(loss[i]) * per[nd.ID]
			}
			want := bruteTTR(capc, inv, dem, loss, down, T)
			if math.Abs(got-float64(want)) > 1e-6 {
				t.Errorf("TTR loss = %v, brute force %d (net %+v, down %s, T %d)", got, want, net, ids[down], T)
			}
		})
	}
}

// TestTTSConsistentWithTTR checks the two LPs against each other on random
// networks: no loss over a window of TTS periods, and a loss over a window
// slightly longer than TTS when TTS is below the cap.
func TestTTSConsistentWithTTR(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2))
	for trial := range 30 {
		ids := []supply.NodeID{"M0", "M1", "P0", "P1", "D0", "D1"}
		net := supply.Network{TTSCapPeriods: 50}
		for i, id := range ids {
			nd := supply.Node{ID: id, CapacityPerPeriod: float64(rng.IntN(5))}
			if i >= 2 {
				nd.Inventory = float64(rng.IntN(10))
			}
			if i >= 4 {
				nd.DemandPerPeriod = float64(1 + rng.IntN(4))
				nd.LossPerUnit = 1
			}
			net.Nodes = append(net.Nodes, nd)
		}
		for m := range 2 {
			for p := range 2 {
				net.Arcs = append(net.Arcs, supply.Arc{From: ids[m], To: ids[2+p], Ratio: 0.5 + rng.Float64(), Material: "ore"})
				net.Arcs = append(net.Arcs, supply.Arc{From: ids[2+m], To: ids[4+p], Ratio: 0.5 + rng.Float64(), Material: "oxide"})
			}
		}
		sc := supply.Scenario{Name: "x", Disrupted: []supply.NodeID{ids[rng.IntN(6)]}}
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			tts, err := supply.TimeToSurvive(&net, sc)
			if err != nil {
				t.Fatal(err)
			}
			if tts > 1e-6 {
				sc.TTRPeriods = tts
				lost, _, err := supply.TimeToRecover(&net, sc)
				if err != nil {
					t.Fatal(err)
				}
				if lost > 1e-6 {
					t.Errorf("TTR over TTS=%v periods loses %v, want 0", tts, lost)
				}
			}
			if tts < 49 {
				sc.TTRPeriods = tts*1.01 + 0.01
				lost, _, err := supply.TimeToRecover(&net, sc)
				if err != nil {
					t.Fatal(err)
				}
				if lost < 1e-9 {
					t.Errorf("TTR over %v periods (TTS %v) loses nothing, want a loss", sc.TTRPeriods, tts)
				}
			}
		})
	}
}
