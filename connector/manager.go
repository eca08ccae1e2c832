package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"lodestone/dtdl"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

// Options are the optional settings of Start.
type Options struct {
	// Logger receives the connectors' diagnostics; nil discards them.
	Logger *slog.Logger
	// Lag, when set, is told after each stored batch the age of its newest
	// value, by connector (see Runner.OnLag).
	Lag func(connector string, lag time.Duration)
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger.With("component", "connector")
}

// Manager runs the connectors of a Config, and those added later (the
// connectors configured as twins). It is safe for concurrent use.
type Manager struct {
	pipe *pipeline.Pipeline
	opts Options
	ctx  context.Context // the runners' context, cancelled by Stop
	stop context.CancelFunc

	watch sync.WaitGroup // WatchTwins' goroutine
	now   func() time.Time

	mu      sync.Mutex
	running map[string]*running
	order   []string // ids in the order started
}

// running is one connector the Manager runs.
type running struct {
	r      *Runner
	cancel context.CancelFunc
	done   chan struct{}
}

// Start checks every mapping with a fixed target against the twin's model
// (an error names the field: a property of the wrong type, a telemetry the
// model lacks) and starts the connectors. Stop ends them.
func Start(ctx context.Context, cfg Config, pipe *pipeline.Pipeline, opts Options) (*Manager, error) {
	for i, s := range cfg.Connectors {
		if err := CheckTargets(ctx, fmt.Sprintf("connectors[%d]", i), s, pipe); err != nil {
			return nil, err
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{pipe: pipe, opts: opts, ctx: rctx, stop: cancel, running: map[string]*running{}, now: time.Now}
	for _, s := range cfg.Connectors {
		m.run(s)
	}
	return m, nil
}

// run starts a checked spec; the caller has checked that its id is free.
func (m *Manager) run(s Spec) {
	r := NewRunner(s, m.pipe, m.opts.Logger)
	r.OnLag(m.opts.Lag)
	ctx, cancel := context.WithCancel(m.ctx)
	c := &running{r: r, cancel: cancel, done: make(chan struct{})}
	m.mu.Lock()
	m.running[s.ID] = c
	m.order = append(m.order, s.ID)
	m.mu.Unlock()
	go func() {
		defer close(c.done)
		if err := r.Run(ctx); err != nil {
			r.setErr(err)
			r.log.Error("connector stopped", "err", err)
		}
	}()
}

// Put starts the connector of spec (checked by DecodeConfig or
// SpecFromTwin), first stopping a running one of the same id. field
// prefixes the error of a mapping that does not fit its twin's model.
func (m *Manager) Put(ctx context.Context, field string, s Spec) error {
	if err := CheckTargets(ctx, field, s, m.pipe); err != nil {
		return err
	}
	if err := m.Remove(ctx, s.ID); err != nil {
		return err
	}
	if m.ctx.Err() != nil {
		return m.ctx.Err()
	}
	m.run(s)
	return nil
}

// Remove stops the connector id, after it writes what it has queued (or
// when ctx ends); an id that is not running is no error.
func (m *Manager) Remove(ctx context.Context, id string) error {
	m.mu.Lock()
	c := m.running[id]
	delete(m.running, id)
	m.order = slices.DeleteFunc(m.order, func(x string) bool { return x == id })
	m.mu.Unlock()
	if c == nil {
		return nil
	}
	c.cancel()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Has reports whether connector id is running.
func (m *Manager) Has(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.running[id] != nil
}

// Runners returns the running connectors, in the order they started.
func (m *Manager) Runners() []*Runner {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Runner, 0, len(m.order))
	for _, id := range m.order {
		out = append(out, m.running[id].r)
	}
	return out
}

// Stop ends the connectors, after they write what they have queued, or
// when ctx ends.
func (m *Manager) Stop(ctx context.Context) error {
	m.stop()
	m.watch.Wait()
	m.mu.Lock()
	var dones []chan struct{}
	for _, c := range m.running {
		dones = append(dones, c.done)
	}
	m.mu.Unlock()
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// accepts says which schema kinds a source value type may be written to.
var accepts = map[string][]string{
	"double":  {"double", "float"},
	"integer": {"integer", "long", "double", "float"},
	"boolean": {"boolean"},
	"string":  {"string", "date", "dateTime", "time", "duration", "Enum"},
}

// CheckTargets checks the mappings of spec that name their twin and
// target against the twin's model. field prefixes the error's field.
func CheckTargets(ctx context.Context, field string, spec Spec, pipe *pipeline.Pipeline) error {
	ms := pipe.Models()
	for j, m := range spec.Mappings {
		f := fmt.Sprintf("%s.mappings[%d]", field, j)
		if m.Twin == "" || (m.Telemetry == "" && m.Property == "") {
			continue // the topic names it; checked per message
		}
		t, err := pipe.Store().GetTwin(ctx, twin.ID(m.Twin))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s.twin: there is no twin %q", f, m.Twin)
		}
		if err != nil {
			return fmt.Errorf("%s.twin: %w", f, err)
		}
		iface, err := ms.Interface(t.Metadata.Model)
		if iface == nil {
			return fmt.Errorf("%s.twin: %w", f, err)
		}
		if m.Component != "" {
			c := iface.Component(m.Component)
			if c == nil || c.Schema == nil {
				return fmt.Errorf("%s.component: model %s has no component %q", f, t.Metadata.Model, m.Component)
			}
			iface = c.Schema
		}
		var schema dtdl.Schema
		what, name := "telemetry", m.Telemetry
		if m.Property != "" {
			what, name = "property", m.Property
			if p := iface.Property(name); p != nil {
				schema = p.Schema
			}
		} else if tm := iface.Telemetry(name); tm != nil {
			schema = tm.Schema
		}
		if schema == nil {
			return fmt.Errorf("%s.%s: model %s has no %s %q", f, what, t.Metadata.Model, what, name)
		}
		kind := schema.SchemaKind()
		ok := false
		for _, k := range accepts[m.Type] {
			ok = ok || k == kind
		}
		if !ok {
			return fmt.Errorf("%s.%s: %s %q of twin %s has schema %s; the mapping's type %s does not fit it", f, what, what, name, m.Twin, kind, m.Type)
		}
	}
	return nil
}
