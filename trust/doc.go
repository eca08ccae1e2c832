// Package trust holds the mechanisms of the trust layer. This part is the
// transparency log: every acknowledged change of the twin graph becomes an
// entry of an RFC 6962 Merkle tree, stored in the store's documents (so
// that servers sharing a database share one log and a restart keeps it),
// served as a C2SP tlog-tiles log with checkpoints signed as C2SP notes,
// and checked against the graph by [Verify].
//
// An entry is the RFC 8785 canonical JSON of
//
//	{"id", "type", "subject", "org", "etag", "time", "data_sha256"}
//
// of the change's CloudEvent (see pipeline.EventOf): data_sha256 is the
// hex SHA-256 of the canonical JSON of the event's data (for a patch whose
// version has a writer or signer, of [PatchData], which names them). See
// docs/formats/trust-log.md for the storage layout and the routes.
package trust
