package supply_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"lodestone/supply"
)

// builder starts a build on day on and records what StartBuild answered
// to it and to bad calls; after the run, Onset and FirstStockout are read
// from the Sim.
type builder struct {
	node, on, online, ramp int
	add                    float64
	ok                     bool
	bad                    []bool
}

func (c *builder) Decide(d supply.Day) {
	if d.Index() != c.on {
		return
	}
	c.ok = d.StartBuild(c.node, c.online, c.add, c.ramp)
	c.bad = []bool{
		d.StartBuild(-1, c.online, c.add, c.ramp),        // no node
		d.StartBuild(c.node, d.Index()-1, c.add, c.ramp), // online before today
		d.StartBuild(c.node, c.online, 0, c.ramp),        // no capacity
		d.StartBuild(c.node, c.online, math.NaN(), c.ramp),
		d.StartBuild(c.node, c.online, c.add, -1), // negative ramp
	}
}

// TestStartBuild: the standby scenario with S1 out from day 0 and S2's
// lane in service but S2 without capacity until a build. The OEM's 50
// units last days 0–4 (10 a day). S2's 20 a day online on day o take the
// OEM's order that day, ship on day o+1 and arrive (lead 2) on day o+3:
// the OEM loses days 5 … o+2, 10 × (o − 2) units for o ≥ 2, and its first
// stockout is day 5 when o > 2. Onset is day 0 (S1's shock). A build
// online today is accepted; bad calls are refused and change nothing.
func TestStartBuild(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		on, online int
		lost       float64
	}{{0, 2, 0}, {0, 5, 30}, {3, 10, 80}, {10, 10, 80}} {
		s := standbyScenario()
		s.Network.Nodes[1].CapacityPerPeriod = 0
		s.Network.Arcs[1].Standby = false
		sim, err := supply.NewSim(s)
		if err != nil {
			t.Fatal(err)
		}
		c := &builder{node: 1, on: tt.on, online: tt.online, add: 20}
		res, err := sim.Run(ctx, rand.New(rand.NewPCG(1, 0)), c)
		if err != nil {
			t.Fatal(err)
		}
		if !c.ok || len(c.bad) != 5 {
			t.Fatalf("StartBuild on day %d online %d: ok %v, bad calls %v", tt.on, tt.online, c.ok, c.bad)
		}
		for i, b := range c.bad {
			if b {
				t.Errorf("bad call %d accepted", i)
			}
		}
		if got := res.Nodes["OEM"].Lost; got != tt.lost {
			t.Errorf("build online day %d: OEM lost %v, want %v", tt.online, got, tt.lost)
		}
		oem, _ := sim.NodeIndex("OEM")
		wantSO := -1
		if tt.lost > 0 {
			wantSO = 5
		}
		if sim.Onset() != 0 || sim.FirstStockout(oem) != wantSO || sim.FirstStockout(99) != -1 {
			t.Errorf("build online day %d: onset %d, first stockout %d, want 0 and %d", tt.online, sim.Onset(), sim.FirstStockout(oem), wantSO)
		}
		// The next run without a controller has no build: the scenario's
		// run, S2 never producing.
		res, err = sim.Run(ctx, rand.New(rand.NewPCG(1, 0)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Nodes["S2"].Produced != 0 || res.Nodes["OEM"].Lost != 350 {
			t.Errorf("run after a build: S2 produced %v, OEM lost %v; want 0 and 350", res.Nodes["S2"].Produced, res.Nodes["OEM"].Lost)
		}
	}
	// Without a shock or a control there is no onset.
	s := standbyScenario()
	s.Shocks = nil
	sim, err := supply.NewSim(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Run(ctx, rand.New(rand.NewPCG(1, 0)), nil); err != nil {
		t.Fatal(err)
	}
	if sim.Onset() != -1 {
		t.Errorf("onset %d without a shock, want -1", sim.Onset())
	}
}
