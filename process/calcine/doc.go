// Package calcine models the calcination (roasting) of precipitated oxalate
// hydrates to oxides: stoichiometry, mass loss, O2 demand, off-gas, dust loss
// and heat duty.
//
// It is a pure engine: [Simulate] takes a [Spec] and returns a [Result]; it
// does no I/O and keeps no state. [ParseSpec] decodes the JSON spec of the
// CLI contract strictly (unknown fields and missing required ones are errors
// that name the field).
//
// # Reactions
//
// Complete conversion is assumed (PrOMMiS ree_oxalate_roaster.py @ 0fe1f1b;
// process-twin.md §b.7):
//
//	M2(C2O4)3·xH2O + 1.5 O2 → M2O3 + 6 CO2 + x H2O     (x = 10 for rare earths)
//	Fe2(C2O4)3·2H2O + 1.5 O2 → Fe2O3 + 6 CO2 + 2 H2O
//	Al2(C2O4)3·H2O  + 1.5 O2 → Al2O3 + 6 CO2 + H2O
//	CaC2O4·H2O      + 0.5 O2 → CaO   + 2 CO2 + H2O
//
// With oxides "air", cerium, praseodymium and terbium end as CeO2, Pr6O11 and
// Tb4O7 ([chem.OxideOf]), so a hydrate with m metal atoms and k oxalate groups
// gives m/a units of the oxide MaOb and needs (m·b/a)/2 mol O2: all oxalate
// oxygen leaves as CO2, and the oxide oxygen comes from the gas
// (2 CeO2 per Ce2(C2O4)3: 2 O2; Pr: 11/6 O2; Tb: 7/4 O2). With "sesquioxide"
// every rare earth gives RE2O3, PrOMMiS' convention (it writes Ce2O3).
// Hydrate formulas come from [chem.OxalateOf]; feeds are given as mol/h of
// hydrate formula units by metal.
//
// Surface moisture (liquid water, mol/s) evaporates into the gas. A fraction
// oxide_recovery of every oxide is recovered as product; the rest leaves as
// dust with the gas (it is reported apart and not counted in the gas mole
// fractions, as in PrOMMiS). Gas species other than O2, CO2 and H2O pass
// through. The gas leaves at the product temperature.
//
// # Energy balance
//
//	Q = Σ_out n·h(T_product) − Σ_in n·h(T_in)
//
// with absolute enthalpies h = ΔHf°(298.15 K) + ∫cp dT. Solids:
// cp = cp0 + cp1·T, so h = ΔHf° + cp0·(T − T0) + cp1/2·(T² − T0²). The
// formation enthalpies and heat capacities of the oxalate hydrates and of the
// sesquioxides are PrOMMiS' (ree_oxalate_roaster.py, citing Wagman et al.,
// "The NBS tables of chemical thermodynamic properties", J. Phys. Chem. Ref.
// Data 11 Suppl. 2 (1982); the NIST Chemistry WebBook; Kotz et al.,
// "Chemistry and Chemical Reactivity", 9th ed. (2014); process-twin.md §c.8),
// including PrOMMiS' defaults (the average of La, Ce, Pr and Nd) for the
// rare earths with no data; [Result.Notes] says which elements used a
// default. PrOMMiS uses anhydrous formation enthalpies for the Al and Fe
// oxalate hydrates; so does this package, for parity. Liquid water:
// h = −68.3174 kcal/mol + 4182 J/(kg·K)·M·(T − T0) (PrOMMiS; NBS value).
// Gases: ideal-gas Shomate equations of the NIST Chemistry WebBook
// (Chase, NIST-JANAF Thermochemical Tables, 4th ed., 1998), with the
// coefficient sets IDAES uses in natural_gas_PR.py (O2 and N2: 700–2000 K and
// 500–2000 K sets; CO2: 298–1200 K; H2O: 500–1700 K), which include the
// formation enthalpy. Q > 0 is heat added to the roaster, in W.
//
// No sourced formation enthalpy of CeO2, Pr6O11 or Tb4O7 was retrieved in
// this pass. With oxides "air" and any of those metals in the feed the heat
// duty is not computed ([Result.HeatDutyKnown] is false) unless the spec
// gives their thermochemistry in [Spec.Thermo]; the mass balance is.
//
// # Balances and units
//
// Feeds are mol/h (of hydrate formula units); gas and moisture are mol/s;
// product and dust kg/s; temperatures K; pressure Pa; heat W. The product
// mass fractions are keyed by metal symbol: the mass of that metal's oxide
// over the product mass. [Result.Closure] gives (in − out)/in for every
// element (C, H, O, N, the metals, Ar) over feed, moisture, gas, product and
// dust; it is at round-off level. [Spec.AtomicWeights] overrides the
// IUPAC atomic weights of process/chem (the PrOMMiS roaster case is
// reproduced with PrOMMiS' own atomic masses).
package calcine
