// Package world holds Lodestone's default data sets, embedded in the binary:
// the 2024 rare-earth mine-to-magnet network (data/world2024.json), with a
// source for every number.
//
// # The data
//
// Every number in the data file is a [Quantity]: a value with its source
// (the publication in words and its citation key in square brackets, an
// entry of the one bibliography data/bibliography.json, [Bibliography]). A
// number computed from others is marked derived and states its formula in
// words; a modelling choice is marked as an assumption and says why.
// [Decode] refuses a number without a source, a source that cites no key or
// a key the bibliography lacks, a derived number without a formula and an
// assumption without a reason. Nothing is invented: where the
// research note says a figure was not retrieved, the data leave it out
// (transit lead times, most inventories, costs) or make it a required
// parameter with no default (the element split of REO per deposit,
// NetworkOptions.REOSplit).
//
// # The mine list and prices
//
// The mine nodes hold the 2024 figures of the USGS Mineral Commodity
// Summaries 2025 rare-earths table (p. 145), one node per producing
// country and one for the table's "Other" row; producers the data leave
// out are listed in World.Absent with the reason (TestUSGSMines checks the
// list against the table kept in testdata). [Prices] loads
// data/prices.json, dated and sourced material prices in the shape of a
// supply scenario's prices input.
//
// # Stages and units
//
// Nodes are mines (t REO in concentrate per year), separators (t separated
// REO), metal and alloy makers (t rare-earth metal), magnet makers (t NdFeB),
// OEM demand (t NdFeB) and strategic stockpiles. Mine capacities are USGS
// 2024 production estimates; the separation, metal and magnet stages are
// sized from the published China shares of those stages, so [World.StageShares]
// reproduces the published shares by construction for those stages and
// independently only for mining (see docs/world.md).
//
// # Networks
//
// [World.Network] converts the data into a [supply.Network]. Capacities and
// demands are per period: annual tonnes divided by 365 for a per-day network
// (the default, the unit of `lodestone supply run`), or kept annual.
// Inventories stay in tonnes. An arc's ratio is the tonnes of its material
// per tonne of the receiving node's output (the material's consumption
// ratio). Arcs into a node that carry the same material are alternative
// sources. The arc material names the contained elements, so that the
// element lists of export controls (supply.Control) match them.
//
// The aggregate network treats all REO as feed for magnet metal; it
// therefore overstates how far non-Chinese separation can replace Chinese
// separation. The element-level network (LevelElement) follows NdPr, Dy and
// Tb separately from the mines to the magnet's bill of materials and needs
// the REO split of every mine.
//
// # The 2010–11 crisis case
//
// [LoadCrisis2010] reads data/crisis2010.json, the sourced inputs of the
// research note's validation case V4 (China's 2010 production, consumption
// and export quotas, and the resilience rates of Sprecher et al. 2017);
// [Crisis2010.Scenario] builds the quota shock on the ex-China market and
// [CrisisRecovery] reads how long the market stayed short (docs/world.md).
//
// # Scenarios and twins
//
// [World.Scenario] builds a supply.SimScenario for the built-in export
// control regimes of 2025 (the April licence regime on Dy and Tb, the
// October measures, the November suspension); [World.Twins] returns the
// world as twins and relationships typed by the bundled ontology (package
// models), ready to load into the twin graph. [NetworkFromTwins] goes the
// other way: it builds a supply.Network from facility twins and their feeds
// edges (a snapshot of the graph as of a date), with separation plants'
// capacity and recovery from their process-twin results, and
// [GraphScenario] adds a scenario to it.
package world
