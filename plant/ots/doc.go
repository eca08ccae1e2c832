// Package ots runs operator training sessions on the dynamic solvent-
// extraction cascade of process/sx/dynamic, as the process-industry
// operator training simulators do: the model runs as fast as it computes,
// from a state snapshot (of the live twin or of an earlier session); the
// instructor's malfunctions (pump trip, analyser failure, feed upset,
// entrainment) start at chosen times; the trainee acts on inlets, repairs
// malfunctions and acknowledges alarms; the session can be frozen,
// snapshotted and backtracked; and it is scored.
//
// # Model of the malfunctions
//
//   - pump_trip: the inlet's flow drops to factor × its flow (0 = stopped);
//     a repair restarts it at the flow before the trip.
//   - feed_upset: the inlet's concentration of a component (or its flow) is
//     multiplied by factor; a repair returns it.
//   - analyser_failure: the monitor's display freezes at its last reading
//     (the model runs on); a repair brings it back.
//   - entrainment: factor × the other phase's concentrations of the outlet
//     stage are carried into the product (organic droplets in the
//     raffinate, aqueous in the loaded organic). The dynamic model has no
//     entrainment term, so this acts on the product's purity only, not on
//     the cascade's balances.
//
// # Score
//
// Over the elapsed time: the fraction of time the product met its purity
// (weight 0.6), the fraction of alarms acknowledged within respond_h of
// being raised (0.3; 1 when there were none), and reagent economy (0.1):
// min(1, baseline/used), with the acid and saponification cation fed
// against their feed rates at the start over the same time. Total =
// 100·(0.6·in-spec + 0.3·handled + 0.1·reagent). The weights are a choice
// of this package, not a standard.
//
// # Replay
//
// A session is its scenario and its event log (advance, set, repair,
// acknowledge, freeze, unfreeze, snapshot, backtrack), applied in order.
// The engine is deterministic, so replaying the log on a new session gives
// the same score bit for bit; actions take effect at the session's time,
// which is always a sample boundary.
package ots
