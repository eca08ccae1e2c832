package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

// Telemetry is one telemetry message sent on behalf of a twin or one of its
// components.
type Telemetry struct {
	TwinID twin.ID
	// Component names the component the message is for; "" for the twin.
	Component string
	// MessageID identifies the message: a retried message with the same
	// id stores nothing new and publishes nothing new.
	MessageID string
	// SourceTime is when the values were measured; zero means now.
	SourceTime time.Time
	// Values maps telemetry names to values.
	Values map[string]any
}

// AppendTelemetry validates a telemetry message against the twin's model
// and stores its points.
func (p *Pipeline) AppendTelemetry(ctx context.Context, m Telemetry) error {
	a := actorOf(ctx)
	return p.commit(ctx, func(ctx context.Context, ms *Models) error {
		t, err := p.st.GetTwin(ctx, m.TwinID)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", m.TwinID)
		}
		if err != nil {
			return err
		}
		if err := a.telemetryWrite(t); err != nil {
			return err
		}
		if err := p.checkSigned(ctx, a, t.Metadata.Model); err != nil {
			return err
		}
		iface, err := ms.Interface(t.Metadata.Model)
		if iface == nil {
			return err
		}
		check := m.Values
		if m.Component != "" {
			if iface.Component(m.Component) == nil {
				return refuse(store.ErrNotFound, "ComponentNotFound", "model %s has no component %s", t.Metadata.Model, m.Component)
			}
			check = map[string]any{m.Component: m.Values}
		}
		if err := iface.ValidateTelemetry(check); err != nil {
			return err
		}
		points := make([]store.Telemetry, 0, len(m.Values))
		for name, v := range m.Values {
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if m.Component != "" {
				name = m.Component + "/" + name
			}
			points = append(points, store.Telemetry{TwinID: m.TwinID, Name: name, MessageID: m.MessageID, SourceTime: m.SourceTime, Value: raw})
		}
		if err := p.check(ctx, &Write{Kind: store.KindTelemetry, Op: store.OpCreate, Subject: string(m.TwinID), Telemetry: points}); err != nil {
			return err
		}
		_, err = p.st.AppendTelemetry(ctx, points)
		if err == nil {
			ownTelemetry(ctx, map[twin.ID]string{t.ID: t.Metadata.Org})
		}
		return err
	})
}

// ownTelemetry sets the owner org of the telemetry records of ctx's
// recorder to their twin's org, which the pipeline read (a store writes
// telemetry without reading its twin's owner).
func ownTelemetry(ctx context.Context, orgs map[twin.ID]string) {
	r := store.RecorderFrom(ctx)
	if r == nil {
		return
	}
	recs := r.Records()
	changed := false
	for i := range recs {
		if recs[i].Kind == store.KindTelemetry && recs[i].Org == "" && orgs[twin.ID(recs[i].Subject)] != "" {
			recs[i].Org = orgs[twin.ID(recs[i].Subject)]
			changed = true
		}
	}
	if changed {
		r.Reset()
		r.Add(recs...)
	}
}

// telemetryWrite refuses a's telemetry for twin t: telemetry belongs to its
// twin's org.
func (a actor) telemetryWrite(t twin.Twin) error {
	if a.mayWrite(t.Metadata.Org) {
		return nil
	}
	if org := t.Metadata.Org; org != "" && org != a.pr.Org {
		return notYours("DigitalTwinNotFound", "there is no digital twin with id %s", t.ID)
	}
	return forbidden("principal %s may not send telemetry for twin %s of org %q", a.pr.Subject, t.ID, t.Metadata.Org)
}
