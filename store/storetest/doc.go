// Package storetest is the conformance suite of store backends: every
// implementation of store.Store must pass [Run]. It checks CRUD, entity tags
// and preconditions, conflicts, referential integrity of relationships,
// incoming and outgoing lists, history (as-of reads, change lists,
// snapshots), telemetry ranges and dedup, bulk import atomicity and
// concurrent use (parallel writers, read-your-writes).
package storetest
