// Package flowsheet chains the process engines into a separation plant:
// solvent extraction (a loading cascade with extraction and scrub sections,
// and a strip cascade), oxalate precipitation of the strip liquor,
// filtration and calcination to oxide, with the two recycles of a real
// circuit, and reports overall recovery, product purity as oxide, reagent
// use per tonne of rare-earth oxide (REO) and the element balance.
//
// It is a pure engine ([Run] takes a [Spec] and a context and returns a
// [Result]; no I/O, no globals). It uses process/sx for the cascades,
// process/precip and process/calcine for the solids, and process/chem for
// molar masses.
//
// # Circuit
//
//	feed ──► LOAD cascade (stages 1..n extraction, n+1..n+m scrub) ──► raffinate
//	           ▲ organic in at stage 1       │ loaded organic out at stage n+m
//	           │ (recycled + fresh make-up)  ▼
//	           └──── STRIP cascade (stages 1..k) ◄── strip acid (fresh + recycled filtrate)
//	    stripped organic out at stage k      │ strip liquor out at stage 1
//	                                         ▼
//	                     PRECIPITATION (oxalic acid dose) ──► FILTRATION ──► cake ──► CALCINATION ──► oxide
//	                                                             │ filtrate: fraction r_f back to the strip acid, rest bled
//
// The feed enters the load cascade at stage n, scrub acid at stage n+m and
// the organic at stage 1 (Xu's numbering, as in process/sx). The stripped
// organic is recycled to the load cascade (fraction r_o; the rest is purged
// and replaced by fresh organic, which is the extractant make-up); the
// filtrate is recycled to the strip acid (fraction r_f; the acid released by
// precipitation is regenerated there, as in the PrOMMiS UKy flowsheet, which
// recycles 90 % of it; process-twin.md §b.8). The organic flow is the same
// in both cascades.
//
// # Solution
//
// The two recycles are torn (stripped organic; filtrate composition) and
// solved by successive substitution: each pass solves the load cascade, the
// strip cascade, the precipitation, the filtration and the calcination in
// order, until the largest relative change of a tear variable is below the
// tolerance (default 1e-11). Species that the SX model does not carry (Cl⁻,
// NO3⁻, Na⁺, oxalic acid, …) pass through the aqueous phase of the strip
// cascade unchanged; they are not followed through the load cascade (its
// feed and scrub spectators leave with the raffinate).
//
// # Filtration
//
// A fraction solids_recovery of the precipitate reports to the cake; the
// rest is lost with the filtrate ("filter loss", not recycled). The cake
// carries cake_moisture_kg_per_kg kg of liquor per kg of hydrate, which is
// assumed washed: its dissolved species return to the filtrate and only its
// water reaches the calciner as moisture (density 1 kg/L, PrOMMiS).
//
// # Results
//
// Recovery of an element is the metal in the calcined product over the
// metal in the feed. Purity is the mass fraction of each oxide in the
// product, and the REO purity the mass fraction of rare-earth oxides.
// Reagent use is per tonne of REO in the product: oxalic acid dosed, acid
// fed (scrub plus fresh strip acid, as kg HCl in chloride media or kg H2SO4
// in sulfate media, 2 H⁺ per H2SO4), extractant make-up (purge of the
// recycled organic, free plus bound HA, as kg of the named extractant).
// [Result.Closure] is (in − out)/in per element over the whole plant at the
// converged state: feed, scrub and fresh strip acid in; raffinate, organic
// purge, filtrate bleed, filter loss, oxide product and dust out.
package flowsheet
