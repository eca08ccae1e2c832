package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/dtdl"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// Document kinds the connectors keep in the store.
const (
	KindStatus     = "connector-status"
	KindDeadLetter = "dead-letter"
)

// sample is one value on its way from a source to the pipeline.
type sample struct {
	twin      twin.ID
	component string
	name      string
	property  bool
	value     any
	source    time.Time // zero: the arrival time is used
	arrived   time.Time
}

// target is where a mapping's value goes, resolved for one message.
type target struct {
	twin      twin.ID
	component string
	name      string
	property  bool
}

// Runner runs one connector: a source (MQTT or OPC UA) feeding a bounded
// queue, and writers draining it into the pipeline in batches.
type Runner struct {
	spec Spec
	pipe *pipeline.Pipeline
	st   store.Store
	log  *slog.Logger
	now  func() time.Time

	queue chan sample

	received, stored, deadLettered, batches, reconnects atomic.Int64
	dlSeq, msgSeq                                       atomic.Int64
	connected                                           atomic.Bool

	mu      sync.Mutex
	lastErr string
	lat     []float64 // ring of latencies in ms
	latN    int
	state   string

	models sync.Map // twin.ID → model id
	// run makes message ids unique across runs: the store takes a
	// repeated (twin, message id, name) for a retry and ignores it.
	run string

	// lag, when set, is told the age of the newest value of each stored
	// batch (source time to stored).
	lag func(connector string, lag time.Duration)
}

// NewRunner prepares a connector; Run starts it.
func NewRunner(spec Spec, pipe *pipeline.Pipeline, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		spec: spec, pipe: pipe, st: pipe.Store(), now: time.Now,
		log:   log.With("component", "connector", "connector", spec.ID),
		queue: make(chan sample, spec.Queue),
		lat:   make([]float64, 0, 4096),
		state: "starting",
		run:   strconv.FormatInt(time.Now().UnixNano(), 36),
	}
}

// OnLag sets the function told, after each stored batch, the age of its
// newest value (from its source time, or its arrival when the source gives
// none, to its being stored): the server sets the lodestone_connector_lag_seconds
// gauge with it. Call it before Run.
func (r *Runner) OnLag(f func(connector string, lag time.Duration)) { r.lag = f }

// writers is how many goroutines drain the queue into the pipeline.
const writers = 2

// Run runs the connector until ctx ends, then writes what is queued and
// its last status. It returns an error only if the connector cannot
// start at all.
func (r *Runner) Run(ctx context.Context) error {
	if r.spec.Org != "" {
		// A connector configured as a twin writes as its twin's org, so
		// the pipeline lets it write only what that org may write.
		ctx = auth.NewContext(ctx, auth.Principal{Subject: "connector:" + r.spec.ID, Org: r.spec.Org, Roles: []auth.Role{auth.Writer}, Method: "connector"})
	}
	wctx := context.WithoutCancel(ctx) // the writers finish the queue
	rctx, stopReport := context.WithCancel(wctx)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() { r.write(wctx) })
	}
	wg.Go(func() { r.report(rctx) })
	var err error
	switch r.spec.Kind {
	case "mqtt":
		err = r.runMQTT(ctx)
	case "opcua":
		err = r.runOPCUA(ctx)
	}
	r.setState("draining")
	close(r.queue) // the writers take what is left, then stop
	stopReport()
	wg.Wait()
	r.setState("stopped")
	r.saveStatus(context.WithoutCancel(ctx))
	return err
}

// Drain waits until the queue is empty and every value taken from it is
// written (for tests and benchmarks), or ctx ends.
func (r *Runner) Drain(ctx context.Context, want int64) error {
	for {
		if r.stored.Load()+r.deadLettered.Load() >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("connector %s: %d stored, %d dead-lettered, %d wanted: %w", r.spec.ID, r.stored.Load(), r.deadLettered.Load(), want, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (r *Runner) setState(s string) {
	r.mu.Lock()
	r.state = s
	r.mu.Unlock()
}

func (r *Runner) setErr(err error) {
	r.mu.Lock()
	r.lastErr = err.Error()
	r.mu.Unlock()
}

// accept takes one value from a source. It blocks while the queue is
// full (back-pressure) and dead-letters what fails before the pipeline.
func (r *Runner) accept(ctx context.Context, m *Mapping, tg target, rd Reading, src string, raw []byte) {
	r.received.Add(1)
	arrived := r.now()
	v, err := r.prepare(ctx, m, tg, rd)
	if err != nil {
		r.deadLetter(ctx, src, raw, tg, err)
		return
	}
	select {
	case r.queue <- sample{twin: tg.twin, component: tg.component, name: tg.name, property: tg.property, value: v, source: rd.Time, arrived: arrived}:
	case <-ctx.Done():
	}
}

// prepare converts the value to the model's unit and validates it against
// the twin's model, so that one bad value never fails a batch.
func (r *Runner) prepare(ctx context.Context, m *Mapping, tg target, rd Reading) (any, error) {
	iface, err := r.iface(ctx, tg.twin)
	if err != nil {
		return nil, err
	}
	if tg.component != "" {
		c := iface.Component(tg.component)
		if c == nil || c.Schema == nil {
			return nil, fmt.Errorf("component: the model of twin %s has no component %q", tg.twin, tg.component)
		}
		iface = c.Schema
	}
	unit := rd.Unit
	if unit == "" {
		unit = m.Unit
	}
	v := rd.Value
	if f, ok := v.(float64); ok && unit != "" {
		to := ""
		if tg.property {
			if p := iface.Property(tg.name); p != nil {
				to = p.Unit
			}
		} else if t := iface.Telemetry(tg.name); t != nil {
			to = t.Unit
		}
		if f, err = Convert(f, unit, to); err != nil {
			return nil, fmt.Errorf("unit: %v", err)
		}
		v = f
	}
	if tg.property {
		if iface.Property(tg.name) == nil {
			return nil, fmt.Errorf("property: the model of twin %s has no property %q", tg.twin, tg.name)
		}
		err = iface.ValidateProperty("/"+tg.name, v)
	} else {
		tm := iface.Telemetry(tg.name)
		if tm == nil {
			return nil, fmt.Errorf("telemetry: the model of twin %s has no telemetry %q", tg.twin, tg.name)
		}
		// A finite float64 fits a double or float schema: the common case
		// skips building a message to validate.
		if f, isFloat := v.(float64); isFloat && !math.IsInf(f, 0) && !math.IsNaN(f) && tm.Schema != nil {
			if k := tm.Schema.SchemaKind(); k == "double" || k == "float" {
				return v, nil
			}
		}
		err = iface.ValidateTelemetry(map[string]any{tg.name: v})
	}
	return v, err
}

func (r *Runner) iface(ctx context.Context, id twin.ID) (*dtdl.Interface, error) {
	model, ok := r.models.Load(id)
	if !ok {
		t, err := r.st.GetTwin(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("twin: %s: %w", id, err)
		}
		model = t.Metadata.Model
		r.models.Store(id, model)
	}
	iface, err := r.pipe.Models().Interface(model.(string))
	if iface == nil {
		return nil, err
	}
	return iface, nil
}

// linger is how long a writer waits for more values when a batch is not
// full and the queue is empty: a source that sends one value at a time
// (MQTT) then fills batches of tens of values instead of one or two, and
// the store commits far fewer transactions, for at most this much latency.
const linger = 2 * time.Millisecond

// write drains the queue in batches until it is closed.
func (r *Runner) write(ctx context.Context) {
	batch := make([]sample, 0, r.spec.Batch)
	timer := time.NewTimer(linger)
	timer.Stop()
	for {
		s, ok := <-r.queue
		if !ok {
			return
		}
		batch = append(batch[:0], s)
		closed := r.fill(&batch, timer)
		r.flush(ctx, batch)
		r.batches.Add(1)
		if closed {
			return
		}
	}
}

// fill takes values from the queue into batch until it is full, or the
// queue has been empty for linger; it reports whether the queue closed.
func (r *Runner) fill(batch *[]sample, timer *time.Timer) (closed bool) {
	waiting := false
	defer func() {
		if waiting {
			timer.Stop()
		}
	}()
	for len(*batch) < r.spec.Batch {
		select {
		case s, ok := <-r.queue:
			if !ok {
				return true
			}
			*batch = append(*batch, s)
			continue
		default:
		}
		if !waiting {
			timer.Reset(linger)
			waiting = true
		}
		select {
		case s, ok := <-r.queue:
			if !ok {
				return true
			}
			*batch = append(*batch, s)
		case <-timer.C:
			waiting = false
			return false
		}
	}
	return false
}

type msgKey struct {
	twin      twin.ID
	component string
	source    time.Time
}

// flush writes a batch: telemetry as one pipeline message per twin,
// component and source time (a name seen twice starts another message),
// properties as one patch per twin.
func (r *Runner) flush(ctx context.Context, batch []sample) {
	var newest time.Time
	var patches map[twin.ID][]sample
	// Messages are built in place, and owner says which message each
	// telemetry sample went into (-1 for a property): a few allocations
	// per batch rather than per value.
	msgs := make([]pipeline.Telemetry, 0, len(batch))
	owner := make([]int32, len(batch))
	open := make(map[msgKey]int32, len(batch))
	for i, s := range batch {
		if s.property {
			if patches == nil {
				patches = map[twin.ID][]sample{}
			}
			patches[s.twin] = append(patches[s.twin], s)
			owner[i] = -1
			continue
		}
		k := msgKey{s.twin, s.component, s.source}
		j, ok := open[k]
		if !ok || msgs[j].Values[s.name] != nil {
			j = int32(len(msgs))
			open[k] = j
			id := r.spec.ID + "-" + r.run + "-" + strconv.FormatInt(r.msgSeq.Add(1), 10)
			msgs = append(msgs, pipeline.Telemetry{TwinID: s.twin, Component: s.component, MessageID: id, SourceTime: s.source, Values: make(map[string]any, 1)})
		}
		msgs[j].Values[s.name] = s.value
		owner[i] = j
	}
	if len(msgs) > 0 {
		var refused []error
		err := r.retry(ctx, func() (err error) {
			refused, err = r.pipe.AppendTelemetryBatch(ctx, msgs)
			return err
		})
		stored := make([]sample, 0, len(batch))
		for i, s := range batch {
			if owner[i] < 0 {
				continue
			}
			e := err
			if err == nil && refused != nil {
				e = refused[owner[i]]
			}
			if e != nil {
				r.done(ctx, []sample{s}, e)
				continue
			}
			stored = append(stored, s)
		}
		newest = r.done(ctx, stored, nil)
	}
	for id, ss := range patches {
		var pt twin.Patch
		for _, s := range ss {
			pt = append(pt, twin.Operation{Op: twin.OpAdd, Path: "/" + s.name, Value: s.value})
		}
		comp := ss[0].component
		err := r.retry(ctx, func() error {
			_, err := r.pipe.PatchTwin(ctx, id, pt, store.Condition{}, comp)
			return err
		})
		newest = later(newest, r.done(ctx, ss, err))
	}
	if r.lag != nil && !newest.IsZero() {
		r.lag(r.spec.ID, r.now().Sub(newest))
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// retry retries a write refused for a passing reason (busy).
func (r *Runner) retry(ctx context.Context, f func() error) error {
	var err error
	for i := range 5 {
		err = f()
		if err == nil || errors.Is(err, pipeline.ErrPublish) {
			return nil
		}
		if !errors.Is(err, pipeline.ErrBusy) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10<<i) * time.Millisecond):
		}
	}
	return err
}

// done counts the samples ss stored, or dead-letters them when err is set,
// and returns the source time of the newest one stored (zero if none).
func (r *Runner) done(ctx context.Context, ss []sample, err error) (newest time.Time) {
	if errors.Is(err, pipeline.ErrSignatureRequired) {
		err = fmt.Errorf("%w; a connector's values are not signed: such devices send DSSE envelopes to POST /digitaltwins/{id}/telemetry", err)
	}
	if err != nil {
		for _, s := range ss {
			v, _ := json.Marshal(map[string]any{s.name: s.value})
			r.deadLetter(ctx, "pipeline", v, target{s.twin, s.component, s.name, s.property}, err)
		}
		return time.Time{}
	}
	r.stored.Add(int64(len(ss)))
	now := r.now()
	r.mu.Lock()
	for _, s := range ss {
		from := s.source
		if from.IsZero() {
			from = s.arrived
		}
		if from.After(newest) {
			newest = from
		}
		ms := float64(now.Sub(from)) / float64(time.Millisecond)
		if len(r.lat) < cap(r.lat) {
			r.lat = append(r.lat, ms)
		} else {
			r.lat[r.latN%len(r.lat)] = ms
		}
		r.latN++
	}
	r.mu.Unlock()
	return newest
}

// DeadLetter is a value a connector could not store, kept as a document of
// kind "dead-letter" with id "<connector>/<seq>".
type DeadLetter struct {
	Connector string    `json:"connector"`
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Source    string    `json:"source"`
	Payload   string    `json:"payload"`
	Twin      string    `json:"twin,omitempty"`
	Target    string    `json:"target,omitempty"`
	Reason    string    `json:"reason"`
}

func (r *Runner) deadLetter(ctx context.Context, src string, raw []byte, tg target, reason error) {
	r.deadLettered.Add(1)
	r.setErr(reason)
	seq := r.dlSeq.Add(1)
	const maxPayload = 4096
	if len(raw) > maxPayload {
		raw = raw[:maxPayload]
	}
	d := DeadLetter{Connector: r.spec.ID, Seq: seq, At: r.now().UTC(), Source: src, Payload: string(raw), Twin: string(tg.twin), Reason: reason.Error()}
	if tg.name != "" {
		d.Target = tg.name
		if tg.component != "" {
			d.Target = tg.component + "/" + tg.name
		}
	}
	body, _ := json.Marshal(d)
	ctx = context.WithoutCancel(ctx)
	if _, err := r.st.PutDoc(ctx, store.Doc{Kind: KindDeadLetter, ID: dlID(r.spec.ID, seq), Body: body}, store.Condition{}); err != nil {
		r.log.Warn("dead letter not stored", "err", err)
	}
	if old := seq - int64(r.spec.DeadLetters); old > 0 {
		r.st.DeleteDoc(ctx, KindDeadLetter, dlID(r.spec.ID, old), store.Condition{})
	}
}

func dlID(conn string, seq int64) string { return fmt.Sprintf("%s/%012d", conn, seq) }

// Status is what GET /plant/connectors shows of a connector.
type Status struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	Source        string    `json:"source"`
	State         string    `json:"state"`
	Connected     bool      `json:"connected"`
	Received      int64     `json:"received"`
	Stored        int64     `json:"stored"`
	DeadLettered  int64     `json:"deadLettered"`
	Queued        int       `json:"queued"`
	QueueCapacity int       `json:"queueCapacity"`
	Batches       int64     `json:"batches"`
	Reconnects    int64     `json:"reconnects"`
	LastError     string    `json:"lastError,omitempty"`
	Latency       Latency   `json:"latencyMs"`
	Updated       time.Time `json:"updated"`
}

// Latency summarises the time from a value's source time (its arrival
// when the source gives none) to its being stored, over the last 4,096
// values.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Counts returns the values received, stored and dead-lettered so far
// (cheaper than Status).
func (r *Runner) Counts() (received, stored, deadLettered int64) {
	return r.received.Load(), r.stored.Load(), r.deadLettered.Load()
}

// Status returns the connector's status now.
func (r *Runner) Status() Status {
	r.mu.Lock()
	lat := slices.Clone(r.lat)
	st := Status{ID: r.spec.ID, Kind: r.spec.Kind, State: r.state, LastError: r.lastErr}
	r.mu.Unlock()
	st.Source = r.spec.Broker + r.spec.Endpoint
	st.Connected = r.connected.Load()
	st.Received, st.Stored, st.DeadLettered = r.received.Load(), r.stored.Load(), r.deadLettered.Load()
	st.Queued, st.QueueCapacity = len(r.queue), cap(r.queue)
	st.Batches, st.Reconnects = r.batches.Load(), r.reconnects.Load()
	st.Latency = summarise(lat)
	st.Updated = r.now().UTC()
	return st
}

func summarise(ms []float64) Latency {
	if len(ms) == 0 {
		return Latency{}
	}
	slices.Sort(ms)
	q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
	return Latency{N: len(ms), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms[len(ms)-1]}
}

func (r *Runner) saveStatus(ctx context.Context) {
	body, _ := json.Marshal(r.Status())
	if _, err := r.st.PutDoc(ctx, store.Doc{Kind: KindStatus, ID: r.spec.ID, Body: body}, store.Condition{}); err != nil {
		r.log.Warn("status not stored", "err", err)
	}
}

// report stores the status every second.
func (r *Runner) report(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.saveStatus(ctx)
		}
	}
}
