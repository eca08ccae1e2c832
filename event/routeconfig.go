package event

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// SubjectBus is a [Bus] that can also deliver events to named subjects
// beside its event log, as JetStream does; natsbus.Bus implements it. Route
// configurations use it for "subject" endpoints and dead-letter queues.
type SubjectBus interface {
	Bus
	// SubjectEndpoint returns an endpoint that publishes to subject.
	SubjectEndpoint(subject string) (Endpoint, error)
	// DeadLetterSubject returns the conventional dead-letter subject of a
	// route.
	DeadLetterSubject(route string) string
}

// RouteConfig is a route as written in a configuration file:
//
//	{"name": "mine-alerts", "filter": "type=lodestone.twin.*&subject=mine-*",
//	 "webhook": "https://example.org/hook", "maxAttempts": 8}
//
// Exactly one of Webhook and Subject names the endpoint.
type RouteConfig struct {
	Name string `json:"name"`
	// Filter is in [ParseFilter] syntax; empty routes every event.
	Filter string `json:"filter,omitempty"`
	// Webhook is an http or https URL that receives each event by POST.
	Webhook string `json:"webhook,omitempty"`
	// Headers are added to every webhook request (e.g. Authorization).
	Headers map[string]string `json:"headers,omitempty"`
	// Subject is a bus subject that receives each event (a SubjectBus is
	// needed).
	Subject string `json:"subject,omitempty"`
	// DeadLetter is the subject of the dead-letter queue. Empty means the
	// bus's conventional one when the bus is a SubjectBus, else events that
	// cannot be delivered are logged and dropped.
	DeadLetter string `json:"deadLetter,omitempty"`
	// MaxAttempts is the number of deliveries tried before dead-lettering
	// (default 5).
	MaxAttempts int `json:"maxAttempts,omitempty"`
}

// Route builds the route c describes on bus.
func (c RouteConfig) Route(bus Bus) (Route, error) {
	if c.Name == "" {
		return Route{}, errors.New("event: route config: empty name")
	}
	f, err := ParseFilter(c.Filter)
	if err != nil {
		return Route{}, fmt.Errorf("event: route %q: %w", c.Name, err)
	}
	if c.MaxAttempts < 0 {
		return Route{}, fmt.Errorf("event: route %q: maxAttempts %d is negative", c.Name, c.MaxAttempts)
	}
	r := Route{Name: c.Name, Filter: f, Retry: Retry{MaxAttempts: c.MaxAttempts}}
	sb, hasSubjects := bus.(SubjectBus)
	switch {
	case (c.Webhook == "") == (c.Subject == ""):
		return Route{}, fmt.Errorf("event: route %q: give exactly one of webhook and subject", c.Name)
	case c.Webhook != "":
		u, err := url.Parse(c.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Route{}, fmt.Errorf("event: route %q: webhook %q is not an http(s) URL", c.Name, c.Webhook)
		}
		h := http.Header{}
		for k, v := range c.Headers {
			h.Set(k, v)
		}
		r.Endpoint = &Webhook{URL: c.Webhook, Header: h}
	default:
		if !hasSubjects {
			return Route{}, fmt.Errorf("event: route %q: this bus has no subjects", c.Name)
		}
		if r.Endpoint, err = sb.SubjectEndpoint(c.Subject); err != nil {
			return Route{}, fmt.Errorf("event: route %q: %w", c.Name, err)
		}
	}
	dl := c.DeadLetter
	if dl == "" && hasSubjects {
		dl = sb.DeadLetterSubject(c.Name)
	}
	if dl != "" {
		if !hasSubjects {
			return Route{}, fmt.Errorf("event: route %q: this bus has no subjects for a dead-letter queue", c.Name)
		}
		if r.DeadLetter, err = sb.SubjectEndpoint(dl); err != nil {
			return Route{}, fmt.Errorf("event: route %q: dead letter: %w", c.Name, err)
		}
	}
	return r, nil
}

// Routes builds the routes of cfgs, checking that names are unique.
func Routes(bus Bus, cfgs []RouteConfig) ([]Route, error) {
	seen := map[string]bool{}
	out := make([]Route, 0, len(cfgs))
	for _, c := range cfgs {
		if seen[c.Name] {
			return nil, fmt.Errorf("event: duplicate route %q", c.Name)
		}
		seen[c.Name] = true
		r, err := c.Route(bus)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
