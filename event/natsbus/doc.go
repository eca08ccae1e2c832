// Package natsbus is the [event.Bus] on NATS JetStream, Lodestone's default.
//
// [Open] with an empty URL starts a nats-server inside the process
// (github.com/nats-io/nats-server/v2) with JetStream on file storage under
// Options.StoreDir, and connects to it in-process (nats.InProcessServer): no
// port is opened unless Options.Listen asks for one, and the standard port
// 4222 is never used. With a URL, Open connects to an external server or
// cluster instead; after connecting, both modes run the same code.
//
// All events live in one stream (default LODESTONE) on the subjects
// "<prefix>.>" (default prefix "lodestone"):
//
//	lodestone.events.<type tokens>  the events, e.g. lodestone.events.lodestone.twin.created
//	lodestone.dlq.<route>           dead-letter queues of routes (by convention)
//	lodestone.<anything else>       route endpoints ([Bus.SubjectEndpoint])
//
// Each message is one CloudEvent in JSON structured mode; its Nats-Msg-Id is
// derived from the subject, source and id, so the stream's duplicate window
// (default two minutes) drops a republished event. The stream sequence is
// the event's sequence number. Subscriptions are ordered consumers, which
// nats.go recreates from the last sequence seen after a gap or reconnect.
//
// Tests run the event/eventtest suite on the embedded server always, and on
// the external server named by LODESTONE_TEST_NATS when it is set (each run
// on its own stream and prefix, deleted afterwards).
package natsbus
