package world_test

import (
	"fmt"

	"lodestone/world"
)

// ExampleWorld_StageShares prints China's share of each stage computed from
// the default world, next to the published figure.
func ExampleWorld_StageShares() {
	w, err := world.Load()
	if err != nil {
		panic(err)
	}
	for _, s := range w.StageShares() {
		fmt.Printf("%-10s %5.1f%% (published %.0f%%, %d)\n", s.Stage, 100*s.Share, 100*s.Published.Value, s.Published.Year)
	}
	// Output:
	// mine        68.5% (published 69%, 2024)
	// separation  92.0% (published 92%, 2023)
	// metal       90.0% (published 90%, 2020)
	// magnet      92.0% (published 92%, 2020)
}

// ExampleWorld_Network converts the default world into a per-day supply
// network, the NETWORK document of `lodestone supply stress`.
func ExampleWorld_Network() {
	w, err := world.Load()
	if err != nil {
		panic(err)
	}
	net, err := w.Network(nil)
	if err != nil {
		panic(err)
	}
	for _, n := range net.Nodes[:2] {
		fmt.Printf("%s %s %.2f t/day\n", n.ID, n.Country, n.CapacityPerPeriod)
	}
	fmt.Println(len(net.Nodes), "nodes,", len(net.Arcs), "arcs")
	// Output:
	// mine-cn CN 739.73 t/day
	// mine-us-mountain-pass US 123.29 t/day
	// 25 nodes, 35 arcs
}

// ExampleWorld_Scenario builds the April 2025 licence regime as a SCENARIO
// of `lodestone supply run`.
func ExampleWorld_Scenario() {
	w, err := world.Load()
	if err != nil {
		panic(err)
	}
	s, err := w.Scenario(world.ScenarioApril2025, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Start, s.Days, s.Controls[0].Name, s.Controls[0].Effective)
	// Output:
	// 2025-01-01 1826 CN-2025-18 2025-04-04
}

// ExampleNetworkFromTwins loads the default world's twins (as a snapshot
// of the twin graph would hold them) and builds the supply network back.
func ExampleNetworkFromTwins() {
	w, err := world.Load()
	if err != nil {
		panic(err)
	}
	twins, rels := w.Twins()
	g, err := world.NetworkFromTwins(twins, rels, &world.GraphOptions{PerYear: true})
	if err != nil {
		panic(err)
	}
	n := g.Network
	fmt.Println(len(n.Nodes), "nodes,", len(n.Arcs), "arcs")
	fmt.Println(n.Nodes[0].ID, n.Nodes[0].Country, n.Nodes[0].CapacityPerPeriod, "t/yr")
	fmt.Println(n.Arcs[0].From, "->", n.Arcs[0].To, n.Arcs[0].Material)
	// Output:
	// 25 nodes, 35 arcs
	// mine-au-mt-weld AU 13000 t/yr
	// mine-au-mt-weld -> sep-my-lynas REO-concentrate (La Ce Pr Nd Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Y)
}
