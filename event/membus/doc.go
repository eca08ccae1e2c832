// Package membus is an in-memory [event.Bus]: every event is kept in a slice
// for the life of the bus. It is meant for tests of code that publishes or
// consumes events (api, server, routes) where starting NATS would only add
// time; it passes the same conformance suite as natsbus (event/eventtest).
//
// Nothing survives Close. Duplicate ids are dropped within a window, like
// JetStream's Nats-Msg-Id deduplication.
package membus
