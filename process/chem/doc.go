// Package chem holds the chemistry data that the process engines share:
// elements with their standard atomic weights, the aqueous species of the
// acid media (H⁺, HSO4⁻, SO4²⁻, Cl⁻, NO3⁻, oxalic acid and oxalate), the
// acidic organophosphorus extractants, the oxides that rare earths and
// impurities are reported as, and the oxalate hydrates they precipitate as.
//
// # Atomic weights
//
// Atomic weights are the IUPAC/CIAAW 2021 abridged standard atomic weights
// (five significant figures): T. Prohaska et al., "Standard atomic weights of
// the elements 2021 (IUPAC Technical Report)", Pure Appl. Chem. 94 (2022)
// 573–600, doi:10.1515/pac-2019-0603, Table 2; the unabridged table is at
// https://www.ciaaw.org/atomic-weights.htm. Promethium has no stable isotope
// and no standard atomic weight; it is listed with the mass number 145 of its
// longest-lived isotope, the usual convention of periodic tables, and its
// [Element.Source] says so.
//
// # Formulas
//
// [ParseFormula] reads formulas such as "Nd2(C2O4)3·10H2O": element symbols,
// integer counts, nested parentheses or brackets with a count, and hydrate
// parts joined by "·", "*" or "." with an optional leading coefficient. A
// [Formula] maps element symbols to atom counts; [Formula.MolarMass] gives
// g/mol from the atomic weights above.
//
// # Oxides and oxalates
//
// Rare earths are reported as RE2O3 except cerium, praseodymium and terbium,
// which calcine in air to CeO2, Pr6O11 and Tb4O7 (textbook chemistry; see
// ../shared/research/process-twin.md §b.7 and §c.7). [OxideOf] returns the
// oxide in air or the sesquioxide on request, with its factor (mass of oxide
// per mass of element). [OxalateOf] returns the precipitated oxalate hydrate:
// M2(C2O4)3·10H2O for rare earths (the PrOMMiS default hydrate number 10;
// real hydrate numbers vary by element), Fe2(C2O4)3·2H2O, Al2(C2O4)3·H2O and
// CaC2O4·H2O (PrOMMiS roaster, ree_oxalate_roaster.py @ 0fe1f1b).
package chem
