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
	return p.commit(ctx, func(ctx context.Context, ms *Models) error {
		t, err := p.st.GetTwin(ctx, m.TwinID)
		if errors.Is(err, store.ErrNotFound) {
			return refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", m.TwinID)
		}
		if err != nil {
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
		return err
	})
}
