// Package connector maps live plant data into twin telemetry and
// properties: an MQTT connector (topic templates, JSON payloads with a
// value path and a unit) and an OPC UA connector (subscriptions to node
// ids). Every value goes through the one write pipeline, so it is
// validated against the twin's model exactly as a POST of telemetry is.
//
// A connector never stops on a bad message: a value that cannot be
// decoded, converted or validated is dead-lettered (stored as a document
// of kind "dead-letter", bounded per connector) and the connector goes on.
// Values wait in a bounded queue; when it is full the source is slowed
// (the MQTT handler and the OPC UA notification reader block), nothing is
// dropped. A writer drains the queue in batches, one pipeline message per
// twin, source time and component. Each connector keeps its status
// (counters, queue depth, reconnects and the latency from source time to
// stored as percentiles) in a document of kind "connector-status", which
// the API serves at GET /plant/connectors.
package connector
