package trust_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/trust"
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
		{"@type":"Relationship","name":"feeds","target":"dtmi:test:Asset;1","properties":[{"@type":"Property","name":"share","schema":"double","writable":true}]}]}`,
	`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Old;1","@type":"Interface","contents":[]}`,
}

// testKey is a fixed signer key, so that runs are comparable.
var testSigner, testVKey = func() (note.Signer, string) {
	skey, vkey, err := trust.GenerateKey("lodestone.test/log")
	if err != nil {
		panic(err)
	}
	s, err := trust.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return s, vkey
}()

// fixture is a pipeline with the log on a SQLite file.
type fixture struct {
	dir string
	st  *sqlite.DB
	log *trust.Log
	p   *pipeline.Pipeline
}

func openStore(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func setup(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{dir: t.TempDir()}
	f.st = openStore(t, filepath.Join(f.dir, "lodestone.db"))
	t.Cleanup(func() { f.st.Close() })
	l, err := trust.NewLog(ctx, f.st, testSigner, trust.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.log = l
	p, err := pipeline.New(ctx, pipeline.Options{Store: f.st, Hooks: []pipeline.Hook{l}, RelayInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	f.p = p
	raws := make([]json.RawMessage, len(testModels))
	for i, m := range testModels {
		raws[i] = json.RawMessage(m)
	}
	if _, err := p.PutModels(ctx, raws); err != nil {
		t.Fatal(err)
	}
	return f
}

func asset(id string, capacity float64) twin.Twin {
	return twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: "dtmi:test:Asset;1"},
		Properties: map[string]any{"name": id, "capacity": capacity, "gauge": map[string]any{"$metadata": map[string]any{}}}}
}

// scenario writes every kind of change: creates, replaces, patches (of a
// twin and a component), relationships created, patched and deleted,
// telemetry, a twin deleted, a model decommissioned and one deleted.
func scenario(t testing.TB, f *fixture, n int) {
	t.Helper()
	ctx := context.Background()
	p := f.p
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		_, _, err := p.PutTwin(ctx, asset(fmt.Sprintf("t%d", i), float64(i)+0.25), store.Condition{})
		must(err)
	}
	must(f.log.Checkpoint(ctx))
	_, _, err := p.PutTwin(ctx, asset("t0", 99), store.Condition{})
	must(err)
	for i := range n {
		id := twin.ID(fmt.Sprintf("t%d", i))
		_, err := p.PatchTwin(ctx, id, twin.Patch{{Op: "replace", Path: "/capacity", Value: float64(i) * 1.5}}, store.Condition{}, "")
		must(err)
		_, err = p.PatchTwin(ctx, id, twin.Patch{{Op: "add", Path: "/gauge/reading", Value: 3.0 + float64(i)}}, store.Condition{}, "gauge")
		must(err)
		if i > 0 {
			_, err := p.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: id, TargetID: "t0", Name: "feeds", Properties: map[string]any{"share": 0.5}}, store.Condition{})
			must(err)
			_, err = p.PatchRelationship(ctx, id, "r", twin.Patch{{Op: "replace", Path: "/share", Value: 0.75}}, store.Condition{})
			must(err)
			if i == 2 {
				_, err := p.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: id, TargetID: "t3", Name: "feeds", Properties: map[string]any{"share": 0.25}}, store.Condition{})
				must(err)
			}
		}
		must(p.AppendTelemetry(ctx, pipeline.Telemetry{TwinID: id, MessageID: "m1", Values: map[string]any{"temperature": 20.5 + float64(i)}}))
		must(p.AppendTelemetry(ctx, pipeline.Telemetry{TwinID: id, Component: "gauge", MessageID: "m2", Values: map[string]any{"level": 0.5}}))
	}
	if n > 2 {
		must(p.DeleteRelationship(ctx, "t1", "r", store.Condition{}))
		must(p.DeleteTwin(ctx, "t1", store.Condition{}))
	}
	must(p.DecommissionModel(ctx, "dtmi:test:Gauge;1"))
	must(p.DeleteModel(ctx, "dtmi:test:Old;1"))
	must(f.log.Checkpoint(ctx))
}

func storeCond() store.Condition { return store.Condition{} }

func slicesSort(s []string) { sort.Strings(s) }

func rawModels() []json.RawMessage {
	raws := make([]json.RawMessage, len(testModels))
	for i, m := range testModels {
		raws[i] = json.RawMessage(m)
	}
	return raws
}
