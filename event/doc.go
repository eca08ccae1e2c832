// Package event is Lodestone's event bus: CloudEvents 1.0 envelopes for every
// change of the twin graph and for telemetry, a small [Bus] interface with
// at-least-once, resumable delivery, and event routes that send filtered
// events to endpoints (a bus subject, a webhook, a browser over Server-Sent
// Events).
//
// The default Bus is event/natsbus (an embedded NATS JetStream server, or an
// external cluster by URL); event/membus is an in-memory Bus for tests.
// Every Bus passes the conformance suite event/eventtest.
//
// # Envelope
//
// [Event] is a CloudEvent with its data kept as raw JSON. It encodes to and
// decodes from the JSON structured format ([Event.MarshalJSON], [Decode]);
// id, source, type and specversion "1.0" are required.
//
// Ids are stable: a producer derives the id from the change, not from a
// clock or a random source ([ChangeID] from the store's sequence number,
// [TelemetryID] from the sender's message id, [StableID] in general). A
// producer that crashes after committing and publishes again on restart
// sends the same id, and the bus drops the duplicate.
//
// # Event types and Azure Digital Twins
//
// Lodestone's types follow the reverse-DNS convention of the CloudEvents
// specification. The ADT names (learn.microsoft.com/azure/digital-twins/
// concepts-event-notifications) map as follows ([ADTType], [FromADTType]):
//
//	lodestone.twin.created          Microsoft.DigitalTwins.Twin.Create
//	lodestone.twin.updated          Microsoft.DigitalTwins.Twin.Update
//	lodestone.twin.deleted          Microsoft.DigitalTwins.Twin.Delete
//	lodestone.relationship.created  Microsoft.DigitalTwins.Relationship.Create
//	lodestone.relationship.updated  Microsoft.DigitalTwins.Relationship.Update
//	lodestone.relationship.deleted  Microsoft.DigitalTwins.Relationship.Delete
//	lodestone.telemetry             microsoft.iot.telemetry
//	lodestone.model.created         (none: ADT has no model events)
//	lodestone.model.updated         (none; e.g. a model decommissioned)
//	lodestone.model.deleted         (none)
//
// Subjects follow ADT too: a twin's id for twin events and telemetry,
// "<twinID>/relationships/<relationshipID>" for relationship events
// ([RelationshipSubject]), "<twinID>/components/<name>" for component
// telemetry ([ComponentSubject]), and the model id (a DTMI) for model events.
// As in ADT, the data of an update event is the JSON Patch that was applied
// (datacontenttype application/json-patch+json) and the data of a create
// event is the new twin or relationship.
//
// # Delivery
//
// [Bus.Publish] returns once the event is persisted. Every stored event has a
// sequence number that increases in publish order; [Bus.Subscribe] starts
// from the beginning, from new events, or right after a sequence number
// ([Start]), so a consumer that remembers the last sequence it handled misses
// nothing when it reconnects.
//
// A [Filter] selects events by glob patterns on type, source, subject and
// dataschema, and is written like a query string ([ParseFilter]):
//
//	type=lodestone.twin.*&subject=mine-*
//
// # Wiring a producer
//
// The store commits a change, then the producer publishes its event with
// the [ChangeID] of the change. If the process dies in between, the event is
// not lost as long as, on start, the producer republishes the changes after
// the last store sequence it knows to be published (the store's history is
// the outbox): the ids are the same, so the bus drops what it already has
// within its window, and routes and receivers drop older repeats by id. Bulk
// imports publish through [PublishAll], which pipelines on JetStream.
//
// # Routes
//
// A [Router] runs named [Route]s, each a filter and an [Endpoint], with one
// goroutine per route that the router owns (Start, Shutdown). Failed
// deliveries are retried with exponential backoff; after Retry.MaxAttempts
// (or at once for a permanent failure such as an HTTP 4xx) the event goes to
// the route's dead-letter endpoint. Each route delivers a given event id once
// while it remembers it, and saves its position in [Checkpoints] so a
// restarted router resumes where it stopped. [Webhook] is the HTTP endpoint;
// natsbus provides a JetStream subject endpoint (also the usual dead-letter
// queue). [SSEHandler] serves /events?filter=… to browsers, with the sequence
// as the SSE id so that EventSource's Last-Event-ID resumes the stream.
package event
