package connector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

// sensorModel has a plain telemetry, a telemetry with a unit, and
// properties of two types.
const sensorModel = `{"@context":["dtmi:dtdl:context;3","dtmi:dtdl:extension:quantitativeTypes;1"],"@id":"dtmi:test:Sensor;1","@type":"Interface","contents":[
	{"@type":"Telemetry","name":"value","schema":"double"},
	{"@type":["Telemetry","Temperature"],"name":"temperature","schema":"double","unit":"degreeCelsius"},
	{"@type":"Telemetry","name":"mode","schema":"string"},
	{"@type":"Property","name":"setpoint","schema":"double","writable":true},
	{"@type":"Property","name":"label","schema":"string","writable":true}]}`

type fixture struct {
	st   store.Store
	pipe *pipeline.Pipeline
	// lags counts the calls of the runners' lag function; lastLag is the
	// last age told, in ns.
	lags, lastLag atomic.Int64
}

// onLag is the fixture's Runner.OnLag function.
func (f *fixture) onLag(_ string, lag time.Duration) {
	f.lags.Add(1)
	f.lastLag.Store(int64(lag))
}

// setup opens a store with the sensor model and twins s0…s(n-1).
func setup(t testing.TB, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, RelayInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	if _, err := p.PutModels(ctx, []json.RawMessage{json.RawMessage(sensorModel)}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		tw := twin.Twin{ID: twin.ID(fmt.Sprintf("s%d", i)), Metadata: twin.Metadata{Model: "dtmi:test:Sensor;1"}, Properties: map[string]any{}}
		if _, _, err := p.PutTwin(ctx, tw, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{st: st, pipe: p}
}

func (f *fixture) count(t testing.TB, id, name string) int {
	t.Helper()
	pts, err := f.st.QueryTelemetry(context.Background(), store.TelemetryQuery{TwinID: twin.ID(id), Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return len(pts)
}

// needService skips when addr does not answer, but fails under CI=true.
func needService(t testing.TB, addr, what string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not reachable at %s (CI=true requires it): %v", what, addr, err)
	}
	t.Skipf("%s is not reachable at %s: %v", what, addr, err)
}
