// Package eventtest is the conformance suite of [event.Bus]: every
// implementation (natsbus embedded and external, membus) runs [Run] from its
// own tests, as store backends run storetest.
//
// The suite checks publish and subscribe, validation, filters, ordering
// within a subject, resuming after the last sequence seen with nothing
// missed, starting at new events, deduplication of a repeated id, concurrent
// publishers, batches (event.PublishAll), contexts, and Close.
package eventtest
