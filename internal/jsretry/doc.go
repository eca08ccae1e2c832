// Package jsretry repeats idempotent JetStream administration calls
// (creating or updating a stream or a durable consumer) while a cluster is
// still forming. A replicated stream is only answered once its Raft group has
// a leader; on a cluster that has just started, or on a loaded machine, that
// can take longer than the client's default API timeout, and the server
// answers 503 while it has no meta leader. A server or worker started together
// with its NATS cluster should wait for it, not fail.
package jsretry
