// Package dynamic simulates the transient of a solvent-extraction cascade
// of mixer-settlers: start-up from empty stages, and step and ramp
// disturbances of the inlets' flows, compositions and acidity, with the
// time the cascade takes to reach its steady state.
//
// The cascade is a [sx.Problem] of process/sx: the same stages, inlets,
// flow convention and equilibrium models (constant D, PrOMMiS DEHPA, ideal
// mass action with saponification), which the dynamic model evaluates
// through the exported [sx.Equilibrium] interface. The package is a pure
// engine: no I/O, no globals, no wall clock. Concentrations are mol/L,
// flows L/h, volumes L and times h inside the engine.
//
// # Stage model
//
// Stages 1..N as in process/sx: the organic moves 1→N, the aqueous N→1
// (Xu's numbering, plant-trust.md §b.1). Each stage k is a mixer, an ideal
// stirred tank of volume Vm holding the aqueous phase Va = (1−φ)·Vm and the
// organic Vo = φ·Vm, at equilibrium (y = D(h,f)·x), followed by a settler
// whose aqueous and organic layers are each m stirred tanks in series
// (volumes (1−φ)·Vs/m and φ·Vs/m, no reaction), the "m CSTRs in series"
// form of plant-trust.md §b.1; PrOMMiS discretises its plug-flow settler
// with 4 elements, the default m here. The aqueous leaving settler k+1
// enters mixer k; the organic leaving settler k−1 enters mixer k. The
// raffinate is the aqueous leaving settler 1, the extract the organic
// leaving settler N. Volumes are constant: flows pass straight through and
// a flow change acts at once. φ defaults to O/(A+O) of each stage at time
// zero.
//
// With xs, ys the settler outlets and A_k, O_k the flows leaving stage k
// (sums of the inlets, as in process/sx), the mixer of stage k holds:
//
//	metal i:    d(Va·x_i + Vo·y_i)/dt = A_{k+1}·xs_{k+1,i} + O_{k−1}·ys_{k−1,i} + qa_i + qo_i − A_k·x_i − O_k·y_i
//	protons:    d(Va·HT − Vo·Σ z_i·y_i)/dt = A_{k+1}·HTs_{k+1} + qH − A_k·HT − Σ z_i·(O_{k−1}·ys_{k−1,i} + qo_i − O_k·y_i)
//	extractant: d(Vo·T)/dt = O_{k−1}·Ts_{k−1} + qT − O_k·T,   T = f + ν·Σ z_i·y_i
//	sulfate:    d(Va·S)/dt = A_{k+1}·Ss_{k+1} + qS − A_k·S
//	equilibrium: y_i = D_i(h, f)·x_i;  HT = h + S·h/(h + Ka2) (sulfate media; HT = h in chloride)
//
// which are the steady-state equations of process/sx (see its doc) plus
// accumulation: each metal ion extracted releases z protons (or displaces
// z counter-ions of a saponified organic) and binds ν·z extractant. The
// steady state of these equations is exactly the steady state of
// process/sx, which the tests check.
//
// # Integration
//
// The system is stiff (mixer residence of minutes, cascade inventories
// turning over in days) and algebraic (equilibrium in every mixer), so it
// is integrated by backward Euler, which is L-stable and keeps the balances
// exact: summed over mixers and settler cells, the discrete balances
// telescope, so the inventory change equals Σ dt·(in − out) to the Newton
// tolerance. Each step solves the mixer equations by Newton's method with
// unknowns x_i, ln h and ln f per stage (logarithms keep h and f positive;
// x is kept non-negative by limiting each move). The settler cells are
// linear: eliminated first, each settler outlet is an affine function
// g + κ·(mixer outlet) with κ = (r/(1+r))^m, r = dt·Q/V_cell, so the
// Newton matrix is block tridiagonal with dense blocks of size C+2, solved
// by the block Thomas algorithm with partial-pivoting LU of each block.
// The Jacobian is analytic, from the derivatives the equilibrium model
// returns.
//
// The step size is adaptive: the local error of backward Euler is
// estimated against a linear predictor, dt/(dt+dt_prev)·|u − u_pred|,
// relative to each concentration plus 1e-3 of the component's largest
// inlet concentration (absolute for ln h and ln f), kept below
// Settings.Tolerance (1e-3); steps end exactly on output times and on the
// starts and ends of disturbances, and restart small after them. A Newton
// failure quarters the step.
//
// # Disturbances, start, steady state
//
// A step sets an inlet field (flow, a component's concentration, H⁺,
// HSO4⁻, SO4²⁻, extractant) to a value from its start, until its end if it
// has one; a ramp moves it linearly to the value between its start and end
// and holds it. Backward Euler uses the inlets at the end of each step.
//
// Start-up from empty fills every mixer and settler with fresh phases: the
// aqueous is the flow-weighted mean of the aqueous inlets with their metals
// left out (their acid and sulfate kept), the organic the flow-weighted
// mean of the organic inlets with only the counter-ions of a saponified
// organic loaded. Alternatively the run starts at the steady state of
// process/sx for the inlets at time zero.
//
// The reference steady state is that of process/sx for the inlets at the
// end of the run. The deviation is the largest |c − c_ss| over stages,
// both phases and components, divided by the component's largest steady
// concentration in either phase; the time to steady state t_ss(ε) is the
// time after which the deviation stays below ε (0.01), as plant-trust.md
// §b.1 defines it, and is reported only when the run ends within ε.
//
// # Stepping under control
//
// [Stepper] exposes the same backward-Euler step to callers that must stop
// at every sample (the plant twin's estimator, control loops and training
// sessions): fixed steps of at most MaxStep without error control, the
// state u as a vector (SetState recomputes the inventories from it),
// per-component factors exp(θ_i) on D, inlet changes between steps, and
// snapshots. With Sensitivity it keeps the Jacobian of each step,
//
//	∂u_new/∂u_old = J⁻¹·(1/dt)·∂Inv/∂u(u_old),
//	∂u_new/∂θ_i   = J⁻¹·((1/dt)·∂Inv_old/∂θ_i − ∂R/∂θ_i),
//
// from the step's Newton matrix J (refactored at the converged state) and
// the inventories Inv of the residual R; ApplyJacobian applies it to many
// columns at once. The settler cells are not part of u: the Jacobian of
// one step is exact (the finite-difference test checks it with and without
// settlers), but a chain of steps leaves out the settlers' memory of
// earlier mixer states.
//
// # What it needs from process/sx
//
// The equilibrium models, sx.Problem and its validation, and sx.Solve for
// the steady start and the reference are used through the exported API.
// The steady-state solver's block-tridiagonal Newton is not exported, so the
// package has its own (its off-diagonal blocks are dense here, not
// diagonal, because the inflowing phase's y = D·x depends on the
// neighbour's h and f).
//
// # References
//
// ../shared/research/plant-trust.md §b.1 (dynamic stage model, settler as
// CSTRs in series, time to steady state); ../shared/research/process-twin.md
// §b.1–b.3 (stage, proton and extractant balances, PrOMMiS conventions);
// PrOMMiS mixer_settler_ex_flowsheet_dynamic.py (mixer tank plus a
// discretised plug-flow settler per phase, 4 elements).
package dynamic
