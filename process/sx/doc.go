// Package sx models solvent-extraction (SX) cascades of mixer-settlers at
// steady state: pluggable distribution-ratio models, a cascade solver, a
// circuit of sections joined by streams, and a fitter that estimates
// extraction constants from measured batch equilibria.
//
// The package is a pure engine: no I/O, no globals, no wall clock. All
// concentrations are mol/L, all flows L/h, inside the engine; callers
// convert (the CLI uses mg/L and the atomic weights of process/chem).
//
// # Flow and sign conventions
//
// Stages are numbered 1..N (Xu Guangxian's convention, as in
// ../shared/research/process-twin.md and plant-trust.md §b.1). The organic
// phase flows from stage 1 to stage N and the aqueous phase from stage N to
// stage 1, so the loaded organic (extract) leaves stage N and the raffinate
// leaves stage 1. Inlets of either phase may enter at any stage: feed, fresh
// or recycled organic, scrub or strip acid. Volumetric flows are constant
// between inlets (no phase-volume change), as in PrOMMiS' property packages:
// the aqueous flow leaving stage s is the sum of the aqueous inlets at stages
// ≥ s, the organic flow leaving stage s the sum of the organic inlets at
// stages ≤ s. PrOMMiS indexes the mirror way (aqueous forward); only the
// indices differ.
//
// A transfer t[s,i] > 0 is metal moving from the aqueous to the organic
// phase in stage s (extraction); t < 0 is stripping.
//
// # Stage equations
//
// For stage s, metal component i with charge z_i, aqueous flow A_s, organic
// flow O_s, aqueous and organic concentrations x[s,i] and y[s,i] (mol/L),
// and inlet molar flows qa[s,i], qo[s,i] (mol/h):
//
//	component:  A_{s+1}·x[s+1,i] + O_{s-1}·y[s-1,i] + qa[s,i] + qo[s,i] = A_s·x[s,i] + O_s·y[s,i]
//	equilibrium: y[s,i] = D_i(h_s, f_s)·x[s,i]
//	transfer:    t[s,i] = O_s·y[s,i] − O_{s-1}·y[s-1,i] − qo[s,i]
//	protons:     A_{s+1}·HT_{s+1} + qH_s + Σ_i z_i·t[s,i] = A_s·HT_s
//	extractant:  f_s + ν·Σ_i z_i·y[s,i] = T_s
//
// HT is the total acidity of the aqueous phase (free H⁺ plus HSO4⁻ less
// OH⁻, with [OH⁻] = Kw/[H⁺] and Kw = 1e-14 at 25 °C), qH_s
// the acidity fed by aqueous inlets at stage s (their H plus HSO4, taken as
// given: the bisulfate equilibrium is not applied to inlets, as in PrOMMiS),
// h_s the free H⁺ (pH = −log10 h, concentration scale), f_s the free
// extractant as monomer HA (mol/L of organic) and T_s the total extractant,
// free plus bound, which is conserved along the organic phase. ν is the
// number of HA monomers bound per unit charge extracted: 2 for the dimer
// mechanism of ideal mass action (capacity 6 HA per M³⁺), 1 for the PrOMMiS
// DEHPA stoichiometry (3 DEHPA per M³⁺, 2 per Ca²⁺).
//
// In sulfate media each stage has the bisulfate equilibrium
//
//	HSO4⁻ ⇌ H⁺ + SO4²⁻,  Ka2 = [H⁺][SO4²⁻]/[HSO4⁻] = 10^-1.99 mol/L  (PrOMMiS)
//	HT = h + S·h/(h + Ka2) − Kw/h,  S = total sulfate of the stage (HSO4⁻ + SO4²⁻)
//
// which is increasing in h, so every HT, even a negative one (an alkaline
// liquor), has one positive h. Sulfate
// and chloride are spectators otherwise (no complexation at this fidelity).
//
// # Distribution models
//
// [Constant] (D fixed per component), [PrommisDEHPA] (the empirical DEHPA +
// TBP correlation of PrOMMiS, log D = (m0 + m1·dosage)·pH + B0 +
// B1·log10(dosage), dosage in % v/v from the free DEHPA of the stage, with
// constant D for Sc, Al, Ca and Fe), and [MassAction] (ideal mass action of
// an acidic extractant on the dimer basis, M^z + z(HA)2 ⇌ M(HA2)_z + zH⁺,
// D = K·([(HA)2]/[H⁺])^z). Saponification is counter-ion exchange: the
// saponified organic carries Na⁺ or NH4⁺ as a monovalent component with its
// own extraction constant, fed on the organic inlet; metals displace it into
// the aqueous phase instead of releasing H⁺. The Na/NH4 loading fed is the
// base consumed (NaOH or NH3, 1 mol per mol of counter-ion).
//
// # Solver
//
// [Solve] starts with a sweep of damped successive substitution (kept only
// when it lowers the residual): with D fixed, each component is a
// tridiagonal linear system (Thomas algorithm); then the proton balance is
// swept down the cascade for the acidity profile and the free extractant is
// solved stage by stage. It finishes with Newton's method
// on the whole system, whose Jacobian is block tridiagonal in the stage
// order with blocks of size C+2 (C metals, ln h, ln f). The extractant row
// of a stage involves only that stage, so ln f is condensed out first and
// the blocks solved have size C+1. They are solved by a hand-written block
// Thomas algorithm with a Gauss–Jordan inverse (partial pivoting) of each
// diagonal block: the blocks are small and dense, the coupling to the next
// stage is diagonal and the coupling to the previous one sparse, and a
// hand-written solver works in preallocated buffers with no allocation per
// iteration (a general banded solver would fill the band of width 2(C+2),
// ignore the structure and allocate). Steps are damped by a backtracking
// line search on the scaled residual; concentrations are kept non-negative
// and h, f positive by solving for ln h and ln f.
//
// When the line search stalls far from the solution (the usual case when
// starting from empty stages at high loading), the solver switches to
// pseudo-transient continuation: linearly implicit Euler steps of the
// cascade's own dynamics, each phase holding one hour of its flow per
// stage, with a step that grows as the residual falls (and shorter steps
// along the same direction, or a smaller time step, when a step would raise
// the residual tenfold, a concentration tenfold, or h or f e-fold); it
// becomes Newton's method near the solution. When no steady state exists
// (with constant D, an organic loaded past its capacity) or the liquor
// turns alkaline, the *ConvergenceError says so.
//
// The mass balance of every component is checked after the solve,
// independently of the solver tolerance, and reported as [Result.Closure].
// Solve allocates its workspace once; iterations do not allocate.
//
// # Circuits
//
// [SolveCircuit] joins sections (extraction, scrub, strip) by [Link]s:
// loaded organic to the strip, stripped organic recycled with a purge, strip
// liquor or scrub liquor returned. Flows are solved exactly first (a linear
// system); compositions by successive substitution on the linked (tear)
// streams until their change, measured against each component's feed, is
// below 1e-12. Make-up and purge of extractant are reported.
//
// # Fitting
//
// [Fit] estimates log10 K of [MassAction] per element from measured batch
// equilibria ([BatchPoint], decoded from the LLEPE compilation by
// [DecodeLLEPE]): each point is one equilibrium stage solved with Solve,
// the constant found by least squares in log10 D, with leave-one-out
// errors. On the Lyon (2016) single-element rows (H⁺ ≤ 0.1 M, O/A = 1
// assumed) it gives log K −1.604 (Nd) and −1.750 (Pr) with leave-one-out
// RMS errors of 0.090 and 0.153 in log D.
//
// # Sources
//
// Equations: process-twin.md §b.1–b.4 (PrOMMiS prommis/prommis @ 0fe1f1b,
// solvent_extraction_reaction_package.py; textbook mass action and Kremser).
// PrOMMiS DEHPA parameters: process-twin.md §c.1.
package sx
