package pipeline

import (
	"context"
	"encoding/json"
	"errors"

	"lodestone/dtdl"
	"lodestone/store"
	"lodestone/twin"
)

// AppendTelemetryBatch validates every message as AppendTelemetry does and
// stores the points of those that pass in one commit: a connector feeding
// thousands of values a second pays for one transaction per batch, not
// per value. refused[i] is why message i was not stored (nil when it
// was); err is a failure of the whole batch, in which case nothing was
// stored.
func (p *Pipeline) AppendTelemetryBatch(ctx context.Context, msgs []Telemetry) (refused []error, err error) {
	a := actorOf(ctx)
	err = p.commit(ctx, func(ctx context.Context, ms *Models) error {
		refused = make([]error, len(msgs))
		ifaces := map[twin.ID]*dtdl.Interface{}
		orgs := map[twin.ID]string{}
		var points []store.Telemetry
		for i, m := range msgs {
			iface, ok := ifaces[m.TwinID]
			if !ok {
				t, err := p.st.GetTwin(ctx, m.TwinID)
				switch {
				case errors.Is(err, store.ErrNotFound):
					refused[i] = refuse(store.ErrNotFound, "DigitalTwinNotFound", "there is no digital twin with id %s", m.TwinID)
					continue
				case err != nil:
					return err
				}
				if err := a.telemetryWrite(t); err != nil {
					refused[i] = err
					continue
				}
				if err := p.checkSigned(ctx, a, t.Metadata.Model); err != nil {
					if !errors.Is(err, ErrSignatureRequired) {
						return err
					}
					refused[i] = err
					continue
				}
				orgs[m.TwinID] = t.Metadata.Org
				iface, err = ms.Interface(t.Metadata.Model)
				if iface == nil {
					refused[i] = err
					continue
				}
				ifaces[m.TwinID] = iface
			}
			pts, err := telemetryPoints(iface, m)
			if err == nil {
				err = p.check(ctx, &Write{Kind: store.KindTelemetry, Op: store.OpCreate, Subject: string(m.TwinID), Telemetry: pts})
			}
			if err != nil {
				refused[i] = err
				continue
			}
			points = append(points, pts...)
		}
		if len(points) == 0 {
			return nil
		}
		_, err := p.st.AppendTelemetry(ctx, points)
		if err == nil {
			ownTelemetry(ctx, orgs)
		}
		return err
	})
	return refused, err
}

// telemetryPoints validates a message against its twin's interface and
// makes its points.
func telemetryPoints(iface *dtdl.Interface, m Telemetry) ([]store.Telemetry, error) {
	check := m.Values
	if m.Component != "" {
		if iface.Component(m.Component) == nil {
			return nil, refuse(store.ErrNotFound, "ComponentNotFound", "the twin's model has no component %s", m.Component)
		}
		check = map[string]any{m.Component: m.Values}
	}
	if err := iface.ValidateTelemetry(check); err != nil {
		return nil, err
	}
	points := make([]store.Telemetry, 0, len(m.Values))
	for name, v := range m.Values {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if m.Component != "" {
			name = m.Component + "/" + name
		}
		points = append(points, store.Telemetry{TwinID: m.TwinID, Name: name, MessageID: m.MessageID, SourceTime: m.SourceTime, Value: raw})
	}
	return points, nil
}
