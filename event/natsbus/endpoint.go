package natsbus

import (
	"context"
	"fmt"
	"strings"

	"lodestone/event"
)

// SubjectEndpoint returns an [event.Endpoint] that publishes each event to
// subject on the bus's stream, e.g. "lodestone.routes.alerts" for a route, or
// "lodestone.dlq.<route>" as a route's dead-letter queue. The subject must be
// under the bus's prefix (so JetStream keeps it) and outside its events
// subjects (which would feed the event back into every route). A repeated
// delivery of the same event to the same subject is deduplicated within the
// stream's window.
func (b *Bus) SubjectEndpoint(subject string) (event.Endpoint, error) {
	if err := checkToken(subject); err != nil {
		return nil, fmt.Errorf("natsbus: endpoint subject: %w", err)
	}
	if !strings.HasPrefix(subject, b.opts.Prefix+".") {
		return nil, fmt.Errorf("natsbus: endpoint subject %q is not under %s.", subject, b.opts.Prefix)
	}
	if strings.HasPrefix(subject+".", b.events) {
		return nil, fmt.Errorf("natsbus: endpoint subject %q is inside the event subjects %s>", subject, b.events)
	}
	return event.EndpointFunc(func(ctx context.Context, m event.Message) error {
		return b.publish(ctx, subject, &m.Event)
	}), nil
}

// DeadLetterSubject returns the conventional dead-letter subject of a route:
// Prefix.dlq.<route>, with the route name made a valid token.
func (b *Bus) DeadLetterSubject(route string) string {
	return b.opts.Prefix + ".dlq." + strings.TrimPrefix(b.Subject(route), b.events)
}
