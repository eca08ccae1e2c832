package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"

	"lodestone/event"
	"lodestone/event/natsbus"
)

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		opts natsbus.Options
		want string
	}{
		{"no store dir", natsbus.Options{}, "StoreDir is required"},
		{"standard port", natsbus.Options{StoreDir: t.TempDir(), Listen: "127.0.0.1:4222"}, "port 4222 is reserved"},
		{"bad listen", natsbus.Options{StoreDir: t.TempDir(), Listen: "nowhere"}, "listen"},
		{"bad prefix", natsbus.Options{StoreDir: t.TempDir(), Prefix: "a.*"}, "prefix"},
		{"listen with URL", natsbus.Options{URL: "nats://127.0.0.1:1", Listen: "127.0.0.1:0"}, "embedded server only"},
		{"password not in error", natsbus.Options{URL: "nats://user:secret@127.0.0.1:1", ConnectOptions: []nats.Option{nats.Timeout(time.Second)}}, "nats://user:xxxxx@127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := natsbus.Open(t.Context(), tt.opts)
			if err == nil {
				b.Close()
				t.Fatalf("Open(%+v) succeeded, want an error containing %q", tt.opts, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Open error %q shows a password", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%+v) = %v, want an error containing %q", tt.opts, err, tt.want)
			}
		})
	}
}

// TestEmbeddedListen checks that the embedded server listens only when
// asked, never on 4222, and that clients can then use it over TCP.
func TestEmbeddedListen(t *testing.T) {
	b := openEmbedded(t)
	if u := b.ClientURL(); u != "" {
		t.Errorf("ClientURL() = %q without Listen, want none", u)
	}
	if a := b.Server().Addr(); a != nil {
		t.Errorf("embedded server listens on %v without Listen", a)
	}
	if a := b.Server().MonitorAddr(); a != nil {
		t.Errorf("embedded server has a monitoring listener on %v", a)
	}
	if !b.Conn().IsConnected() {
		t.Fatal("in-process connection is down")
	}

	lb, err := natsbus.Open(t.Context(), natsbus.Options{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	u, err := url.Parse(lb.ClientURL())
	if err != nil || u.Port() == "" || u.Port() == "4222" || u.Port() == "0" {
		t.Fatalf("ClientURL() = %q (%v), want a free port other than 4222", lb.ClientURL(), err)
	}
	// Another process's view: an external bus on the embedded server's
	// port sees the same stream.
	ext, err := natsbus.Open(t.Context(), natsbus.Options{URL: lb.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	e := benchEvent(1)
	if err := lb.Publish(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	sub, err := ext.Subscribe(t.Context(), event.Filter{}, event.Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if m, err := sub.Next(ctx); err != nil || m.Event.ID != e.ID {
		t.Fatalf("Next over TCP = %v, %v; want %s", m.Event.ID, err, e.ID)
	}
}

// TestReopen checks that events survive a restart of the embedded server
// with the same directory, that sequence numbers go on from where they
// were, and that a republished id is still a duplicate.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() *natsbus.Bus {
		b, err := natsbus.Open(t.Context(), natsbus.Options{StoreDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := open()
	for i := range 5 {
		if err := b.Publish(t.Context(), benchEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()

	b = open()
	defer b.Close()
	// A producer that crashed before learning of its acks publishes again.
	if err := b.Publish(t.Context(), benchEvent(4)); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), benchEvent(5)); err != nil {
		t.Fatal(err)
	}
	sub, err := b.Subscribe(t.Context(), event.Filter{}, event.Start{After: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got []string
	for range 3 {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", m.Seq, m.Event.Subject))
	}
	if diff := cmp.Diff([]string{"4:twin-3", "5:twin-4", "6:twin-5"}, got); diff != "" {
		t.Errorf("after reopen (-want +got):\n%s", diff)
	}
	short, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel2()
	if m, err := sub.Next(short); err == nil {
		t.Errorf("extra event after reopen: %d %s", m.Seq, m.Event.Subject)
	}
}

// TestRouteToSubjects runs a router on the JetStream bus: one route to a
// subject endpoint, one to a webhook that always fails and dead-letters into
// the route's DLQ subject.
func TestRouteToSubjects(t *testing.T) {
	b := openEmbedded(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	mines, err := b.SubjectEndpoint("lodestone.routes.mines")
	if err != nil {
		t.Fatal(err)
	}
	dlq, err := b.SubjectEndpoint(b.DeadLetterSubject("hook"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := event.NewRouter(b, []event.Route{
		{Name: "mines", Filter: event.Filter{Subjects: []string{"twin-?"}}, Endpoint: mines},
		{Name: "hook", Filter: event.Filter{Subjects: []string{"twin-1"}}, Endpoint: &event.Webhook{URL: srv.URL},
			DeadLetter: dlq, Retry: event.Retry{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}},
	}, &event.RouterOptions{FromBeginning: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := b.Publish(t.Context(), benchEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())

	read := func(subject string, n int) []event.Message {
		t.Helper()
		sub, err := b.SubscribeSubject(t.Context(), subject, event.Filter{}, event.Start{})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var out []event.Message
		for range n {
			m, err := sub.Next(ctx)
			if err != nil {
				t.Fatalf("%s: %v after %d events", subject, err, len(out))
			}
			out = append(out, m)
		}
		return out
	}
	routed := read("lodestone.routes.mines", 3)
	for i, m := range routed {
		if want := fmt.Sprintf("twin-%d", i); m.Event.Subject != want {
			t.Errorf("routed event %d: subject %s, want %s", i, m.Event.Subject, want)
		}
	}
	dead := read("lodestone.dlq.hook", 1)[0]
	if dead.Event.Subject != "twin-1" || dead.Event.Extensions["deadletterattempts"] != "3" || dead.Event.Extensions["deadletterroute"] != "hook" {
		t.Errorf("dead letter %+v", dead.Event)
	}

	// Route and DLQ subjects stay out of the event stream itself.
	sub, err := b.Subscribe(t.Context(), event.Filter{}, event.Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for i := range 3 {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Event.Extensions["deadletterroute"] != "" || m.Event.Subject != fmt.Sprintf("twin-%d", i) {
			t.Errorf("event stream message %d: %+v", i, m.Event)
		}
	}
	short, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel2()
	if m, err := sub.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("event stream has more: %v %v", m.Event, err)
	}
}

func TestSubjectEndpointErrors(t *testing.T) {
	b := openEmbedded(t)
	for _, s := range []string{"elsewhere.x", "lodestone.events.x", "lodestone.events", "lodestone.a.*", "lodestone..x", ""} {
		if _, err := b.SubjectEndpoint(s); err == nil {
			t.Errorf("SubjectEndpoint(%q) succeeded, want an error", s)
		}
	}
	if _, err := b.SubscribeSubject(t.Context(), "other.>", event.Filter{}, event.Start{}); err == nil {
		t.Error("SubscribeSubject outside the stream succeeded")
	}
}

func TestSubject(t *testing.T) {
	b := openEmbedded(t)
	tests := []struct{ typ, want string }{
		{event.TypeTwinCreated, "lodestone.events.lodestone.twin.created"},
		{"Microsoft.DigitalTwins.Twin.Create", "lodestone.events.Microsoft.DigitalTwins.Twin.Create"},
		{"a..b", "lodestone.events.a._.b"},
		{"x y>*", "lodestone.events.x_y__"},
		{".", "lodestone.events._._"},
	}
	for _, tt := range tests {
		if got := b.Subject(tt.typ); got != tt.want {
			t.Errorf("Subject(%q) = %q, want %q", tt.typ, got, tt.want)
		}
	}
}
