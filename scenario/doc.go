// Package scenario stores the runs of the supply twin as ScenarioRun twins
// (dtmi:lodestone:ScenarioRun;1) and reads them back.
//
// It exists so that a run's record has one owner that writes it safely.
// The HTTP layer (package api) runs scenarios and adapts requests to this
// package; before, it stored a run by reading the twin and writing it back
// with no version check, so a change made in between (another update of
// the same run, an edit through the twin API) was silently lost.
//
// # Writes are conditional
//
// [Runs.Create] writes a new run under If-None-Match: *, so it never
// replaces one. [Runs.Update] is a read-modify-write: it reads the run's
// twin, applies the caller's change to the decoded [Run], and writes the
// properties that changed as a JSON Patch under If-Match of the entity tag
// it read. When another writer got in between, the store answers
// store.ErrPreconditionFailed and Update reads again and reapplies the
// change, at most [MaxAttempts] times in all. Two concurrent updates of one
// run therefore both land, in some order; an update that keeps losing the
// race returns an error wrapping store.ErrPreconditionFailed rather than
// overwriting the other.
//
// # What it depends on
//
// The package writes through the small [Twins] interface, not a
// store.Store: the three methods have store.Store's signatures, so a store
// satisfies it (the tests use one), and the API adapts its write pipeline
// to it, so that runs are validated against their model and their events
// published like every other write.
//
// # The twin
//
// [Encode] and [Decode] map a [Run] to the properties of the ScenarioRun
// model (models/ScenarioRun.json): KPIs as lostTonnes, demandFillRate,
// firstStockout and fillRates; the scenario, the result and the provenance
// as JSON text (scenarioJson, resultJson, provenanceJson); times as RFC 3339
// text. Properties a run does not own (a description set through the twin
// API, say) are left as they are by updates.
package scenario
