package softsensor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"lodestone/event"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

// Manager runs the estimators of a Config.
type Manager struct {
	ests   []*Estimator
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start checks every sensor's source against the twin's model (an error
// names the field: a twin that does not exist, a telemetry its model
// lacks), starts the estimators and returns once each is subscribed to the
// bus. Stop ends them.
func Start(ctx context.Context, cfg Config, pipe *pipeline.Pipeline, bus event.Bus, log *slog.Logger) (*Manager, error) {
	for i, s := range cfg.Estimators {
		if err := CheckSources(ctx, fmt.Sprintf("estimators[%d]", i), s, pipe); err != nil {
			return nil, err
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{cancel: cancel}
	for _, s := range cfg.Estimators {
		e, err := New(s, pipe, bus, log)
		if err != nil {
			cancel()
			return nil, err
		}
		m.ests = append(m.ests, e)
	}
	errc := make(chan error, len(m.ests))
	for _, e := range m.ests {
		m.wg.Go(func() {
			if err := e.Run(rctx); err != nil {
				errc <- err
			}
		})
	}
	for _, e := range m.ests {
		select {
		case <-e.Ready():
		case err := <-errc:
			m.Stop(context.WithoutCancel(ctx))
			return nil, err
		case <-ctx.Done():
			m.Stop(context.WithoutCancel(ctx))
			return nil, ctx.Err()
		}
	}
	return m, nil
}

// Estimators returns the running estimators.
func (m *Manager) Estimators() []*Estimator { return m.ests }

// Stop ends the estimators, after each writes its last estimate and
// status, or when ctx ends.
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

// CheckSources checks that each sensor of spec reads a telemetry its
// twin's model declares, and that the estimates twin, when it exists, has
// the properties the estimator writes. field prefixes the error's field.
func CheckSources(ctx context.Context, field string, spec Spec, pipe *pipeline.Pipeline) error {
	ms := pipe.Models()
	for j, sen := range spec.Sensors {
		f := fmt.Sprintf("%s.sensors[%d].source", field, j)
		src := sen.Source
		t, err := pipe.Store().GetTwin(ctx, twin.ID(src.Twin))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s.twin: there is no twin %q", f, src.Twin)
		}
		if err != nil {
			return fmt.Errorf("%s.twin: %w", f, err)
		}
		iface, err := ms.Interface(t.Metadata.Model)
		if iface == nil {
			return fmt.Errorf("%s.twin: %w", f, err)
		}
		if src.Component != "" {
			c := iface.Component(src.Component)
			if c == nil || c.Schema == nil {
				return fmt.Errorf("%s.component: model %s has no component %q", f, t.Metadata.Model, src.Component)
			}
			iface = c.Schema
		}
		tm := iface.Telemetry(src.Telemetry)
		if tm == nil {
			return fmt.Errorf("%s.telemetry: model %s has no telemetry %q", f, t.Metadata.Model, src.Telemetry)
		}
		kind := tm.Schema.SchemaKind()
		switch {
		case src.Key == "" && kind != "double" && kind != "float" && kind != "integer" && kind != "long":
			return fmt.Errorf("%s.telemetry: telemetry %q of twin %s has schema %s, not a number (a map needs a key)", f, src.Telemetry, src.Twin, kind)
		case src.Key != "" && kind != "Map":
			return fmt.Errorf("%s.key: telemetry %q of twin %s has schema %s, not a Map", f, src.Telemetry, src.Twin, kind)
		}
	}
	t, err := pipe.Store().GetTwin(ctx, twin.ID(spec.Twin))
	if errors.Is(err, store.ErrNotFound) {
		if _, err := ms.Interface(Model); err != nil {
			return fmt.Errorf("%s.twin: twin %q does not exist and the model %s to create it with is not uploaded", field, spec.Twin, Model)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s.twin: %w", field, err)
	}
	iface, err := ms.Interface(t.Metadata.Model)
	if iface == nil {
		return fmt.Errorf("%s.twin: %w", field, err)
	}
	for _, p := range writes {
		if p == "mhe" && spec.MHE == nil {
			continue
		}
		if iface.Property(p) == nil {
			return fmt.Errorf("%s.twin: the model %s of twin %s has no property %q (use %s or a model that extends it)", field, t.Metadata.Model, spec.Twin, p, Model)
		}
	}
	return nil
}

// writes are the properties an estimator writes to its twin.
var writes = []string{"estimator", "timeH", "estimatedAt", "certified", "stages", "theta", "alarmCount", "lastAlarm", "mhe"}
