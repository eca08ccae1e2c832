package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"lodestone/dtdl"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

// Manager runs the connectors of a Config.
type Manager struct {
	runners []*Runner
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Options are the optional settings of Start.
type Options struct {
	// Logger receives the connectors' diagnostics; nil discards them.
	Logger *slog.Logger
	// Lag, when set, is told after each stored batch the age of its newest
	// value, by connector (see Runner.OnLag).
	Lag func(connector string, lag time.Duration)
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
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{cancel: cancel}
	for _, s := range cfg.Connectors {
		r := NewRunner(s, pipe, opts.Logger)
		r.OnLag(opts.Lag)
		m.runners = append(m.runners, r)
		m.wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				r.setErr(err)
				r.log.Error("connector stopped", "err", err)
			}
		})
	}
	return m, nil
}

// Runners returns the running connectors.
func (m *Manager) Runners() []*Runner { return m.runners }

// Stop ends the connectors, after they write what they have queued, or
// when ctx ends.
func (m *Manager) Stop(ctx context.Context) error {
	m.cancel()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
