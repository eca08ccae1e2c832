package connector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/connector"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

// freeModel is a second model with the same members as sensorModel, left
// unmarked.
var freeModel = strings.Replace(sensorModel, "dtmi:test:Sensor;1", "dtmi:test:Free;1", 1)

// TestMQTTSignatureRequired: with the sensor model marked "signatures:
// required", an MQTT connector's values (telemetry and properties) for its
// twins are dead-lettered with the reason, while values for twins of an
// unmarked model are stored.
func TestMQTTSignatureRequired(t *testing.T) {
	needService(t, broker, "Mosquitto")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	marks := pipeline.NewSignatureMarks(st, nil)
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Signatures: marks, RelayInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	if _, err := p.PutModels(ctx, []json.RawMessage{json.RawMessage(sensorModel), json.RawMessage(freeModel)}); err != nil {
		t.Fatal(err)
	}
	// s0, s1: marked model; s2, s3: unmarked.
	for i, m := range []string{"dtmi:test:Sensor;1", "dtmi:test:Sensor;1", "dtmi:test:Free;1", "dtmi:test:Free;1"} {
		tw := twin.Twin{ID: twin.ID(fmt.Sprintf("s%d", i)), Metadata: twin.Metadata{Model: m}, Properties: map[string]any{}}
		if _, _, err := p.PutTwin(ctx, tw, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(map[string]any{"model": "dtmi:test:Sensor;1", "required": true})
	if _, err := st.PutDoc(ctx, store.Doc{Kind: pipeline.DocModelSignatures, ID: "dtmi:test:Sensor;1", Body: b}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	marks.Invalidate()

	f := &fixture{st: st, pipe: p}
	r, pub, prefix, stop := mqttRun(t, f, 50)
	defer stop()
	const perTwin = 20
	msgs := 0
	for i := range perTwin {
		for tw := range 4 {
			pub.Publish(fmt.Sprintf("%s/s%d/value", prefix, tw), 1, false, fmt.Sprintf(`{"value": %d}`, i)).Wait()
			msgs++
		}
	}
	for tw := range 4 {
		pub.Publish(fmt.Sprintf("%s/s%d/sp", prefix, tw), 1, false, `{"v": 4.5}`).Wait()
		msgs++
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.Drain(dctx, int64(msgs)); err != nil {
		t.Fatal(err)
	}
	for tw, want := range []int{0, 0, perTwin, perTwin} {
		if got := f.count(t, fmt.Sprintf("s%d", tw), "value"); got != want {
			t.Errorf("s%d: %d values stored, want %d", tw, got, want)
		}
		got, err := st.GetTwin(ctx, twin.ID(fmt.Sprintf("s%d", tw)))
		if set := err == nil && got.Properties["setpoint"] == 4.5; set != (want > 0) {
			t.Errorf("s%d: setpoint %v (%v), want set %v", tw, got.Properties["setpoint"], err, want > 0)
		}
	}
	if st := r.Status(); st.Stored != 2*perTwin+2 || st.DeadLettered != 2*perTwin+2 {
		t.Errorf("stored %d, dead-lettered %d; want %d each", st.Stored, st.DeadLettered, 2*perTwin+2)
	}
	docs, err := st.ListDocs(ctx, connector.KindDeadLetter)
	if err != nil || len(docs) != 2*perTwin+2 {
		t.Fatalf("%d dead letters (%v), want %d", len(docs), err, 2*perTwin+2)
	}
	for _, d := range docs {
		var dl connector.DeadLetter
		json.Unmarshal(d.Body, &dl)
		if (dl.Twin != "s0" && dl.Twin != "s1") || !strings.Contains(dl.Reason, "model dtmi:test:Sensor;1 requires signed writes") || !strings.Contains(dl.Reason, "not signed") {
			t.Errorf("dead letter %s: %+v", d.ID, dl)
		}
	}
}
