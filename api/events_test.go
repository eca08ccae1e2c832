package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lodestone/event"
)

// sseEvent is one event of the /events stream.
type sseEvent struct {
	id string
	ev event.Event
}

// openEvents opens GET /events with the query and header; it returns once
// the stream is open (the server subscribes before it answers).
func openEvents(t *testing.T, e *env, query, lastID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", e.url+"/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("GET /events%s = %d %s", query, res.StatusCode, b)
	}
	ch := make(chan sseEvent, 64)
	go func() {
		defer res.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				cur.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.ev); err != nil {
					t.Errorf("event data: %v", err)
				}
			case line == "" && cur.id != "":
				ch <- cur
				cur = sseEvent{}
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

func TestEventStream(t *testing.T) {
	e := start(t, options{})
	all := openEvents(t, e, "?subject=ev*", "")
	e.putTwin("ev1", "dtmi:test:Owner;1", map[string]any{"name": "a"})
	e.mustDo("PATCH", "/digitaltwins/ev1", `[{"op":"replace","path":"/name","value":"b"}]`, 204)
	e.putTwin("ev2", "dtmi:test:Asset;1", nil)
	e.putTwin("ev3", "dtmi:test:Plant;1", nil)
	e.putRel("ev2", "r1", "feeds", "ev3", nil)
	e.mustDo("POST", "/digitaltwins/ev2/telemetry", `{"temperature":3}`, 204, "Message-Id", "m1")
	e.mustDo("DELETE", "/digitaltwins/ev1", nil, 204)
	want := []struct{ typ, subject string }{
		{event.TypeTwinCreated, "ev1"},
		{event.TypeTwinUpdated, "ev1"},
		{event.TypeTwinCreated, "ev2"},
		{event.TypeTwinCreated, "ev3"},
		{event.TypeRelationshipCreated, event.RelationshipSubject("ev2", "r1")},
		{event.TypeTelemetry, "ev2"},
		{event.TypeTwinDeleted, "ev1"},
	}
	var got []sseEvent
	for i, w := range want {
		ev := next(t, all)
		got = append(got, ev)
		if ev.ev.Type != w.typ || ev.ev.Subject != w.subject {
			t.Errorf("event %d = %s %s, want %s %s", i, ev.ev.Type, ev.ev.Subject, w.typ, w.subject)
		}
		if ev.ev.ID == "" || ev.ev.Source == "" || ev.ev.Time.IsZero() {
			t.Errorf("event %d lacks id, source or time: %+v", i, ev.ev)
		}
	}
	// The update carries the JSON Patch; telemetry carries its model.
	var patch []map[string]any
	if err := json.Unmarshal(got[1].ev.Data, &patch); err != nil || len(patch) != 1 || patch[0]["path"] != "/name" {
		t.Errorf("update data = %s, want the patch", got[1].ev.Data)
	}
	if got[5].ev.DataSchema != "dtmi:test:Asset;1" {
		t.Errorf("telemetry dataschema = %q", got[5].ev.DataSchema)
	}

	// A client that reconnects with the id of the third event gets the rest.
	resumed := openEvents(t, e, "?subject=ev*", got[2].id)
	for i := 3; i < len(want); i++ {
		ev := next(t, resumed)
		if ev.id != got[i].id || ev.ev.ID != got[i].ev.ID {
			t.Errorf("resumed event %d = %s (%s), want %s (%s)", i, ev.id, ev.ev.Type, got[i].id, got[i].ev.Type)
		}
	}
	// A filtered stream sees only its type.
	deletes := openEvents(t, e, "?filter="+strings.ReplaceAll("type=lodestone.twin.deleted", "=", "%3D"), got[0].id)
	if ev := next(t, deletes); ev.ev.Type != event.TypeTwinDeleted {
		t.Errorf("filtered stream: %s", ev.ev.Type)
	}
	e.mustDo("GET", "/events?filter=nonsense", nil, 400)
	e.mustDo("GET", "/events", nil, 400, "Last-Event-ID", "abc")
}

func TestEventRoutes(t *testing.T) {
	e := start(t, options{webhookAllow: "127.0.0.0/8"}) // the receiver is on loopback
	got := make(chan event.Event, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev event.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got <- ev
	}))
	t.Cleanup(hook.Close)

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"webhook endpoint", "PUT", "/endpoints/hook", `{"kind":"webhook","url":"` + hook.URL + `"}`, 200},
		{"endpoint with a bad url", "PUT", "/endpoints/bad", `{"kind":"webhook","url":"ftp://x"}`, 400},
		{"endpoint of an unknown kind", "PUT", "/endpoints/bad", `{"kind":"pigeon"}`, 400},
		{"route to an unknown endpoint", "PUT", "/eventroutes/r0", `{"filter":"","endpointName":"nope"}`, 400},
		{"route with a bad filter", "PUT", "/eventroutes/r0", `{"filter":"colour=red","endpointName":"hook"}`, 400},
		{"route", "PUT", "/eventroutes/created", `{"filter":"type=lodestone.twin.created","endpointName":"hook"}`, 204},
		{"get route", "GET", "/eventroutes/created", "", 200},
		{"get unknown route", "GET", "/eventroutes/nope", "", 404},
		{"list routes", "GET", "/eventroutes", "", 200},
		{"list endpoints", "GET", "/endpoints", "", 200},
		{"delete an endpoint in use", "DELETE", "/endpoints/hook", "", 409},
		{"delete unknown endpoint", "DELETE", "/endpoints/nope", "", 404},
		{"delete unknown route", "DELETE", "/eventroutes/nope", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := e.do(tt.method, tt.path, body)
			if r.status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.want)
			}
			if r.status >= 400 {
				r.errCode(t)
			}
		})
	}
	e.t = t
	e.putTwin("w1", "dtmi:test:Owner;1", nil)
	e.mustDo("PATCH", "/digitaltwins/w1", `[{"op":"add","path":"/name","value":"x"}]`, 204)
	e.putTwin("w2", "dtmi:test:Owner;1", nil)
	for _, want := range []string{"w1", "w2"} {
		select {
		case ev := <-got:
			if ev.Type != event.TypeTwinCreated || ev.Subject != want {
				t.Errorf("webhook got %s %s, want %s %s", ev.Type, ev.Subject, event.TypeTwinCreated, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("webhook got no event for %s", want)
		}
	}
	e.mustDo("DELETE", "/eventroutes/created", nil, 204)
	e.mustDo("DELETE", "/endpoints/hook", nil, 204)
}
