package event_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/event"
	"lodestone/event/membus"
)

// subjectBus adds recording subject endpoints to a membus.
type subjectBus struct {
	*membus.Bus
	subjects []string
}

func (b *subjectBus) SubjectEndpoint(subject string) (event.Endpoint, error) {
	if !strings.HasPrefix(subject, "lodestone.") {
		return nil, errors.New("not under lodestone.")
	}
	b.subjects = append(b.subjects, subject)
	return event.EndpointFunc(func(context.Context, event.Message) error { return nil }), nil
}

func (b *subjectBus) DeadLetterSubject(route string) string { return "lodestone.dlq." + route }

func TestRouteConfig(t *testing.T) {
	tests := []struct {
		name         string
		json         string
		subjects     bool
		wantErr      string
		wantSubjects []string
		wantDLQ      bool
		wantWebhook  string
	}{
		{name: "webhook", json: `{"name":"a","filter":"type=lodestone.twin.*","webhook":"https://example.org/h","headers":{"Authorization":"Bearer t"},"maxAttempts":3}`,
			wantWebhook: "https://example.org/h"},
		{name: "webhook with default DLQ", json: `{"name":"a","webhook":"http://h/x"}`, subjects: true,
			wantSubjects: []string{"lodestone.dlq.a"}, wantDLQ: true, wantWebhook: "http://h/x"},
		{name: "subject and DLQ", json: `{"name":"b","subject":"lodestone.routes.b","deadLetter":"lodestone.dead"}`, subjects: true,
			wantSubjects: []string{"lodestone.routes.b", "lodestone.dead"}, wantDLQ: true},
		{name: "no name", json: `{"webhook":"http://h"}`, wantErr: "empty name"},
		{name: "both endpoints", json: `{"name":"a","webhook":"http://h","subject":"lodestone.x"}`, subjects: true, wantErr: "exactly one"},
		{name: "no endpoint", json: `{"name":"a"}`, wantErr: "exactly one"},
		{name: "bad webhook", json: `{"name":"a","webhook":"ftp://h"}`, wantErr: "not an http(s) URL"},
		{name: "bad filter", json: `{"name":"a","filter":"x=y","webhook":"http://h"}`, wantErr: "unknown key"},
		{name: "subject without subjects", json: `{"name":"a","subject":"lodestone.x"}`, wantErr: "no subjects"},
		{name: "dead letter without subjects", json: `{"name":"a","webhook":"http://h","deadLetter":"lodestone.d"}`, wantErr: "no subjects"},
		{name: "bad subject", json: `{"name":"a","subject":"other.x"}`, subjects: true, wantErr: "not under"},
		{name: "negative attempts", json: `{"name":"a","webhook":"http://h","maxAttempts":-1}`, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c event.RouteConfig
			if err := json.Unmarshal([]byte(tt.json), &c); err != nil {
				t.Fatal(err)
			}
			mb := membus.New(nil)
			defer mb.Close()
			var bus event.Bus = mb
			sb := &subjectBus{Bus: mb}
			if tt.subjects {
				bus = sb
			}
			r, err := c.Route(bus)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Route = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantSubjects, sb.subjects); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
			if (r.DeadLetter != nil) != tt.wantDLQ {
				t.Errorf("dead letter endpoint set = %v, want %v", r.DeadLetter != nil, tt.wantDLQ)
			}
			if tt.wantWebhook != "" {
				w, ok := r.Endpoint.(*event.Webhook)
				if !ok || w.URL != tt.wantWebhook {
					t.Fatalf("endpoint %#v, want webhook %s", r.Endpoint, tt.wantWebhook)
				}
			}
		})
	}
	if _, err := event.Routes(membus.New(nil), []event.RouteConfig{{Name: "a", Webhook: "http://h"}, {Name: "a", Webhook: "http://h"}}); err == nil {
		t.Error("Routes with a duplicate name succeeded")
	}
}
