// Package control tests control strategies on the dynamic solvent-
// extraction cascade of process/sx/dynamic: closed-loop simulations of PI
// loops, ratio feed-forward and acidity (pH or saponification) loops under
// the cascade's disturbances, with a sensor dead time, and the figures that
// compare strategies side by side.
//
// # Loops
//
// The controller runs every Sample hours (a sampled-data controller on the
// backward-Euler model stepped at the same interval). A PI loop measures a
// controlled variable CV, seen DeadTime hours late (the analyser's
// sampling and transport delay, rounded to samples), and moves one inlet
// field (the manipulated variable MV) in velocity form:
//
//	e_k = SP − CV(t_k − θ)
//	MV_k = clamp(MV_{k−1} + Kp·(e_k − e_{k−1}) + Kp·Δt/Ti·e_k, Min, Max)
//
// which has no integral windup at the limits. The sign of Kp is the
// user's: negative when more MV lowers the CV (more organic lowers the
// extractable element in the aqueous). A ratio loop (feed-forward) sets
// an inlet's flow to Ratio × another inlet's flow (the O/A ratio on the
// feed), with Ratio from time zero when not given. Acidity control is a PI
// loop whose CV is the pH of a stage and whose MV is the acid of the scrub
// (mg_per_L.H) or the counter-ion of a saponified organic (mg_per_L.Na):
// the dynamic model tracks free H⁺ per stage and the saponification
// cation as an organic component, so both are modelled; a separate NaOH
// dosing stream is not (saponification is the organic inlet's loading).
//
// Disturbances of the cascade act on the inlets' base values after the
// controller has set them: a disturbance on the same field as an MV
// overrides the controller, so upsets should act on other fields.
//
// # Figures
//
// For the monitored CV with setpoint SP (default: its value at time zero):
//
//   - IAE = ∫|SP − CV| dt (CV units × h);
//   - the peak deviation max|e| and the overshoot: the largest deviation
//     of the other sign after the peak, in % of the peak;
//   - settling time: from the first disturbance to the last time |e|
//     exceeded the band (null when it had not settled by the end);
//   - time in product specification: the time the product outlet's purity
//     of its element (mass basis, counter-ions left out) was at or above
//     the minimum;
//   - reagent use per inlet: volume (L), acid (mol H⁺, aqueous inlets) and
//     saponification cation (mol, counter-ions of organic inlets),
//     integrated over the run.
package control
