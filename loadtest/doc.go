// Package loadtest drives a Lodestone server with concurrent clients over
// a mix of twin reads, patches, creates, queries and telemetry for a fixed
// time, and reports rates and latency percentiles per operation. It is
// the engine of `lodestone bench`, written so that users can measure their
// own deployment the way docs/benchmarks.md measures ours.
//
// It talks plain HTTP (no client package): what it measures is what any
// client sees. It works under a prefix of its own (a model it uploads once
// and twins named PREFIX…), so it can run against a server in use, and
// removes its twins when asked.
package loadtest
