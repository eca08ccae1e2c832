package event_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/event"
	"lodestone/event/membus"
)

// sseFrame is one event of a text/event-stream.
type sseFrame struct {
	ID   string
	Data string
}

// sseReader reads frames from a stream, skipping comments.
type sseReader struct{ sc *bufio.Scanner }

func (r *sseReader) next(t *testing.T) sseFrame {
	t.Helper()
	var f sseFrame
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if f != (sseFrame{}) {
				return f
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			f.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			f.Data += strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
	t.Fatalf("stream ended: %v", r.sc.Err())
	return f
}

// openSSE starts a GET of the stream; the request ends with the test.
func openSSE(t *testing.T, url string, header http.Header) (*http.Response, *sseReader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, &sseReader{sc: bufio.NewScanner(resp.Body)}
}

func TestSSEResume(t *testing.T) {
	bus := membus.New(nil)
	defer bus.Close()
	srv := httptest.NewServer(event.SSEHandler(bus))
	t.Cleanup(srv.Close) // after the streams' own cleanups have ended them

	evs := []event.Event{
		testEvent(1, event.TypeTwinCreated, "mine-1"),
		testEvent(2, event.TypeTelemetry, "mine-1"),
		testEvent(3, event.TypeTwinUpdated, "mine-1"),
		testEvent(4, event.TypeTwinUpdated, "plant-1"),
		testEvent(5, event.TypeTwinDeleted, "mine-2"),
	}
	publish(t, bus, evs[:3]...)
	url := srv.URL + "/events?filter=type%3Dlodestone.twin.*%26subject%3Dmine-*"

	// A browser reconnecting after seq 1 gets 3 (2 is filtered out), then
	// what comes next.
	resp, r := openSSE(t, url, http.Header{"Last-Event-ID": {"1"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("status %s, content type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	got := []sseFrame{r.next(t)}
	publish(t, bus, evs[3:]...)
	got = append(got, r.next(t))
	var ids []string
	for _, f := range got {
		ids = append(ids, f.ID)
		e, err := event.Decode([]byte(f.Data))
		if err != nil {
			t.Fatalf("frame %s: %v", f.ID, err)
		}
		seq, _ := strconv.Atoi(f.ID)
		if want := evs[seq-1].ID; e.ID != want {
			t.Errorf("frame %s carries event %s, want %s", f.ID, e.ID, want)
		}
	}
	if diff := cmp.Diff([]string{"3", "5"}, ids); diff != "" {
		t.Errorf("frame ids (-want +got):\n%s", diff)
	}

	// Without Last-Event-ID the stream starts with new events; the query
	// keys add to the filter, and lastEventId works as a query parameter.
	_, r = openSSE(t, srv.URL+"/events?subject=plant-*", nil)
	_, r2 := openSSE(t, srv.URL+"/events?type=lodestone.twin.updated&lastEventId=2", nil)
	publish(t, bus, testEvent(6, event.TypeTwinUpdated, "plant-9"))
	if f := r.next(t); f.ID != "6" {
		t.Errorf("new-only stream: first id %s, want 6", f.ID)
	}
	var resumed []string
	for range 3 {
		resumed = append(resumed, r2.next(t).ID)
	}
	if diff := cmp.Diff([]string{"3", "4", "6"}, resumed); diff != "" {
		t.Errorf("lastEventId resume (-want +got):\n%s", diff)
	}
}

func TestSSEErrors(t *testing.T) {
	bus := membus.New(nil)
	srv := httptest.NewServer(event.SSEHandler(bus))
	defer srv.Close()
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		status int
	}{
		{"bad filter", http.MethodGet, "/events?filter=colour%3Dred", nil, http.StatusBadRequest},
		{"bad last id", http.MethodGet, "/events", http.Header{"Last-Event-ID": {"abc"}}, http.StatusBadRequest},
		{"post", http.MethodPost, "/events", nil, http.StatusMethodNotAllowed},
		{"closed bus", http.MethodGet, "/events", nil, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == http.StatusServiceUnavailable {
				bus.Close()
			}
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("status %d (%s), want %d with a JSON error", resp.StatusCode, resp.Header.Get("Content-Type"), tt.status)
			}
		})
	}
}

// TestSSEEndsWithBus checks that an open stream ends when the bus closes.
func TestSSEEndsWithBus(t *testing.T) {
	bus := membus.New(nil)
	srv := httptest.NewServer(event.SSEHandler(bus))
	t.Cleanup(srv.Close)
	_, r := openSSE(t, srv.URL, nil)
	publish(t, bus, testEvent(1, event.TypeTwinCreated, "a"))
	r.next(t)
	bus.Close()
	for r.sc.Scan() {
	}
	if err := r.sc.Err(); err != nil {
		t.Errorf("stream ended with %v, want a clean end", err)
	}
}
