// Package storetest is the conformance suite of store backends: every
// implementation of store.Store must pass [Run]. It checks CRUD, entity tags
// and preconditions, conflicts, referential integrity of relationships,
// incoming and outgoing lists, history (as-of reads, change lists,
// snapshots), telemetry ranges and dedup, bulk import atomicity,
// concurrent use (parallel writers, read-your-writes), the outbox (the
// exact record of every write, none for a failed one, one per committed
// change under concurrency, paging and acks), the model-set version and
// ErrModelsChanged on every checked write, and documents.
package storetest
