// Package server wires Lodestone together: it opens the store and the event
// bus chosen by [Options], mounts the API and the dashboard, and runs them
// until Shutdown. It is embeddable: New(opts) is enough to run the whole
// platform inside a Go test or another program (like tsnet.Server).
//
// Only this package knows which backend is running; everything above the
// store and event interfaces is the same for SQLite and PostgreSQL, embedded
// and external NATS.
package server
