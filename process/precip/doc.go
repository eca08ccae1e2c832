// Package precip models the oxalate precipitation of rare earths (and of the
// impurities that come down with them) from an acidic strip liquor.
//
// It is a pure engine: [Simulate] takes a [Spec] and returns a [Result]; it
// does no I/O, keeps no state and never logs. [ParseSpec] decodes the JSON
// spec of the CLI contract strictly (unknown fields and missing required ones
// are errors that name the field).
//
// # Chemistry
//
// Oxalic acid precipitates trivalent metals as M2(C2O4)3·xH2O and calcium as
// CaC2O4·H2O, releasing the acid protons into the liquor:
//
//	2 M³⁺ + 3 H2C2O4 → M2(C2O4)3(s) + 6 H⁺      (rare earths, Sc, Y, Al, Fe)
//	Ca²⁺  +   H2C2O4 → CaC2O4(s)    + 2 H⁺
//
// (PrOMMiS precipitate_reactions.py @ 5757f5d; process-twin.md §b.6). The
// solid formulas and hydrate water numbers come from process/chem
// ([chem.OxalateOf]): 10 H2O for rare earths (the PrOMMiS default; real
// hydrate numbers vary by element), 2 for Fe, 1 for Al and Ca. Metals with
// no known oxalate (Mg, Mn, Zn, Th, U, Na, …) and the anions pass through to
// the liquor unchanged and are listed in [Result.PassThrough].
//
// # Models
//
// Let n_i be the metal i in the feed (mol/h), m_i and k_i the metal atoms and
// oxalate groups of its solid formula unit (2 and 3, or 1 and 1 for Ca) and
// conv_i the fraction of i precipitated. Then
//
//	solid_i (formula units, mol/h) = conv_i · n_i / m_i
//	aqueous_i out                  = n_i · (1 − conv_i)
//	oxalate bound (mol/h)          = Σ_i k_i · solid_i
//	H2C2O4 out = H2C2O4 in − oxalate bound
//	H⁺ out     = H⁺ in + 2 · oxalate bound            (acid released)
//
// The models differ in how conv_i is found.
//
//   - [FixedSplit]: conv_i is a given fraction. The defaults are the PrOMMiS
//     fixed split at pH 1.28 (precipitate_liquid_properties.py), from Wang,
//     Ziemkiewicz & Noble, Minerals 12 (2022) 236, doi:10.3390/min12020236
//     (process-twin.md §c.6).
//   - [Isotherm]: the PrOMMiS dose isotherm (precipitator_isotherm.py @
//     5757f5d), conv_i = exp(−(E_i/dose)^N_i) with dose = C(H2C2O4 in) in g/L,
//     parameters fitted by PrOMMiS to Visual MINTEQ results "based on pH 1.5"
//     (precipitate_reactions.py). As in PrOMMiS, calcium is fixed at
//     conv = 1e-6.
//   - [KspModel]: solubility products. For each metal with a Ksp the liquor
//     is held at or below saturation,
//     [M³⁺]^m·[C2O4²⁻]^k ≤ Ksp (mol/L, concentration scale, no activity
//     coefficients), with the oxalic acid speciation
//     H2C2O4 ⇌ H⁺ + HC2O4⁻ (Ka1), HC2O4⁻ ⇌ H⁺ + C2O4²⁻ (Ka2), the bisulfate
//     pair HSO4⁻ ⇌ H⁺ + SO4²⁻ (Ka = 10^-1.99 mol/L, PrOMMiS; §b.3), a total
//     oxalate balance and a total proton balance. Two nested monotone
//     one-dimensional solves (free oxalate inside free H⁺, both by bisection
//     in log space) give the free ion concentrations, the precipitated
//     amounts and the pH. No solubility product of a rare-earth oxalate was
//     retrieved from a primary source in this pass, so every precipitating
//     metal needs its log10 Ksp, with its source, in the spec; an optional
//     van 't Hoff term (ΔH, T_ref) moves it to the operating temperature.
//     Ka1 and Ka2 default to pKa 1.27 and 4.28 (the values quoted in the
//     Wikipedia "Oxalate" article, a secondary source: verify), and may be
//     given. Hydrolysis and oxalato complexes of the metals are ignored.
//
// All models except the Ksp one may ask for more oxalate than the feed
// carries; then every conversion is scaled down by the same factor so that
// the oxalic acid is used up exactly, and [Result.OxalateLimited] is set.
//
// # Oxalic acid demand
//
// The oxalate bound in the solids is the stoichiometric consumption. Plants
// dose more: part of the acid stays in solution, complexes other metals or is
// lost. [Result.OxalicAcid] reports the stoichiometric use split into rare
// earths and impurities, and the required dose = stoichiometric use /
// efficiency. The default efficiency, 0.6, is the oxalic-acid efficiency
// reported for clay leachates (attributed to Chi & Xu, Metall. Mater. Trans.
// B; attribution to be verified, process-twin.md §b.6 [S21]).
//
// # Units and balances
//
// Concentrations are mg/L keyed by species ("Nd", "H", "H2C2O4", "SO4");
// flows are L/h and mol/h, as in the CLI contract. The liquor volume is
// unchanged by precipitation (PrOMMiS' convention) and the water of hydration
// is not drawn from it. "H" in the outlet counts the free protons of the
// feed plus those released; HSO4⁻/SO4²⁻ and the remaining oxalic acid are
// not re-speciated in the outlet (the Ksp model reports the speciated pH in
// [Result.PH]). [Result.Closure] gives the relative balance error of every
// metal, of carbon and of (non-water) hydrogen, computed from the outlet
// streams; it is at round-off level.
//
// Molar masses come from process/chem (IUPAC 2021 atomic weights).
// [Spec.AtomicWeights] overrides them, which is how the PrOMMiS test cases
// are reproduced exactly (PrOMMiS writes Sc as 44.946 g/mol).
package precip
