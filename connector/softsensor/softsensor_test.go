package softsensor

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/event"
	"lodestone/event/membus"
	"lodestone/models"
	"lodestone/pipeline"
	"lodestone/plant/estimate"
	"lodestone/process/sx/dynamic"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/twin"
)

// fixture is a store with the ontology, the analyser twins of
// testdata/estimators.json, an in-process bus and the pipeline.
type fixture struct {
	st   store.Store
	bus  event.Bus
	pipe *pipeline.Pipeline
	cfg  Config
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus := membus.New(nil)
	t.Cleanup(func() { bus.Close() })
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Bus: bus, RelayInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	var raws []json.RawMessage
	for _, f := range models.Files() {
		raws = append(raws, f.Data)
	}
	if _, err := p.PutModels(ctx, raws); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"xrf-raff", "xrf-feed", "xrf-org", "lab-org"} {
		tw := twin.Twin{ID: twin.ID(id), Metadata: twin.Metadata{Model: models.Analyser}, Properties: map[string]any{}}
		if _, _, err := p.PutTwin(ctx, tw, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("testdata/estimators.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := DecodeConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, bus: bus, pipe: p, cfg: cfg}
}

// plant is the synthetic truth: the dynamic cascade of the spec (the
// filter's own model, started at its steady state), read by the spec's
// sensors with their noise.
type plant struct {
	spec  Spec
	truth *dynamic.Stepper
	rng   *rand.Rand
}

func newPlant(t *testing.T, spec Spec, seed uint64) *plant {
	t.Helper()
	truth, err := dynamic.NewStepper(context.Background(), spec.c.Cascade.Problem, &dynamic.StepperOptions{MaxStep: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	return &plant{spec: spec, truth: truth, rng: rand.New(rand.NewPCG(seed, 3))}
}

// read returns sensor k's reading now in mg/L (bias in its σ).
func (p *plant) read(k int, bias float64) float64 {
	s := p.spec.c.Sensors[k]
	v := p.truth.State(nil)[p.truth.Index(s.Stage, s.Comp)]
	if s.Organic {
		v, _, _, _ = p.truth.Organic(s.Stage, s.Comp)
	}
	mg := *p.spec.Sensors[k].SDMgPerL / s.SD // mg/L per mol/L
	return v*mg + (p.rng.NormFloat64()+bias)*(*p.spec.Sensors[k].SDMgPerL)
}

// drive steps the plant 0.1 h at a time for steps samples and posts the
// analysers' readings through the pipeline as telemetry at their sample
// time; the lab samples every hour and its assay is posted delay_h later
// (out of sequence). Sensor biased reads bias σ high from sample biasFrom.
// It returns how many readings it posted.
func (f *fixture) drive(t *testing.T, p *plant, steps, biased, biasFrom int, bias float64) int {
	t.Helper()
	ctx := context.Background()
	spec := p.spec
	start := *spec.Start
	type post struct {
		at     float64 // arrival, h
		tw     string
		sample float64
		values map[string]float64
	}
	var queue []post
	n := 0
	send := func(q post) {
		assay := map[string]any{}
		for k, v := range q.values {
			assay[k] = v
		}
		msg := pipeline.Telemetry{TwinID: twin.ID(q.tw), MessageID: fmt.Sprintf("%s-%.1f", q.tw, q.sample),
			SourceTime: start.Add(time.Duration(q.sample * float64(time.Hour))), Values: map[string]any{"assay": assay}}
		if err := f.pipe.AppendTelemetry(ctx, msg); err != nil {
			t.Fatal(err)
		}
		n += len(q.values)
	}
	for k := 1; k <= steps; k++ {
		tk := float64(k) / 10
		if err := p.truth.Advance(ctx, tk, nil); err != nil {
			t.Fatal(err)
		}
		byTwin := map[string]map[string]float64{}
		var order []string
		for j, s := range spec.Sensors {
			delay := 0.0
			if s.DelayH != nil {
				delay = *s.DelayH
			}
			if delay > 0 && k%10 != 0 {
				continue // the lab samples every hour
			}
			b := 0.0
			if j == biased && k >= biasFrom {
				b = bias
			}
			v := p.read(j, b)
			if delay > 0 {
				queue = append(queue, post{at: tk + delay, tw: s.Source.Twin, sample: tk, values: map[string]float64{s.Source.Key: v}})
				continue
			}
			if byTwin[s.Source.Twin] == nil {
				byTwin[s.Source.Twin] = map[string]float64{}
				order = append(order, s.Source.Twin)
			}
			byTwin[s.Source.Twin][s.Source.Key] = v
		}
		for len(queue) > 0 && queue[0].at <= tk+1e-9 {
			send(queue[0])
			queue = queue[1:]
		}
		for _, tw := range order {
			send(post{tw: tw, sample: tk, values: byTwin[tw]})
		}
	}
	return n
}

// run starts the estimator of the fixture's file, drives the plant and
// waits until every reading is filtered.
func (f *fixture) run(t *testing.T, steps, biased, biasFrom int, bias float64) (*Estimator, []event.Message) {
	return f.runThen(t, steps, biased, biasFrom, bias, nil)
}

// runThen is run with then called on the running estimator before it is
// stopped.
func (f *fixture) runThen(t *testing.T, steps, biased, biasFrom int, bias float64, then func(ctx context.Context, e *Estimator)) (*Estimator, []event.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alarms, err := f.bus.Subscribe(ctx, event.Filter{Types: []string{TypeAlarm}}, event.Start{New: true})
	if err != nil {
		t.Fatal(err)
	}
	defer alarms.Close()
	m, err := Start(ctx, f.cfg, f.pipe, f.bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := m.Estimators()[0]
	n := f.drive(t, newPlant(t, f.cfg.Estimators[0], 11), steps, biased, biasFrom, bias)
	for {
		st := e.Status()
		if st.Readings+st.TooLate+st.Rejected >= int64(n) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d readings filtered: %+v", st.Readings, n, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if then != nil {
		then(ctx, e)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var evs []event.Message
	for {
		c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		msg, err := alarms.Next(c)
		cancel()
		if err != nil {
			break
		}
		evs = append(evs, msg)
	}
	return e, evs
}

// TestLiveDrift: telemetry of the synthetic plant posted through the
// pipeline, one analyser reading 5 σ high from 5 h: the live estimator
// raises sensor_drift naming it within 10 of its samples, records and
// publishes the alarm, and writes certified false to its twin.
func TestLiveDrift(t *testing.T) {
	f := setup(t)
	const biased, from = 2, 50 // xrf-feed-Nd from 5.0 h
	e, evs := f.run(t, 80, biased, from, 5)
	st := e.Status()
	if st.TooLate != 0 || st.Rejected != 0 || st.Late == 0 {
		t.Errorf("too late %d, rejected %d, late (lab) %d: %+v", st.TooLate, st.Rejected, st.Late, st)
	}
	var drift *Alarm
	for i, a := range st.Alarms {
		if a.Kind == estimate.SensorDrift && drift == nil {
			drift = &st.Alarms[i]
		}
		if a.Kind == estimate.SensorDrift && a.Sensor != "xrf-feed-Nd" {
			t.Errorf("sensor_drift on %s, a clean sensor", a.Sensor)
		}
	}
	if drift == nil || drift.Sensor != "xrf-feed-Nd" {
		t.Fatalf("no sensor_drift on xrf-feed-Nd: %+v", st.Alarms)
	}
	if drift.TH < 5-1e-9 || drift.TH > 5+0.1*9+1e-9 {
		t.Errorf("sensor_drift at %v h, want within 10 samples of the bias at 5 h", drift.TH)
	}
	if drift.Source == nil || drift.Source.Twin != "xrf-feed" || drift.Source.Key != "Nd" {
		t.Errorf("alarm source %+v, want xrf-feed assay Nd", drift.Source)
	}
	if st.Certified {
		t.Error("certified after an alarm")
	}
	if len(evs) != len(st.Alarms) {
		t.Errorf("%d alarm events, %d alarms", len(evs), len(st.Alarms))
	}
	for _, m := range evs {
		if m.Event.Subject != "ndpr-1-softsensor" || !strings.Contains(string(m.Event.Data), `"kind"`) {
			t.Errorf("alarm event %+v", m.Event)
		}
	}
	docs, err := f.st.ListDocs(context.Background(), KindAlarm)
	if err != nil || len(docs) != len(st.Alarms) {
		t.Errorf("%d alarm documents (%v), want %d", len(docs), err, len(st.Alarms))
	}
	tw, err := f.st.GetTwin(context.Background(), "ndpr-1-softsensor")
	if err != nil {
		t.Fatal(err)
	}
	la, _ := tw.Properties["lastAlarm"].(map[string]any)
	if tw.Properties["certified"] != false || la == nil || tw.Properties["alarmCount"] == nil {
		t.Errorf("twin after the alarm: %v", tw.Properties)
	}
	doc, err := f.st.GetDoc(context.Background(), KindStatus, "ndpr-1")
	if err != nil || !strings.Contains(string(doc.Body), `"sensor_drift"`) {
		t.Errorf("status document: %v %s", err, doc.Body)
	}
}

// TestLiveAcknowledge: after a drift alarm, a new version of the
// acknowledgement document (what POST /plant/estimators/{id}/acknowledge
// writes) certifies the estimates again, on the twin too, and returns the
// isolated sensor to service.
func TestLiveAcknowledge(t *testing.T) {
	f := setup(t)
	e, _ := f.runThen(t, 60, 2, 50, 5, func(ctx context.Context, e *Estimator) {
		if st := e.Status(); st.Certified || len(st.Alarms) == 0 {
			t.Fatalf("no alarm before the acknowledgement: %+v", st)
		}
		if _, err := f.st.PutDoc(ctx, store.Doc{Kind: KindAck, ID: "ndpr-1", Body: []byte(`{"by":"test"}`)}, store.Condition{}); err != nil {
			t.Fatal(err)
		}
		for st := e.Status(); !st.Certified || st.Acknowledged != 1; st = e.Status() {
			if ctx.Err() != nil {
				t.Fatalf("never acknowledged: %+v", st)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	st := e.Status()
	for _, s := range st.Sensors {
		if s.Isolated {
			t.Errorf("sensor %s still isolated after the acknowledgement", s.ID)
		}
	}
	tw, err := f.st.GetTwin(context.Background(), "ndpr-1-softsensor")
	if err != nil || tw.Properties["certified"] != true {
		t.Errorf("twin after the acknowledgement: %v %v", tw.Properties["certified"], err)
	}
}

// TestLiveClean: on clean data the live estimator raises no alarm, keeps
// the estimates certified, and writes them at most once per
// write_interval_s of data time.
func TestLiveClean(t *testing.T) {
	f := setup(t)
	const steps = 80
	e, evs := f.run(t, steps, -1, 0, 0)
	st := e.Status()
	t.Logf("readings %d (late %d, too late %d), writes %d, NIS %+v", st.Readings, st.Late, st.TooLate, st.Writes, st.NIS)
	if len(st.Alarms) != 0 || len(evs) != 0 || !st.Certified {
		t.Errorf("clean data: alarms %+v, events %d, certified %v", st.Alarms, len(evs), st.Certified)
	}
	if st.NIS.Count != st.NIS.Window || st.NIS.Sum > st.NIS.Bound || st.NIS.Bound == 0 {
		t.Errorf("NIS window %+v", st.NIS)
	}
	// 8 h of data, one write per 1800 s: at most 16 in the run and one at
	// the stop.
	hours := float64(steps) / 10
	if maxWrites := int64(hours*3600/f.cfg.Estimators[0].WriteIntervalS) + 2; st.Writes == 0 || st.Writes > maxWrites {
		t.Errorf("%d writes, want 1..%d", st.Writes, maxWrites)
	}
	tw, err := f.st.GetTwin(context.Background(), "ndpr-1-softsensor")
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := tw.Properties["stages"].([]any)
	if tw.Properties["certified"] != true || len(stages) != 8 || tw.Metadata.Model != Model {
		t.Fatalf("twin: %v", tw)
	}
	if th, _ := tw.Properties["timeH"].(float64); th < hours-0.1-1e-9 {
		t.Errorf("timeH %v, want %v", th, hours)
	}
	// The moving-horizon estimate of the last hour, with the estimates.
	mhe, _ := tw.Properties["mhe"].(map[string]any)
	mstages, _ := mhe["stages"].([]any)
	cost, _ := mhe["cost"].(float64)
	prior, _ := mhe["priorCost"].(float64)
	if n, _ := mhe["measurements"].(float64); len(mstages) != 8 || cost > prior || n == 0 {
		t.Errorf("mhe on the twin: %v", mhe)
	}
	s1, _ := stages[0].(map[string]any)
	aq, _ := s1["aqueousMgPerL"].(map[string]any)
	if nd, _ := aq["Nd"].(float64); nd < 5000 || nd > 15000 {
		t.Errorf("stage 1 aqueous Nd %v mg/L, want near the raffinate analyser's 9,600", aq["Nd"])
	}
	// The model state of the newest estimate, stored at the stop: what a
	// training session starts from.
	doc, err := f.st.GetDoc(context.Background(), KindSnapshot, "ndpr-1")
	if err != nil {
		t.Fatalf("snapshot document: %v", err)
	}
	var ms ModelSnapshot
	if err := json.Unmarshal(doc.Body, &ms); err != nil {
		t.Fatal(err)
	}
	var snap struct {
		T      float64   `json:"t_h"`
		U      []float64 `json:"u"`
		Inlets []any     `json:"inlets"`
	}
	if err := json.Unmarshal(ms.Snapshot, &snap); err != nil {
		t.Fatal(err)
	}
	if ms.Estimator != "ndpr-1" || ms.Twin != "ndpr-1-softsensor" || ms.TH != st.TH || snap.T != st.TH || !ms.Certified || len(snap.U) == 0 || len(snap.Inlets) == 0 {
		t.Errorf("snapshot t_h %v (status %v), %d states, %d inlets, certified %v", ms.TH, st.TH, len(snap.U), len(snap.Inlets), ms.Certified)
	}
}

// TestDecodeConfigErrors: errors name the field.
func TestDecodeConfigErrors(t *testing.T) {
	b, err := os.ReadFile("testdata/estimators.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var v map[string]any
		json.Unmarshal(b, &v)
		f(v["estimators"].([]any)[0].(map[string]any))
		out, _ := json.Marshal(v)
		return string(out)
	}
	sensor := func(m map[string]any, k int) map[string]any { return m["sensors"].([]any)[k].(map[string]any) }
	for _, tt := range []struct{ name, in, want string }{
		{"unknown field", edit(func(m map[string]any) { m["nope"] = 1 }), `unknown field "nope"`},
		{"no id", edit(func(m map[string]any) { delete(m, "id") }), "estimators[0].id"},
		{"no twin", edit(func(m map[string]any) { delete(m, "twin") }), "estimators[0].twin: required"},
		{"negative interval", edit(func(m map[string]any) { m["write_interval_s"] = -1 }), "estimators[0].write_interval_s"},
		{"no source twin", edit(func(m map[string]any) { delete(sensor(m, 1)["source"].(map[string]any), "twin") }), "estimators[0].sensors[1].source.twin: required"},
		{"bad factor", edit(func(m map[string]any) { sensor(m, 0)["source"].(map[string]any)["factor"] = 0 }), "estimators[0].sensors[0].source.factor"},
		{"bad stage", edit(func(m map[string]any) { sensor(m, 2)["stage"] = 9 }), "estimators[0].sensors[2].stage: 9 is outside 1..8"},
		{"unknown element", edit(func(m map[string]any) { sensor(m, 0)["element"] = "Xx" }), "estimators[0].sensors[0].element"},
		{"no cascade", edit(func(m map[string]any) { delete(m, "cascade") }), "estimators[0].cascade: missing"},
		{"trailing", string(b) + "{}", "trailing data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeConfig([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestStartChecksSources: a source the twin's model lacks, or a map
// telemetry without a key, stops the start with the field named.
func TestStartChecksSources(t *testing.T) {
	f := setup(t)
	for _, tt := range []struct {
		name string
		edit func(s *Sensor)
		want string
	}{
		{"no twin", func(s *Sensor) { s.Source.Twin = "ghost" }, `estimators[0].sensors[0].source.twin: there is no twin "ghost"`},
		{"no telemetry", func(s *Sensor) { s.Source.Telemetry = "nope" }, `estimators[0].sensors[0].source.telemetry: model dtmi:lodestone:Analyser;1 has no telemetry "nope"`},
		{"map without key", func(s *Sensor) { s.Source.Key = "" }, "estimators[0].sensors[0].source.telemetry"},
		{"key on a number", func(s *Sensor) { s.Source.Telemetry = "pH" }, "estimators[0].sensors[0].source.key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Estimators: []Spec{f.cfg.Estimators[0]}}
			cfg.Estimators[0].Sensors = append([]Sensor(nil), cfg.Estimators[0].Sensors...)
			tt.edit(&cfg.Estimators[0].Sensors[0])
			m, err := Start(context.Background(), cfg, f.pipe, f.bus, nil)
			if err == nil {
				m.Stop(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeConfig(f *testing.F) {
	b, err := os.ReadFile("testdata/estimators.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"estimators":[{"id":"a","twin":"b","cascade":{},"sensors":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(data)
		if err != nil {
			return
		}
		for _, s := range cfg.Estimators {
			if s.c == nil || s.ID == "" || s.WriteIntervalS <= 0 {
				t.Fatalf("accepted an unchecked spec %+v", s)
			}
		}
	})
}
