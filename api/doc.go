// Package api is Lodestone's HTTP API: the twin graph in the shape of Azure
// Digital Twins' data plane (models, digital twins, relationships,
// components, telemetry, query, event routes and import jobs), history that
// ADT does not keep (as-of reads, change lists, snapshots), and the domain
// endpoints of the process and supply twins.
//
// Every write is validated against its DTDL model with package dtdl before it
// reaches the store; a rejected write changes nothing. An acknowledged write
// has been committed to the store and its CloudEvent has been persisted by
// the bus, so a reader sees it at once (read-your-writes) and a subscriber
// never misses it.
//
// Handlers return errors; one adapter maps them to a status code and the
// JSON body {"error":{"code","message","details"}} with ADT's error codes
// where ADT has one.
package api
