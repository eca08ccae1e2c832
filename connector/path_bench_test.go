package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

// BenchmarkWritePath measures the connector's own path, without a
// broker: values accepted as an MQTT handler hands them over (decoded
// payload, unit and model check, queue), then the writers' batches
// through pipeline.AppendTelemetryBatch into SQLite. One value per
// message, each with its own source time, over 10 twins: the MQTT
// benchmark's load.
func BenchmarkWritePath(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "g.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	p, err := pipeline.New(ctx, pipeline.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(ctx)
	model := `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Sensor;1","@type":"Interface","contents":[{"@type":"Telemetry","name":"value","schema":"double"}]}`
	if _, err := p.PutModels(ctx, []json.RawMessage{json.RawMessage(model)}); err != nil {
		b.Fatal(err)
	}
	const twins = 10
	for i := range twins {
		tw := twin.Twin{ID: twin.ID(fmt.Sprintf("s%d", i)), Metadata: twin.Metadata{Model: "dtmi:test:Sensor;1"}, Properties: map[string]any{}}
		if _, _, err := p.PutTwin(ctx, tw, store.Condition{}); err != nil {
			b.Fatal(err)
		}
	}
	cfg, err := DecodeConfig([]byte(`{"connectors":[{"id":"w","kind":"mqtt","broker":"tcp://x:1883","mappings":[{"topic":"p/{twin}/{telemetry}","valuePath":"value","timePath":"ts"}]}]}`))
	if err != nil {
		b.Fatal(err)
	}
	r := NewRunner(cfg.Connectors[0], p, nil)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() { r.write(ctx) })
	}
	m := &r.spec.Mappings[0]
	t0 := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tg := target{twin: twin.ID(fmt.Sprintf("s%d", i%twins)), name: "value"}
		r.accept(ctx, m, tg, Reading{Value: float64(i), Time: t0.Add(time.Duration(i) * time.Microsecond)}, "p", nil)
	}
	close(r.queue)
	wg.Wait()
	b.StopTimer()
	if _, stored, dl := r.Counts(); stored != int64(b.N) || dl != 0 {
		b.Fatalf("%d stored, %d dead-lettered of %d", stored, dl, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(b.N)/float64(max(r.batches.Load(), 1)), "values/batch")
}
