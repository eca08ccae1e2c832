package precip

import (
	"errors"
	"fmt"
	"math"
)

// IsothermParam holds the dose-isotherm parameters of one metal:
// conv = exp(−(E/dose)^N), dose in g/L of oxalic acid in the feed.
type IsothermParam struct {
	E      float64 `json:"E_D"` // g/L of H2C2O4
	N      float64 `json:"N_D"` // dimensionless
	Source string  `json:"source,omitempty"`
	// Fixed, when positive, replaces the isotherm by a constant conversion
	// (PrOMMiS fixes calcium at 1e-6).
	Fixed float64 `json:"fixed_conversion,omitempty"`
}

// srcIsotherm cites the PrOMMiS isotherm parameters.
const srcIsotherm = "PrOMMiS precipitate_reactions.py @ 5757f5d, fitted to Visual MINTEQ, pH 1.5 (process-twin.md §c.6)"

// DefaultIsotherm returns a copy of the PrOMMiS dose-isotherm parameters,
// keyed by metal symbol (process-twin.md §c.6).
func DefaultIsotherm() map[string]IsothermParam {
	return map[string]IsothermParam{
		"Al": {E: 50, N: 0.9, Source: srcIsotherm},
		"Fe": {E: 8.659561, N: 4.45302, Source: srcIsotherm},
		"Ca": {E: 14.49274, N: 3.6495, Fixed: 1e-6, Source: srcIsotherm + "; conversion fixed at 1e-6 as in precipitator_isotherm.py"},
		"Sc": {E: 6.42030, N: 6.42030, Source: srcIsotherm},
		"Y":  {E: 4.551786, N: 4.67403, Source: srcIsotherm},
		"La": {E: 4.3717, N: 4.6340, Source: srcIsotherm},
		"Ce": {E: 1.18848, N: 2.737238, Source: srcIsotherm},
		"Pr": {E: 2.09604, N: 3.44364, Source: srcIsotherm},
		"Nd": {E: 1.01030, N: 2.419137, Source: srcIsotherm},
		"Sm": {E: 2.29617, N: 3.7201, Source: srcIsotherm},
		"Gd": {E: 3.07276, N: 4.1995, Source: srcIsotherm},
		"Dy": {E: 4.8608, N: 4.73106, Source: srcIsotherm},
	}
}

// DefaultFixedSplit returns a copy of the PrOMMiS fixed split at pH 1.28:
// the fraction of each metal precipitated (precipitate_liquid_properties.py,
// from Wang, Ziemkiewicz & Noble, Minerals 12 (2022) 236; process-twin.md
// §c.6, where the values are given in per cent).
func DefaultFixedSplit() map[string]float64 {
	return map[string]float64{
		"Sc": 0.3161, "Y": 0.7446, "La": 0.5151, "Ce": 0.6807, "Pr": 0.78, "Nd": 0.8155,
		"Sm": 0.8735, "Gd": 0.8801, "Dy": 0.8716, "Al": 0.009, "Ca": 0.2050, "Fe": 0.0244,
	}
}

// KspParam is the solubility product of one metal oxalate,
// log10 Ksp = log10([M]^m·[C2O4]^k) at TRef (mol/L), with an optional
// enthalpy of dissolution for the van 't Hoff correction.
type KspParam struct {
	Log10Ksp float64 `json:"log10_Ksp"`
	DeltaH   float64 `json:"dH_J_per_mol,omitempty"` // J/mol, enthalpy of dissolution
	TRef     float64 `json:"T_ref_K,omitempty"`      // K; 0 means 298.15
	Source   string  `json:"source"`                 // required: where the value comes from
}

// KspSpec holds the parameters of the solubility-product model.
type KspSpec struct {
	PKa1     float64             `json:"pKa1,omitempty"` // 0 means DefaultPKa1
	PKa2     float64             `json:"pKa2,omitempty"` // 0 means DefaultPKa2
	Elements map[string]KspParam `json:"elements"`
}

// Oxalic acid dissociation constants used when the spec gives none: the
// values quoted in the Wikipedia "Oxalate" article (Ka1 = 5.37e-2, Ka2 =
// 5.25e-5), a secondary source (verify against a critical compilation).
const (
	DefaultPKa1 = 1.27
	DefaultPKa2 = 4.28
)

// pKaHSO4 is −log10 of the HSO4⁻ dissociation constant used by PrOMMiS
// (Ka2 = 10^-1.99 mol/L; process-twin.md §b.3).
const pKaHSO4 = 1.99

// DefaultEfficiency is the oxalic-acid efficiency used when the spec gives
// none: about 60 % in clay-leachate case studies (attributed to Chi & Xu,
// Metall. Mater. Trans. B; verify; process-twin.md §b.6 [S21]).
const DefaultEfficiency = 0.6

// IsothermDose inverts the dose isotherm: it returns the oxalic acid
// concentration of the feed, g/L, at which the metal with parameters p
// reaches the given conversion, dose = E / (−ln conv)^(1/N). Conversions
// outside (0, 1) and fixed-conversion parameters are errors.
func IsothermDose(p IsothermParam, conversion float64) (float64, error) {
	if p.Fixed > 0 {
		return 0, errors.New("precip: isotherm dose: the conversion is fixed, not a function of dose")
	}
	if !(conversion > 0 && conversion < 1) {
		return 0, fmt.Errorf("precip: isotherm dose: conversion %v is not in (0, 1)", conversion)
	}
	if !(p.E > 0 && p.N > 0) || !finite(p.E) || !finite(p.N) {
		return 0, fmt.Errorf("precip: isotherm dose: E_D and N_D must be positive, got %v and %v", p.E, p.N)
	}
	return p.E / math.Pow(-math.Log(conversion), 1/p.N), nil
}
