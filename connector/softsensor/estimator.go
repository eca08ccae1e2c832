package softsensor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"lodestone/event"
	"lodestone/pipeline"
	"lodestone/plant/estimate"
	"lodestone/store"
	"lodestone/twin"
)

// Document kinds and the event type of the live estimators.
const (
	KindStatus = "estimator-status"
	KindAlarm  = "estimator-alarm"
	// KindAck is the document (id: the estimator's) whose every new
	// version acknowledges the estimator's alarms (POST
	// /plant/estimators/{id}/acknowledge writes it).
	KindAck = "estimator-ack"
	// KindSnapshot is the document (id: the estimator's) holding the
	// model state of its newest estimate (ModelSnapshot), stored once a
	// second while the filter's time moves and when it stops: what a
	// training session starts from (GET /plant/estimators/{id}/snapshot).
	KindSnapshot = "estimator-snapshot"
	// TypeAlarm is the type of the event published for each alarm.
	TypeAlarm = "lodestone.plant.alarm"
	// Model is the model a new estimates twin is created with.
	Model = "dtmi:lodestone:SoftSensor;1"
)

// maxAlarms bounds the alarm documents kept per estimator and the alarms
// listed in its status.
const (
	maxAlarms       = 1000
	maxStatusAlarms = 50
)

// group is one telemetry source, (twin, stored name), and the sensors
// that read it.
type group struct {
	twin    twin.ID
	name    string // stored name ("component/name" for a component's)
	rel     string // the name as a telemetry event carries it
	sensors []int
	newest  time.Time            // newest source time read
	seen    map[string]time.Time // message id → source time, within the reorder horizon
}

// Estimator runs one Spec on the telemetry events of the bus: it reads
// each new reading of its sensors from the store, feeds the filter in
// arrival order (late readings are re-filtered in their place), writes
// the estimates to its twin at most once per WriteIntervalS of data time
// and records, publishes and writes each alarm at once.
type Estimator struct {
	spec Spec
	c    *estimate.Case
	pipe *pipeline.Pipeline
	bus  event.Bus
	st   store.Store
	log  *slog.Logger
	now  func() time.Time

	groups    []*group
	bySubject map[string][]*group
	reorder   time.Duration

	// Owned by the run goroutine.
	f         *estimate.Filter
	start     time.Time
	from      time.Time // where a source's first query starts
	lastWrite float64   // t_h of the last write
	alarmSeq  int64
	lastAlarm *Alarm
	ackTag    twin.ETag // version of the acknowledgement document last acted on
	fed       int64     // readings filtered
	snapT     float64   // filter time of the last snapshot stored
	snapSaved bool

	mu     sync.Mutex
	status Status
	ready  chan struct{} // closed once subscribed
}

// Status is what GET /plant/estimators shows of an estimator.
type Status struct {
	ID    string `json:"id"`
	Twin  string `json:"twin"`
	State string `json:"state"`
	// Start is the data time of t_h = 0 (zero until the first reading when
	// the spec gives none); TH and Time the filter's time.
	Start time.Time `json:"start"`
	TH    float64   `json:"t_h"`
	Time  time.Time `json:"time"`
	// Readings counts the readings filtered; Late those re-filtered in
	// their place; TooLate those older than the re-filtering horizon;
	// BeforeStart those sampled before Start; Rejected those that are not
	// a number (or lack the key).
	Readings    int64 `json:"readings"`
	Late        int64 `json:"late"`
	TooLate     int64 `json:"tooLate"`
	BeforeStart int64 `json:"beforeStart"`
	Rejected    int64 `json:"rejected"`
	Writes      int64 `json:"writes"`
	Certified   bool  `json:"certified"`
	// Acknowledged counts the acknowledgements acted on.
	Acknowledged int64 `json:"acknowledged"`
	// NIS is the window test: the sum of the last Count NIS values (at
	// most Window) against the χ²(Window) bound.
	NIS     NIS            `json:"nis"`
	Sensors []SensorStatus `json:"sensors"`
	// Alarms are the last alarms, newest last.
	Alarms    []Alarm   `json:"alarms"`
	LastError string    `json:"lastError,omitempty"`
	Updated   time.Time `json:"updated"`
}

// NIS is the state of the window test.
type NIS struct {
	Count  int     `json:"count"`
	Window int     `json:"window"`
	Sum    float64 `json:"sum"`
	Bound  float64 `json:"bound"`
}

// SensorStatus is one sensor's source, last reading and CUSUM.
type SensorStatus struct {
	ID         string  `json:"id"`
	Twin       string  `json:"twin"`
	Telemetry  string  `json:"telemetry"`
	Readings   int64   `json:"readings"`
	LastTH     float64 `json:"last_t_h"`
	CusumPlus  float64 `json:"cusumPlus"`
	CusumMinus float64 `json:"cusumMinus"`
	Isolated   bool    `json:"isolated"`
}

// Alarm is one alarm of a live estimator: a store document of kind
// "estimator-alarm" (id "<estimator>/<12-digit seq>") and the data of a
// "lodestone.plant.alarm" event whose subject is the estimates twin.
type Alarm struct {
	Estimator string         `json:"estimator"`
	Twin      string         `json:"twin"`
	Seq       int64          `json:"seq"`
	Kind      estimate.Kind  `json:"kind"`
	Sensor    string         `json:"sensor,omitempty"`
	TH        float64        `json:"t_h"`
	Time      time.Time      `json:"time"`
	Raised    time.Time      `json:"raised"`
	Source    *AlarmSource   `json:"source,omitempty"`
	Detector  map[string]any `json:"detector,omitempty"`
}

// AlarmSource is the telemetry the drifting sensor reads.
type AlarmSource struct {
	Twin      string `json:"twin"`
	Telemetry string `json:"telemetry"`
	Key       string `json:"key,omitempty"`
}

// New prepares an estimator on a checked spec (from DecodeConfig); Run
// starts it.
func New(spec Spec, pipe *pipeline.Pipeline, bus event.Bus, log *slog.Logger) (*Estimator, error) {
	if spec.c == nil {
		return nil, fmt.Errorf("softsensor: estimator %q: spec not checked (use DecodeConfig)", spec.ID)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Estimator{spec: spec, c: spec.c, pipe: pipe, bus: bus, st: pipe.Store(), now: time.Now,
		log:       log.With("component", "softsensor", "estimator", spec.ID),
		bySubject: map[string][]*group{}, lastWrite: math.Inf(-1), ready: make(chan struct{}),
		reorder: time.Duration(spec.ReorderH * float64(time.Hour))}
	idx := map[[2]string]*group{}
	for k, s := range spec.Sensors {
		key := [2]string{s.Source.Twin, s.Source.name()}
		g := idx[key]
		if g == nil {
			g = &group{twin: twin.ID(s.Source.Twin), name: s.Source.name(), rel: s.Source.Telemetry, seen: map[string]time.Time{}}
			idx[key] = g
			e.groups = append(e.groups, g)
			subj := s.Source.Twin
			if s.Source.Component != "" {
				subj = event.ComponentSubject(s.Source.Twin, s.Source.Component)
			}
			e.bySubject[subj] = append(e.bySubject[subj], g)
		}
		g.sensors = append(g.sensors, k)
	}
	e.status = Status{ID: spec.ID, Twin: spec.Twin, State: "starting", Certified: true, Alarms: []Alarm{}}
	if spec.Start != nil {
		e.start = *spec.Start
		e.status.Start = e.start
	}
	for _, s := range spec.Sensors {
		e.status.Sensors = append(e.status.Sensors, SensorStatus{ID: *s.ID, Twin: s.Source.Twin, Telemetry: s.Source.name()})
	}
	return e, nil
}

// Ready is closed once the estimator is subscribed to the bus: telemetry
// stored after that is seen.
func (e *Estimator) Ready() <-chan struct{} { return e.ready }

// Status returns the estimator's status now.
func (e *Estimator) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.status
	st.Sensors = slices.Clone(st.Sensors)
	st.Alarms = slices.Clone(st.Alarms)
	st.Updated = e.now().UTC()
	return st
}

// Run subscribes to the telemetry events of the sensors' twins and filters
// their readings until ctx ends. It returns an error only if it cannot
// start (the estimates twin cannot be made, the bus refuses the
// subscription).
func (e *Estimator) Run(ctx context.Context) error {
	if err := e.ensureTwin(ctx); err != nil {
		e.fail(err)
		return err
	}
	f := event.Filter{Types: []string{event.TypeTelemetry}}
	for subj := range e.bySubject {
		f.Subjects = append(f.Subjects, subj)
	}
	slices.Sort(f.Subjects)
	sub, err := e.bus.Subscribe(ctx, f, event.Start{New: true})
	if err != nil {
		err = fmt.Errorf("softsensor: estimator %s: subscribe: %w", e.spec.ID, err)
		e.fail(err)
		return err
	}
	defer sub.Close()
	if d, err := e.st.GetDoc(ctx, KindAck, e.spec.ID); err == nil {
		e.ackTag = d.ETag // an acknowledgement of an earlier run
	}
	e.setState("running")
	close(e.ready)
	// The readings stored before the subscription are read once: from
	// the start time on, or (no start time) from now less reorder_h.
	e.from = e.start
	if e.from.IsZero() {
		e.from = e.now().Add(-e.reorder)
	}
	e.pollAll(ctx)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	msgs := make(chan event.Message, 256)
	errc := make(chan error, 1)
	go func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
	}()
	for {
		select {
		case m := <-msgs:
			// Take every event already delivered, then read all sources
			// once: what the store holds now is what has arrived.
			seen := e.names(m.Event)
		drain:
			for {
				select {
				case m := <-msgs:
					seen = e.names(m.Event) || seen
				default:
					break drain
				}
			}
			if seen {
				e.pollAll(ctx)
			}
		case <-tick.C:
			e.acknowledge(ctx)
			e.saveStatus(ctx)
			e.saveSnapshot(ctx)
		case err := <-errc:
			wctx := context.WithoutCancel(ctx)
			e.write(wctx)
			e.setState("stopped")
			e.saveStatus(wctx)
			e.saveSnapshot(wctx)
			if errors.Is(err, event.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			e.fail(err)
			return nil
		}
	}
}

// ensureTwin creates the estimates twin when it does not exist.
func (e *Estimator) ensureTwin(ctx context.Context) error {
	_, err := e.st.GetTwin(ctx, twin.ID(e.spec.Twin))
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	t := twin.Twin{ID: twin.ID(e.spec.Twin), Metadata: twin.Metadata{Model: Model},
		Properties: map[string]any{"estimator": e.spec.ID, "certified": true}}
	if _, _, err := e.pipe.PutTwin(ctx, t, store.Condition{IfNoneMatch: true}); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("softsensor: estimator %s: create twin %s: %w", e.spec.ID, e.spec.Twin, err)
	}
	return nil
}

// names reports whether an event carries telemetry a sensor reads.
func (e *Estimator) names(ev event.Event) bool {
	gs := e.bySubject[ev.Subject]
	if len(gs) == 0 {
		return false
	}
	var names map[string]json.RawMessage
	if json.Unmarshal(ev.Data, &names) != nil {
		return false
	}
	for _, g := range gs {
		if _, ok := names[g.rel]; ok {
			return true
		}
	}
	return false
}

// pollAll reads the new points of every source and filters them in
// source-time order. Reading all sources together, not just the one an
// event names, keeps the order right when the estimator is behind: the
// store then holds later readings of one source than the event, and
// filtering them before the other sources' would push the filter past
// readings that arrived earlier.
func (e *Estimator) pollAll(ctx context.Context) {
	var rs []reading
	for _, g := range e.groups {
		rs = append(rs, e.poll(ctx, g)...)
	}
	e.feedAll(ctx, rs)
}

// feedAll filters readings in source-time order (ties in the order
// given).
func (e *Estimator) feedAll(ctx context.Context, rs []reading) {
	slices.SortStableFunc(rs, func(a, b reading) int { return a.src.Compare(b.src) })
	for _, r := range rs {
		for _, k := range r.g.sensors {
			e.feed(ctx, k, r)
		}
	}
}

// reading is one value read from the store for a group.
type reading struct {
	g     *group
	src   time.Time
	value json.RawMessage
}

// querySlack bounds how far behind its newest reading a source's query
// starts: the points of one telemetry may be committed slightly out of
// order (a connector's writers run in parallel).
const querySlack = time.Minute

// poll returns the points of g not seen yet, read from the newest source
// time seen less min(reorder_h, 1 min) (a sensor's own readings arrive
// nearly in order).
func (e *Estimator) poll(ctx context.Context, g *group) []reading {
	from := g.newest.Add(-min(e.reorder, querySlack))
	if g.newest.IsZero() {
		from = e.from
	}
	pts, err := e.st.QueryTelemetry(ctx, store.TelemetryQuery{TwinID: g.twin, Name: g.name, From: from})
	if err != nil {
		e.fail(fmt.Errorf("read telemetry %s %s: %w", g.twin, g.name, err))
		return nil
	}
	var fresh []reading
	for _, p := range pts {
		src := p.SourceTime
		if src.IsZero() {
			src = p.EnqueuedTime
		}
		if _, ok := g.seen[p.MessageID]; ok {
			continue
		}
		g.seen[p.MessageID] = src
		fresh = append(fresh, reading{g: g, src: src, value: p.Value})
		if src.After(g.newest) {
			g.newest = src
		}
	}
	cut := g.newest.Add(-min(e.reorder, querySlack))
	maps.DeleteFunc(g.seen, func(_ string, t time.Time) bool { return t.Before(cut) })
	return fresh
}

// value reads sensor k's number in mg/L from a stored value.
func (e *Estimator) value(k int, raw json.RawMessage) (float64, bool) {
	src := e.spec.Sensors[k].Source
	var v float64
	if src.Key != "" {
		var m map[string]float64
		if json.Unmarshal(raw, &m) != nil {
			return 0, false
		}
		x, ok := m[src.Key]
		if !ok {
			return 0, false
		}
		v = x
	} else if json.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	if src.Factor != nil {
		v *= *src.Factor
	}
	return v, !math.IsNaN(v) && !math.IsInf(v, 0)
}

// feed filters one reading of sensor k.
func (e *Estimator) feed(ctx context.Context, k int, r reading) {
	v, ok := e.value(k, r.value)
	if !ok {
		e.count(func(s *Status) { s.Rejected++ })
		return
	}
	if e.f == nil {
		if e.start.IsZero() {
			e.start = r.src
		}
		f, err := estimate.New(ctx, e.c.Cascade.Problem, e.c.Sensors, &e.c.Options)
		if err != nil {
			e.fail(err)
			return
		}
		e.f = f
		e.count(func(s *Status) { s.Start = e.start })
	}
	th := r.src.Sub(e.start).Hours()
	if th < 0 {
		e.count(func(s *Status) { s.BeforeStart++ })
		return
	}
	late := th < e.f.Time()
	alarms, err := e.f.Add(ctx, estimate.Measurement{T: th, Sensor: k, Value: e.c.MolPerL(k, v)})
	switch {
	case errors.Is(err, estimate.ErrTooLate):
		e.count(func(s *Status) { s.TooLate++ })
		return
	case err != nil:
		e.fail(fmt.Errorf("filter: %w", err))
		return
	}
	e.count(func(s *Status) {
		s.Readings++
		if late {
			s.Late++
		}
		ss := &s.Sensors[k]
		ss.Readings++
		ss.LastTH = max(ss.LastTH, th)
	})
	for _, a := range alarms {
		e.raise(ctx, a)
	}
	e.snapshot()
	if len(alarms) > 0 || (e.f.Time()-e.lastWrite)*3600 >= e.spec.WriteIntervalS {
		e.write(ctx)
	}
	// The filter's record of estimates and innovations is only needed
	// over the re-filtering horizon: keep it bounded even when writes fail.
	if e.fed++; e.fed%100 == 0 {
		e.f.Forget(e.f.Time() - e.c.Options.Horizon - 1)
	}
}

// acknowledge acts on a new version of the acknowledgement document: the
// filter's alarms no longer hold certification, isolated sensors return
// to service, and the twin is written at once.
func (e *Estimator) acknowledge(ctx context.Context) {
	d, err := e.st.GetDoc(ctx, KindAck, e.spec.ID)
	if err != nil || d.ETag == e.ackTag {
		return
	}
	e.ackTag = d.ETag
	e.count(func(s *Status) { s.Acknowledged++ })
	if e.f == nil {
		return
	}
	e.f.Acknowledge()
	e.log.Info("soft sensor alarms acknowledged")
	e.snapshot()
	e.write(ctx)
}

// snapshot copies the filter's state into the status.
func (e *Estimator) snapshot() {
	d := e.f.Detectors()
	t := e.f.Time()
	e.count(func(s *Status) {
		s.TH, s.Time, s.Certified = t, e.dataTime(t), e.f.Certified()
		s.NIS = NIS{Count: d.NISCount, Window: d.Window, Sum: d.NISSum, Bound: d.NISBound}
		for k := range s.Sensors {
			s.Sensors[k].CusumPlus, s.Sensors[k].CusumMinus, s.Sensors[k].Isolated = d.CusumPlus[k], d.CusumMinus[k], d.Isolated[k]
		}
	})
}

// dataTime is the data time of t_h.
func (e *Estimator) dataTime(th float64) time.Time {
	return e.start.Add(time.Duration(th * float64(time.Hour))).UTC()
}

// raise records an alarm (document), publishes its event and keeps it in
// the status.
func (e *Estimator) raise(ctx context.Context, a estimate.Alarm) {
	e.alarmSeq++
	rec := Alarm{Estimator: e.spec.ID, Twin: e.spec.Twin, Seq: e.alarmSeq, Kind: a.Kind, Sensor: a.Sensor, TH: a.T,
		Time: e.dataTime(a.T), Raised: e.now().UTC()}
	for _, s := range e.spec.Sensors {
		if a.Sensor != "" && *s.ID == a.Sensor {
			rec.Source = &AlarmSource{Twin: s.Source.Twin, Telemetry: s.Source.name(), Key: s.Source.Key}
		}
	}
	e.lastAlarm = &rec
	e.log.Warn("soft sensor alarm", "kind", string(a.Kind), "sensor", a.Sensor, "t_h", a.T)
	body, _ := json.Marshal(rec)
	wctx := context.WithoutCancel(ctx)
	id := fmt.Sprintf("%s/%012d", e.spec.ID, rec.Seq)
	if _, err := e.st.PutDoc(wctx, store.Doc{Kind: KindAlarm, ID: id, Body: body}, store.Condition{}); err != nil {
		e.fail(fmt.Errorf("record alarm: %w", err))
	}
	if old := rec.Seq - maxAlarms; old > 0 {
		e.st.DeleteDoc(wctx, KindAlarm, fmt.Sprintf("%s/%012d", e.spec.ID, old), store.Condition{})
	}
	ev := event.Event{ID: event.StableID(TypeAlarm, e.pipe.Source(), e.spec.ID, e.start.Format(time.RFC3339Nano), strconv.FormatInt(rec.Seq, 10)),
		Source: e.pipe.Source(), Type: TypeAlarm, Subject: e.spec.Twin, Time: rec.Raised, Data: body}
	if err := e.bus.Publish(wctx, ev); err != nil {
		e.fail(fmt.Errorf("publish alarm: %w", err))
	}
	e.count(func(s *Status) {
		s.Alarms = append(s.Alarms, rec)
		if n := len(s.Alarms); n > maxStatusAlarms {
			s.Alarms = s.Alarms[n-maxStatusAlarms:]
		}
	})
}

// write patches the estimates twin with the newest estimate.
func (e *Estimator) write(ctx context.Context) {
	if e.f == nil {
		return
	}
	ests := e.f.Estimates()
	if len(ests) == 0 {
		return
	}
	est := ests[len(ests)-1]
	stages := make([]any, len(est.Aqueous))
	for k := range est.Aqueous {
		stages[k] = map[string]any{"stage": k + 1, "aqueousMgPerL": e.c.Stage(est.Aqueous[k]), "organicMgPerL": e.c.Stage(est.Organic[k])}
	}
	theta := map[string]any{}
	for i, name := range e.c.Components() {
		theta[name] = est.Theta[i]
	}
	props := map[string]any{
		"estimator": e.spec.ID, "timeH": est.T, "estimatedAt": e.dataTime(est.T).Format(time.RFC3339Nano),
		"certified": e.f.Certified(), "stages": stages, "theta": theta,
		"alarmCount": e.alarmSeq,
	}
	if e.c.MHE != nil {
		if m := e.mhe(ctx); m != nil {
			props["mhe"] = m
		}
	}
	if a := e.lastAlarm; a != nil {
		la := map[string]any{"kind": string(a.Kind), "timeH": a.TH, "at": a.Time.Format(time.RFC3339Nano)}
		if a.Sensor != "" {
			la["sensor"] = a.Sensor
		}
		props["lastAlarm"] = la
	}
	// The model validates JSON values (map[string]any, float64): the
	// properties go through JSON once.
	b, err := json.Marshal(props)
	if err != nil {
		e.fail(fmt.Errorf("estimates: %w", err))
		return
	}
	var vals map[string]any
	json.Unmarshal(b, &vals)
	var pt twin.Patch
	for _, name := range writes {
		if v, ok := vals[name]; ok {
			pt = append(pt, twin.Operation{Op: twin.OpAdd, Path: "/" + name, Value: v})
		}
	}
	if _, err := e.pipe.PatchTwin(context.WithoutCancel(ctx), twin.ID(e.spec.Twin), pt, store.Condition{}, ""); err != nil {
		e.fail(fmt.Errorf("write estimates to %s: %w", e.spec.Twin, err))
		return
	}
	e.lastWrite = est.T
	e.count(func(s *Status) { s.Writes++ })
}

// mhe is the moving-horizon estimate for the twin, or nil while the data
// are shorter than its window (or it fails: then lastError says why).
func (e *Estimator) mhe(ctx context.Context) map[string]any {
	r, err := e.f.MHE(context.WithoutCancel(ctx), e.c.MHE)
	if errors.Is(err, estimate.ErrNoWindow) {
		return nil
	}
	if err != nil {
		e.fail(fmt.Errorf("mhe: %w", err))
		return nil
	}
	stages := make([]any, len(r.Aqueous))
	for k := range r.Aqueous {
		stages[k] = map[string]any{"stage": k + 1, "aqueousMgPerL": e.c.Stage(r.Aqueous[k]), "organicMgPerL": e.c.Stage(r.Organic[k])}
	}
	return map[string]any{"timeH": r.T, "windowStartH": r.Start, "measurements": r.Measurements, "cost": r.Cost,
		"priorCost": r.Prior, "bound": r.Bound, "stages": stages}
}

func (e *Estimator) count(f func(*Status)) {
	e.mu.Lock()
	f(&e.status)
	e.mu.Unlock()
}

func (e *Estimator) setState(s string) { e.count(func(st *Status) { st.State = s }) }

// fail records an error in the status; the estimator goes on.
func (e *Estimator) fail(err error) {
	e.log.Warn("soft sensor", "err", err)
	e.count(func(s *Status) { s.LastError = err.Error() })
}

// ModelSnapshot is the body of a KindSnapshot document: the dynamic
// model's state at the filter's newest estimate (concentrations, settler
// holdups, drifting parameters and inlets, t_h the filter's time), with the
// data time it stands for and whether the estimates were certified then.
type ModelSnapshot struct {
	Estimator string    `json:"estimator"`
	Twin      string    `json:"twin"`
	TH        float64   `json:"t_h"`
	Time      time.Time `json:"time"`
	Certified bool      `json:"certified"`
	// Snapshot is the dynamic.Snapshot of process/sx/dynamic, as JSON
	// (this package may not import the process layer).
	Snapshot json.RawMessage `json:"snapshot"`
}

// saveSnapshot stores the filter's model state when its time moved since
// the last one stored. Run's goroutine only (it owns the filter).
func (e *Estimator) saveSnapshot(ctx context.Context) {
	if e.f == nil || e.fed == 0 {
		return
	}
	t := e.f.Time()
	if e.snapSaved && t == e.snapT {
		return
	}
	snap, err := json.Marshal(e.f.Stepper().Snapshot())
	var body []byte
	if err == nil {
		body, err = json.Marshal(ModelSnapshot{Estimator: e.spec.ID, Twin: e.spec.Twin, TH: t, Time: e.dataTime(t), Certified: e.f.Certified(), Snapshot: snap})
	}
	if err != nil {
		e.fail(fmt.Errorf("snapshot: %w", err))
		return
	}
	if _, err := e.st.PutDoc(context.WithoutCancel(ctx), store.Doc{Kind: KindSnapshot, ID: e.spec.ID, Body: body}, store.Condition{}); err != nil {
		e.log.Warn("snapshot not stored", "err", err)
		return
	}
	e.snapT, e.snapSaved = t, true
}

func (e *Estimator) saveStatus(ctx context.Context) {
	body, _ := json.Marshal(e.Status())
	if _, err := e.st.PutDoc(context.WithoutCancel(ctx), store.Doc{Kind: KindStatus, ID: e.spec.ID, Body: body}, store.Condition{}); err != nil {
		e.log.Warn("status not stored", "err", err)
	}
}
