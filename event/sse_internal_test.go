package event

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// idleBus is a Bus whose subscriptions never yield an event.
type idleBus struct{}

func (idleBus) Publish(context.Context, Event) error { return nil }
func (idleBus) Close() error                         { return nil }
func (idleBus) Subscribe(context.Context, Filter, Start) (Subscription, error) {
	return idleSub{}, nil
}

type idleSub struct{}

func (idleSub) Next(ctx context.Context) (Message, error) {
	<-ctx.Done()
	return Message{}, ctx.Err()
}
func (idleSub) Close() error { return nil }

// TestSSEHeartbeat checks that an idle stream sends comment lines.
func TestSSEHeartbeat(t *testing.T) {
	srv := httptest.NewServer(sseHandler{bus: idleBus{}, heartbeat: 5 * time.Millisecond})
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	pings := 0
	for pings < 3 && sc.Scan() {
		if sc.Text() == ": ping" {
			pings++
		}
	}
	if pings < 3 {
		t.Fatalf("saw %d heartbeats before the stream ended (%v)", pings, sc.Err())
	}
}
