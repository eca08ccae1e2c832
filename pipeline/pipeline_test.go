package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lodestone/event"
	"lodestone/event/membus"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

var testModels = []string{
	`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Gauge;1","@type":"Interface","contents":[
		{"@type":"Property","name":"reading","schema":"double","writable":true},
		{"@type":"Telemetry","name":"level","schema":"double"}]}`,
	`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Asset;1","@type":"Interface","displayName":"Asset","contents":[
		{"@type":"Property","name":"name","schema":"string","writable":true},
		{"@type":"Property","name":"capacity","schema":"double","writable":true},
		{"@type":"Telemetry","name":"temperature","schema":"double"},
		{"@type":"Component","name":"gauge","schema":"dtmi:test:Gauge;1"},
		{"@type":"Relationship","name":"feeds","target":"dtmi:test:Asset;1","maxMultiplicity":2}]}`,
}

const extraModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Extra;1","@type":"Interface","contents":[
	{"@type":"Property","name":"x","schema":"double","writable":true}]}`

// fixture is a pipeline on a SQLite file with an in-memory bus.
type fixture struct {
	st  *sqlite.DB
	bus *membus.Bus
	p   *pipeline.Pipeline
}

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newPipeline(t *testing.T, st store.Store, bus event.Bus, hooks ...pipeline.Hook) *pipeline.Pipeline {
	t.Helper()
	ctx := context.Background()
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Bus: bus, Hooks: hooks, RelayInterval: 50 * time.Millisecond, RetryDeadline: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	return p
}

func setup(t *testing.T, hooks ...pipeline.Hook) *fixture {
	t.Helper()
	f := &fixture{st: openStore(t), bus: membus.New(nil)}
	t.Cleanup(func() { f.bus.Close() })
	f.p = newPipeline(t, f.st, f.bus, hooks...)
	raws := make([]json.RawMessage, len(testModels))
	for i, m := range testModels {
		raws[i] = json.RawMessage(m)
	}
	if _, err := f.p.PutModels(context.Background(), raws); err != nil {
		t.Fatal(err)
	}
	return f
}

func asset(id string, capacity float64) twin.Twin {
	return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: "dtmi:test:Asset;1"},
		Properties: map[string]any{"name": id, "capacity": capacity, "gauge": map[string]any{"$metadata": map[string]any{}}}}
}

// events reads the events on the bus so far.
func events(t *testing.T, bus event.Bus) []event.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	sub, err := bus.Subscribe(ctx, event.Filter{}, event.Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var out []event.Event
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return out
		}
		out = append(out, m.Event)
	}
}

// waitOutboxEmpty waits until the relay has removed every record.
func waitOutboxEmpty(t *testing.T, st store.Outbox) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err := st.PendingRecords(context.Background(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d records, first %+v", len(recs), recs[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEveryChangeHasOneEvent(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.p
	a, _, err := p.PutTwin(ctx, asset("a", 1), store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.PutTwin(ctx, asset("b", 2), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PatchTwin(ctx, "a", twin.Patch{{Op: "replace", Path: "/capacity", Value: 5.0}}, store.Condition{IfMatch: a.ETag}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PatchTwin(ctx, "a", twin.Patch{{Op: "add", Path: "/gauge/reading", Value: 3.0}}, store.Condition{}, "gauge"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PutRelationship(ctx, twin.Relationship{ID: "r1", SourceID: "a", TargetID: "b", Name: "feeds"}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendTelemetry(ctx, pipeline.Telemetry{TwinID: "a", MessageID: "m1", Values: map[string]any{"temperature": 20.5}}); err != nil {
		t.Fatal(err)
	}
	// A retried message stores nothing new and publishes nothing new.
	if err := p.AppendTelemetry(ctx, pipeline.Telemetry{TwinID: "a", MessageID: "m1", Values: map[string]any{"temperature": 20.5}}); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendTelemetry(ctx, pipeline.Telemetry{TwinID: "a", Component: "gauge", MessageID: "m2", Values: map[string]any{"level": 0.5}}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteRelationship(ctx, "a", "r1", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteTwin(ctx, "b", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := p.DecommissionModel(ctx, "dtmi:test:Gauge;1"); err != nil {
		t.Fatal(err)
	}
	waitOutboxEmpty(t, f.st)

	got := events(t, f.bus)
	type key struct{ typ, subject string }
	var keys []key
	ids := map[string]bool{}
	for _, e := range got {
		if ids[e.ID] {
			t.Errorf("event id %s twice", e.ID)
		}
		ids[e.ID] = true
		keys = append(keys, key{e.Type, e.Subject})
	}
	want := []key{
		{event.TypeModelCreated, "dtmi:test:Asset;1"},
		{event.TypeModelCreated, "dtmi:test:Gauge;1"},
		{event.TypeTwinCreated, "a"},
		{event.TypeTwinCreated, "b"},
		{event.TypeTwinUpdated, "a"},
		{event.TypeTwinUpdated, "a"},
		{event.TypeRelationshipCreated, "a/relationships/r1"},
		{event.TypeTelemetry, "a"},
		{event.TypeTelemetry, "a/components/gauge"},
		{event.TypeRelationshipDeleted, "a/relationships/r1"},
		{event.TypeTwinDeleted, "b"},
		{event.TypeModelUpdated, "dtmi:test:Gauge;1"},
	}
	if len(keys) != len(want) {
		t.Fatalf("events = %v, want %v", keys, want)
	}
	// Models of one batch may come in either order.
	if keys[0].subject > keys[1].subject {
		keys[0], keys[1] = keys[1], keys[0]
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("event %d = %v, want %v", i, keys[i], want[i])
		}
	}
	// The component telemetry carries names relative to the component.
	for _, e := range got {
		if e.Subject == "a/components/gauge" && string(e.Data) != `{"level":0.5}` {
			t.Errorf("component telemetry data = %s", e.Data)
		}
	}
}

// TestRelayPublishesWhatACrashLeft writes through the store alone, as a
// server that crashed between commit and publish leaves it: a pipeline
// started on the store publishes those records with the ids a request
// would have given them.
func TestRelayPublishesWhatACrashLeft(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	raws := []twin.Model{{ID: "dtmi:test:Gauge;1", DTDL: json.RawMessage(testModels[0])}}
	rec := &store.Recorder{}
	rctx := store.WithRecorder(ctx, rec)
	if _, err := st.PutModels(rctx, raws, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"x", "y", "z"} {
		tw := twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: "dtmi:test:Gauge;1"}, Properties: map[string]any{"reading": 1.0}}
		if _, err := st.PutTwin(rctx, tw, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	left := rec.Records()
	if len(left) != 4 {
		t.Fatalf("records = %d, want 4", len(left))
	}
	bus := membus.New(nil)
	defer bus.Close()
	newPipeline(t, st, bus)
	waitOutboxEmpty(t, st)
	got := events(t, bus)
	if len(got) != len(left) {
		t.Fatalf("relayed %d events, want %d", len(got), len(left))
	}
	for i, r := range left {
		want := pipeline.EventOf("lodestone://localhost", r)
		if got[i].ID != want.ID || got[i].Type != want.Type || got[i].Subject != want.Subject {
			t.Errorf("event %d = %s %s %s, want %s %s %s", i, got[i].ID, got[i].Type, got[i].Subject, want.ID, want.Type, want.Subject)
		}
	}
}

// TestModelChangeOnAnotherServer runs two pipelines on one store: a model
// uploaded or decommissioned through one is in force on the other for its
// next write, though the other's cache has not heard of it.
func TestModelChangeOnAnotherServer(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	other := newPipeline(t, f.st, nil) // no bus: it hears of nothing
	if _, err := f.p.PutModels(ctx, []json.RawMessage{json.RawMessage(extraModel)}); err != nil {
		t.Fatal(err)
	}
	tw := twin.Twin{ID: "e1", Metadata: twin.Metadata{Model: "dtmi:test:Extra;1"}, Properties: map[string]any{"x": 1.0}}
	if _, _, err := other.PutTwin(ctx, tw, store.Condition{}); err != nil {
		t.Fatalf("put on the other server after a model upload: %v", err)
	}
	if err := f.p.DecommissionModel(ctx, "dtmi:test:Extra;1"); err != nil {
		t.Fatal(err)
	}
	tw.ID = "e2"
	_, _, err := other.PutTwin(ctx, tw, store.Condition{})
	var pe *pipeline.Error
	if !errors.As(err, &pe) || pe.Code != "ModelDecommissioned" {
		t.Fatalf("put on the other server after decommission = %v, want ModelDecommissioned", err)
	}
	// Twins of the model may still be patched.
	if _, err := other.PatchTwin(ctx, "e1", twin.Patch{{Op: "replace", Path: "/x", Value: 2.0}}, store.Condition{}, ""); err != nil {
		t.Fatal(err)
	}
}

// TestModelChangeRacingTwinWrite: a twin validated against a model set that
// changed before the store wrote it is validated again.
func TestModelChangeRacingTwinWrite(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	v0 := f.p.Models().Version
	// Another server's upload moves the stored version on; this pipeline's
	// cache is not told.
	if _, err := f.st.PutModels(ctx, []twin.Model{{ID: "dtmi:test:Extra;1", DTDL: json.RawMessage(extraModel)}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	// A write with the old version is refused by the store...
	_, err := f.st.PutTwin(ctx, asset("s", 1), store.Condition{Models: v0})
	if !errors.Is(err, store.ErrModelsChanged) {
		t.Fatalf("store put with a stale model version = %v, want ErrModelsChanged", err)
	}
	// ...and the pipeline revalidates and succeeds.
	if _, _, err := f.p.PutTwin(ctx, asset("s", 1), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if got := f.p.Models().Version; got <= v0 {
		t.Errorf("model version after retry = %d, want > %d", got, v0)
	}
}

// TestPatchWithoutIfMatchNeverFailsPrecondition: concurrent patches of one
// twin without If-Match all succeed (or, past the deadline, are busy).
func TestPatchWithoutIfMatchNeverFailsPrecondition(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, _, err := f.p.PutTwin(ctx, asset("hot", 0), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	const n = 48
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.p.PatchTwin(ctx, "hot", twin.Patch{{Op: "replace", Path: "/capacity", Value: float64(i)}}, store.Condition{}, "")
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, pipeline.ErrBusy):
		default:
			t.Errorf("patch %d: %v", i, err)
		}
		if errors.Is(err, store.ErrPreconditionFailed) {
			t.Errorf("patch %d without If-Match failed a precondition", i)
		}
	}
	if ok == 0 {
		t.Error("no patch succeeded")
	}
	// With a stale If-Match it is a precondition failure at once.
	_, err := f.p.PatchTwin(ctx, "hot", twin.Patch{{Op: "replace", Path: "/capacity", Value: 1.0}}, store.Condition{IfMatch: `W/"stale"`}, "")
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("patch with a stale If-Match = %v, want ErrPreconditionFailed", err)
	}
}

// refuser is a hook that refuses writes of one subject and counts the
// records it sees.
type refuser struct {
	mu      sync.Mutex
	subject string
	seen    map[int64]bool
}

func (h *refuser) Check(_ context.Context, w *pipeline.Write) error {
	if w.Subject == h.subject {
		return errors.New("refused by hook")
	}
	return nil
}

func (h *refuser) Committed(_ context.Context, recs []store.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range recs {
		h.seen[r.Seq] = true
	}
	return nil
}

func TestHooks(t *testing.T) {
	h := &refuser{subject: "forbidden", seen: map[int64]bool{}}
	f := setup(t, h)
	ctx := context.Background()
	if _, _, err := f.p.PutTwin(ctx, asset("forbidden", 1), store.Condition{}); err == nil {
		t.Fatal("hook did not refuse the write")
	}
	if _, err := f.st.GetTwin(ctx, "forbidden"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused twin was stored: %v", err)
	}
	if _, _, err := f.p.PutTwin(ctx, asset("fine", 1), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.seen) != 3 { // two models, one twin
		t.Errorf("hook saw %d records, want 3", len(h.seen))
	}
}

func TestEventOf(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name             string
		rec              store.Record
		typ, subject     string
		data, dataSchema string
	}{
		{"twin create", store.Record{Kind: store.KindTwin, Op: store.OpCreate, Subject: "t", Key: "e1", Model: "dtmi:m;1", Time: at, Data: json.RawMessage(`{"$dtId":"t"}`)},
			event.TypeTwinCreated, "t", `{"$dtId":"t"}`, "dtmi:m;1"},
		{"twin replace", store.Record{Kind: store.KindTwin, Op: store.OpReplace, Subject: "t", Key: "e2", Model: "dtmi:m;1", Time: at},
			event.TypeTwinUpdated, "t", "", "dtmi:m;1"},
		{"twin delete", store.Record{Kind: store.KindTwin, Op: store.OpDelete, Subject: "t", Key: "e2", Time: at},
			event.TypeTwinDeleted, "t", "", ""},
		{"relationship patch", store.Record{Kind: store.KindRelationship, Op: store.OpPatch, Subject: "t/relationships/r", Key: "e", Time: at, Data: json.RawMessage(`[]`)},
			event.TypeRelationshipUpdated, "t/relationships/r", `[]`, ""},
		{"model decommission", store.Record{Kind: store.KindModel, Op: store.OpDecommission, Subject: "dtmi:m;1", Key: "k", Time: at,
			Data: json.RawMessage(`{"id":"dtmi:m;1","model":{"@id":"dtmi:m;1","displayName":"M"},"uploadTime":"2026-01-01T00:00:00Z","decommissioned":true}`)},
			event.TypeModelUpdated, "dtmi:m;1", `{"id":"dtmi:m;1","displayName":{"en":"M"},"uploadTime":"2026-01-01T00:00:00Z","decommissioned":true,"model":{"@id":"dtmi:m;1","displayName":"M"}}`, ""},
		{"component telemetry", store.Record{Kind: store.KindTelemetry, Op: store.OpCreate, Subject: "t", Key: "m1", Model: "dtmi:m;1", Time: at, Data: json.RawMessage(`{"c/a":1,"c/b":2}`)},
			event.TypeTelemetry, "t/components/c", `{"a":1,"b":2}`, "dtmi:m;1"},
		{"twin telemetry", store.Record{Kind: store.KindTelemetry, Op: store.OpCreate, Subject: "t", Key: "m1", Model: "dtmi:m;1", Time: at, Data: json.RawMessage(`{"a":1,"c/b":2}`)},
			event.TypeTelemetry, "t", `{"a":1,"c/b":2}`, "dtmi:m;1"},
		{"import", store.Record{Kind: store.KindImport, Op: store.OpCreate, Key: "k", Time: at, Data: json.RawMessage(`{"twins":1}`)},
			event.TypeImportCompleted, "", `{"twins":1}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pipeline.EventOf("lodestone://x", tt.rec)
			if e.Type != tt.typ || e.Subject != tt.subject || string(e.Data) != tt.data || e.DataSchema != tt.dataSchema || !e.Time.Equal(at) {
				t.Errorf("EventOf = %s %s %s %s %v, want %s %s %s %s", e.Type, e.Subject, e.Data, e.DataSchema, e.Time, tt.typ, tt.subject, tt.data, tt.dataSchema)
			}
			if err := e.Validate(); err != nil {
				t.Error(err)
			}
			if again := pipeline.EventOf("lodestone://x", tt.rec); again.ID != e.ID {
				t.Errorf("ids differ: %s, %s", e.ID, again.ID)
			}
			other := tt.rec
			other.Key += "x"
			if pipeline.EventOf("lodestone://x", other).ID == e.ID {
				t.Errorf("another key gives the same id")
			}
		})
	}
}

// TestDecommissionRacingTwinWrites decommissions a model through one
// pipeline while another (a second server on the same store, which hears
// of nothing) creates twins of it: no twin may be stored after the
// decommission committed.
func TestDecommissionRacingTwinWrites(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	other := newPipeline(t, f.st, nil)
	for round := range 5 {
		model := fmt.Sprintf("dtmi:test:Race%d;1", round)
		doc := strings.ReplaceAll(extraModel, "dtmi:test:Extra;1", model)
		if _, err := f.p.PutModels(ctx, []json.RawMessage{json.RawMessage(doc)}); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					tw := twin.Twin{ID: twin.ID(fmt.Sprintf("r%d-w%d-%d", round, w, i)), Metadata: twin.Metadata{Model: model}, Properties: map[string]any{"x": 1.0}}
					if _, _, err := other.PutTwin(ctx, tw, store.Condition{}); err != nil {
						var pe *pipeline.Error
						if !errors.As(err, &pe) || pe.Code != "ModelDecommissioned" {
							t.Errorf("put: %v", err)
						}
						return
					}
				}
			})
		}
		time.Sleep(20 * time.Millisecond)
		rec := &store.Recorder{}
		if err := f.p.DecommissionModel(store.WithRecorder(ctx, rec), model); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		recs := rec.Records()
		if len(recs) != 1 {
			t.Fatalf("decommission records = %+v", recs)
		}
		at := recs[0].Time
		snap, err := f.st.Snapshot(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tw := range snap.Twins {
			if tw.Metadata.Model != model {
				continue
			}
			n++
			if !tw.Metadata.LastUpdateTime.Before(at) {
				t.Errorf("twin %s of %s stored at %v, after the decommission at %v", tw.ID, model, tw.Metadata.LastUpdateTime, at)
			}
		}
		t.Logf("round %d: %d twins stored before the decommission, none after", round, n)
	}
}
