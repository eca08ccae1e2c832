// Package supply is the supply-chain engine of Lodestone: a mine-to-magnet
// network model, the Simchi-Levi stress test (time to recover, time to
// survive, risk exposure index, strategic-stock sizing), a library of
// inventory formulas, a daily simulation with shocks, export controls,
// supplier qualification and inventory policies, and a parallel Monte Carlo.
//
// The engine is pure: no I/O, no globals, no wall clock. Randomness comes
// only from a *rand.Rand the caller passes in (math/rand/v2, PCG); the same
// inputs and seed give the same bits, whatever the number of workers.
//
// # Network
//
// A [Network] has nodes (id, stage, country, capacity c_i per period,
// inventory s_i, external demand d_i per period, loss f_i per lost unit) and
// arcs i→j with a ratio r_a: units of i's output per unit of j's output.
// Arcs into j that carry the same material are alternative sources of it;
// different materials are all required (a bill of materials). Arcs that name
// no material carry the node's one default input (DefaultMaterial): they are
// alternatives, as in Simchi-Levi's formulation. A node with no input arc is
// a source; a node with demand is a demand node. [Network.Validate]
// rejects duplicate ids, unknown nodes, ratios ≤ 0, NaN and ±Inf, negative
// quantities and cycles whose nodes hold no stock, with a [*FieldError]
// naming the field ("arcs[3].to: unknown node \"X\"").
//
// # Stress test (research note b.2, b.3; Simchi-Levi et al. 2015)
//
// Scenario n disrupts a node set S⁽ⁿ⁾ (capacity share θ, 0 by default, up to
// MaxFactor = 10 for a surge; an empty set is the baseline row) for its time
// to recover T = t⁽ⁿ⁾ (DefaultTTR = 144 days for the node-by-node table: new
// supplier qualification, research note c.8). Variables u_j ≥ 0 (production over the window),
// y_a ≥ 0 (shipments), l_j ≥ 0 (lost demand). The TTR LP is
//
//	PI(n) = min Σ_j f_j l_j
//	s.t.  u_j − Σ_{a∈P_jk} y_a / r_a ≤ 0      every node j, every input material k
//	      Σ_{a out of i} y_a − u_i − l_i ≤ s_i − d_i T    every node i (flow balance)
//	      u_j ≤ θ_j c_j T                        (θ_j = 1 outside S⁽ⁿ⁾)
//	      l_j ≤ d_j T                            (demand nodes that also ship)
//
// The balance row merges the paper's "ship ≤ stock + production" and "demand
// met or lost" rows, so a node may both ship downstream and sell. Ties in
// PI are broken toward fewer lost units (a 1e-6 weight). The TTS LP is
//
//	TTS(n) = max t
//	s.t.  the same BOM rows, Σ_out y_a − u_i + d_i t ≤ s_i, u_j ≤ θ_j c_j t, t ≤ T_max
//
// (linear: t multiplies only data). TTS = T_max means the network survives
// (tts_capped). REI(n) = PI(n) / max_m PI(m) (lost units when no node has a
// loss per unit); the exposure flag is TTS < TTR and the shortage TTR − TTS.
// The strategic-stock LP (b.4) adds x_i ≥ 0 at cost h_i to every node's stock
// and asks for no loss over every scenario's TTR (TTS ≥ TTR), minimising
// Σ h_i x_i with one flow block per scenario.
//
// Before the simplex the LPs are reduced without changing their optimum: a
// source needs no production variable (it ships up to s_i + θ c_i T); a node
// with a single input material produces exactly what it receives
// (u_j = Σ y_a/r_a; receiving more never helps); shipments into a node that
// cannot produce are dropped. Quantities are scaled by the largest capacity,
// stock or demand. The standard form (one slack or surplus per row, rows with
// negative right-hand side negated) goes to gonum's lp.Simplex with a
// feasible starting basis where one is obvious. An infeasible LP returns an
// [*InfeasibleError] naming the constraint families whose removal restores
// feasibility.
//
// # Inventory formulas (research note b.4, V2)
//
// [EOQ] Q* = √(2KD/h); [NewsvendorNormal] S* = μ + zσ, z = Φ⁻¹(p/(p+h)),
// cost (h+p)σφ(z); [BaseStockNormal] S = μτ + zσ√τ with τ = L + R and fill
// rate β = 1 − σ√τ G(z)/(μR), G(z) = φ(z) − z(1 − Φ(z)); [SSFiniteHorizon]
// the (s, S) dynamic programme of Scarf (1960) on integer states;
// [ClarkScarf] echelon base-stock levels of a serial system by the
// Chen–Zheng recursion. References: Snyder & Shen, Fundamentals of Supply
// Chain Theory, 2nd ed., Wiley 2019.
//
// # Daily simulation
//
// [Run] simulates a [SimScenario] in integer days from its start date; the
// network's quantities are per day. Each day runs these phases in this order:
//
//  1. Regimes: shocks active today (dates inclusive) set node capacity
//     factors, lane factors, port delays and demand factors; builds add
//     capacity (ramping linearly from their online date); substitutions cut
//     demand by min(max_share, rate × years since start); qualification
//     programmes set each new lane's usable share; export controls switch on
//     (effective), off (suspended) and back (resumes); licence decisions due
//     today are drawn (approve with probability π, else the lane may apply
//     again); quota periods roll over (a new period reopens the lanes its
//     quota had closed, and their customers re-place all their open orders of
//     that material among the sources open today). Open orders on lanes that
//     cannot flow and at suppliers that are down with nothing in stock are
//     cancelled.
//  2. Arrivals: shipments due today enter the receiving node's input stock of
//     their material, in output-equivalent units (quantity / ratio). Open
//     orders on lanes that cannot flow today are cancelled.
//  3. Production: u_j = min(θ_j c_j, need_j, min_k input_jk), need_j = open
//     orders + today's demand + initial stock − stock on hand (a node keeps its
//     initial finished stock as its target); inputs of every material are
//     consumed by u_j. A factor above 1 raises capacity, never output beyond
//     the inputs.
//  4. Allocation: each node splits its stock among today's external demand
//     and its customers' open orders (times the lane's open share) by the
//     rule: proportional (everyone gets the same fraction, the default) or
//     priority (external demand first, then arcs in file order). Quotas cap
//     controlled lanes; a lane whose quota is used up closes (phase 1) until
//     the next quota period, so its open orders go to other sources.
//     Shipments arrive max(1, lead + delay) days later.
//     External demand not served today is lost.
//  5. Ordering: for each node and input material, the inventory position
//     (on hand + in transit + open orders) is raised to the order-up-to level
//     S plus the node's finished-stock shortfall (base stock) or, for (s, S),
//     only when it is at or below s plus that shortfall. The order is split
//     among open, qualified sources in proportion to capacity × today's factor
//     + stock; open orders at a source that is down with nothing in stock move
//     to the others, or, when no source can supply, orders queue at the down
//     sources by nominal capacity and ship the day they restart. Lanes blocked only by a missing licence apply for one
//     (review_days). A stockpile (stage "stockpile") ships on shortfall: it
//     covers the material's orders its customers could not get today (capped
//     by release_per_day), or, with release "date", acts as a source from
//     release_from.
//  6. KPIs: requests (demand + new orders), fills, lost demand, stockout days
//     (a day with lost demand or unshipped open orders), month series, and a
//     7-day trailing fill rate for the empirical time to recover.
//
// The simulation starts from exactly the declared state: a node's inventory
// is its whole finished stock; input stocks (Node.InputInventory) and
// pipelines (Arc.InTransit) start empty unless given, or at rest with
// initial_state "at_rest". S defaults to the declared input stock plus
// (max(1, lead) + 1) days of the node's steady throughput (its demand plus
// what its customers draw at theirs, shared among alternative sources by
// capacity, capped by capacity): a network declared at rest stays at rest.
// A policy's cover_days replaces it. Quantities below Tolerance × the largest
// quantity are zero (no split divides by a denormal sum).
//
// Phase 0, decisions: a [Controller] given to [Sim.Run] (the org package's
// rules) is called first each day and reads the previous day's closing
// stocks and KPIs through [Day]; it may put a standby arc (arcs[].standby,
// which carries nothing until then) into service from a given day on, and,
// from today on, change a node's cover days or the allocation rule, start a
// demand substitution, start a build of new capacity (a [Build] that starts
// that day), or apply for licences under a control ahead of need
// (hook_actions.go; the run's licence refusals are a signal). These change
// only the run under way. With no controller a run is bit for bit the same
// as [Run].
//
// # Money
//
// Prices (material, country, price, currency, unit, date, source) value each
// node's output; Costs add margins, holding costs and units; builds carry
// capex and opex, qualifications a cost. A run reports per node and in sum
// the revenue at risk (lost × price), the cost of lost demand (lost ×
// margin), holding (stock unit-days × cost per unit-day), mitigation (builds,
// qualifications, stockpile holding) and their total; [Compare] gives the
// net benefit of a mitigation against a baseline over runs with common
// random numbers.
//
// Export controls ([Control]) have an issuing country, controlled elements
// (matched against the tokens of an arc's material: "NdPr Dy oxide" matches
// Dy), optional destinations, a scope by origin (the shipper is in the
// issuing country) or by content (the shipper is abroad and the share of its
// stock that contains issuing-country material exceeds content_threshold; the
// share is tracked by mass through production and shipments), and a mode:
// licence (review delay, approval probability, validity), ban or quota. The
// research note's 2025 measures are built in ([BuiltinControls]).
//
// Qualification ([Qualification]) is a state machine per new lane:
// unqualified → screening → samples/PPAP → audit → ramp → qualified; the lane
// carries nothing before ramp and min(1, τ/T_ramp) of its share in ramp.
//
// # Monte Carlo
//
// [MonteCarlo] runs replications in parallel; run r draws from
// rand.NewPCG(seed, r), which seeds one stream per control and per random
// shock (common random numbers across scenarios with the same ones). Random
// shocks start with a daily probability (geometric gaps) and last a
// lognormal number of days. Results are reduced in fixed blocks of runs in
// run order, so they do not depend on the number of workers. It reports
// mean with the half-width of its 95% confidence interval (t_{0.975,n−1}
// s/√n), P50/P90/P95 (empirical: the smallest value with at least that share
// at or below it), CVaR95 of lost demand (mean of the worst ⌈5%⌉), stockout
// probability, and the empirical TTS (first shock or control onset to first
// stockout) and TTR (first stockout until the trailing 7-day fill rate is
// ≥ 95% again, censored at the horizon).
package supply
