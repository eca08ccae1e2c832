// Package estimate is the plant twin's soft sensor: an extended Kalman
// filter on the dynamic solvent-extraction cascade of process/sx/dynamic,
// fed by online analysers (fast, noisy) and delayed lab assays (out of
// sequence), with the innovation tests that say when the twin has lost
// its alignment with the plant (plant-trust.md §b.2–b.3).
//
// # State and model
//
// The state is s = (u, θ): u the mixers' unknowns of every stage (aqueous
// concentrations x_i in mol/L, ln h, ln f; see [dynamic.Stepper]) and θ
// one slowly drifting parameter per component, the logarithm of a factor
// on its distribution ratio D_i in every stage (an equilibrium constant
// that drifts with extractant degradation or temperature). The model is
// the backward-Euler step of the dynamic cascade, u_{k+1} = Φ(u_k, θ_k),
// θ_{k+1} = θ_k (a random walk with the parameter noise); its Jacobian S
// comes from the step's Newton matrix (dynamic.Stepper.ApplyJacobian), so
// the prediction is
//
//	s⁻ = Φ(s),   P⁻ = S·P·Sᵀ + Q·Δt
//
// applied at every integration step (steps of at most Options.MaxStep).
// Q is diagonal: (q·(x_i + x_floor,i))² for a concentration (relative
// noise with a floor of 10⁻³ of the component's largest inlet
// concentration), q_log² for ln h and ln f, q_θ² for θ, each per hour.
// The settler cells are carried by the model but are not in s: an update
// corrects the mixers and moves each settler's cells by its mixer's
// correction (dynamic.Stepper.Correct). Their uncertainty is not in P, and
// the Jacobian of one step leaves out the settlers' memory of earlier
// mixer states; propagated with it, P was far too small (mean NEES about
// 60 times n with settlers of twice the mixer volume). So when the cascade
// has settlers, S is taken from a surrogate cascade without settlers whose
// mixers hold each stage's whole volume (mixer + settler), stepped from
// the same state alongside the model: its slower stages carry an error as
// long as the real stage-plus-settler does. The result is conservative
// (mean NEES about 0.6·n, NIS consistent, in the test with settlers);
// carrying the settler cells in the state would multiply its size by
// 1 + m·(2C+3)/(C+2), beyond the step budget of a 60-stage cascade.
//
// # Measurements
//
// A sensor reads one element in one phase of one stage's mixer: the
// aqueous x_i (H = e_x) or the organic y_i = e^θ_i·D_i(h,f)·x_i (H has
// ∂y/∂x, ∂y/∂ln h, ∂y/∂ln f and ∂y/∂θ_i = y). Measurements are processed
// one at a time (scalar updates, independent errors of standard deviation
// sd):
//
//	ν = z − h(s⁻),  S = H·P⁻·Hᵀ + sd²,  K = P⁻·Hᵀ/S,
//	s = s⁻ + K·ν,   P = P⁻ − K·S·Kᵀ,
//
// negative concentrations are then set to 0. NIS = ν²/S is χ²(1) when the
// filter is consistent.
//
// # Out-of-sequence measurements
//
// A measurement carries its sample time; a lab assay arrives its delay
// later, when the filter has moved on. The filter keeps checkpoints (model
// snapshot and covariance after each sample time) over a horizon of twice
// the largest sensor delay, and on a late arrival goes back to the last
// checkpoint at or before the sample time and re-filters every stored
// measurement since, with the late one in its place (exact re-filtering,
// the first of the options in plant-trust.md §b.2). The detectors see each
// innovation once, when its measurement is first processed; re-filtering
// updates the estimates, not the alarms.
//
// # Alarms
//
//   - out_of_sync: the sum of the last W NIS values (W = 50) exceeds the
//     χ²(W) quantile of 1 − α (α = 10⁻⁴): the model no longer explains the
//     data (a wrong equilibrium constant, an unmodelled disturbance). It is
//     raised once and re-armed when the sum falls back below the bound.
//   - sensor_drift: a two-sided CUSUM per sensor on the standardised
//     innovations ν/√S, g⁺ = max(0, g⁺ + ν/√S − k), g⁻ likewise (k = 0.5,
//     h = 8, an in-control run length of the order of 10⁴ samples): a
//     biased or drifting sensor. The sensor is then isolated (no more
//     updates from it) and its values leave the NIS window, so a bad
//     sensor is not mistaken for a model that is out of sync. When a second
//     sensor is isolated before the first is acknowledged, out_of_sync is
//     raised as well: several sensors drifting at once are more likely one
//     model that no longer fits the plant (a wrong equilibrium constant
//     shows first in the sensors that see it most) than independent faults.
//
// After any alarm the estimates are marked uncertified until the alarm is
// acknowledged (Filter.Acknowledge, which also returns isolated sensors to
// service).
//
// # Moving-horizon estimate
//
// Filter.MHE re-estimates the state over a window of the last W hours
// (fixed lag): the decision is the state s₀ at the checkpoint at the
// window's start, the cost the arrival cost (s₀ − s̄₀)ᵀP̄₀⁻¹(s₀ − s̄₀)
// with the EKF's filtered state and covariance there plus the squared
// standardised residuals of the window's readings through the model from
// s₀ (no process noise inside the window), and every concentration of s₀
// is bounded below by 0. Projected Gauss–Newton on the tracked states and
// θ, with ∂Φ/∂s₀ accumulated from the step Jacobians
// (dynamic.Stepper.ApplyJacobian) and a backtracking line search, finds
// the optimum; the estimate is the model run from it to the filter's
// time. The EKF is not changed. Rao, Rawlings and Mayne (2003) on
// constrained MHE and its arrival cost.
//
// # References
//
// ../shared/research/plant-trust.md §b.2 (EKF/MHE on SX cascades,
// out-of-sequence handling), §b.3 (NIS and CUSUM tests, certification);
// Bar-Shalom, Li and Kirubarajan, Estimation with Applications to Tracking
// and Navigation (2001), ch. 5 (NEES/NIS consistency tests); Page (1954)
// and Siegmund (1985) on the CUSUM and its run lengths.
package estimate
