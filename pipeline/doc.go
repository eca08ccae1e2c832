// Package pipeline is the twin graph's one write path. Every change of the
// graph — twins, relationships, components, models, telemetry, imports,
// scenario runs and process write-backs — goes through a Pipeline:
//
//	validate (dtdl, against the model set of a known version)
//	  → hooks' Check (where the trust layer signs, authorises or refuses)
//	  → store: the change, its history row and its outbox record in ONE
//	    transaction, under the write's preconditions and the model-set
//	    version it was validated against
//	  → hooks' Committed (where the trust layer appends to its log)
//	  → publish the records' events on the bus, then acknowledge them
//
// The outbox makes "committed" and "has its event" the same thing: a
// server that crashes between commit and publish leaves its records in the
// outbox, and the Relay of any server sharing the database publishes them
// later with the same event ids, which the bus deduplicates. So every
// committed change gets exactly one event (within the bus's deduplication
// window).
//
// Model changes are versioned in the store. A write carries the version of
// the model set it was validated against and the store refuses it when the
// set has changed since (store.ErrModelsChanged); the pipeline then reloads
// the models, validates again and retries. Servers sharing a database
// therefore never store a twin validated against a set that no longer
// holds, and a model uploaded through one server is in force on every
// server for its next write. Each server also applies model events from the
// bus, so that its reads of the model set are fresh.
//
// With Options.Signatures the pipeline also refuses every unsigned write
// to a twin of a model marked "signatures: required" (SignatureMarks, see
// signatures.go): twin puts and patches, component patches, telemetry,
// connectors' batches and imports alike, whatever route they came by; a
// write is signed when its context carries auth.SignerFromContext.
//
// Writes without an If-Match precondition retry after a concurrent write
// until they succeed or the pipeline's retry deadline passes (ErrBusy); a
// write with If-Match fails at once when the version differs.
//
// A patch (and a replace that accepts any version) starts from the version
// of the twin that this pipeline wrote last, kept in a small cache, instead
// of reading the store. The store writes it only under If-Match of that
// version (ETags are random per version), so with several servers on one
// database a version another server has replaced costs one refused write;
// every outcome other than success is then decided again on the version
// read from the store, so the cache changes no answer (twincache.go).
package pipeline
