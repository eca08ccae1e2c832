package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"

	"lodestone/event"
	"lodestone/twin"
)

// An event stream (GET /events) or an event route delivers an event only
// when its subject is visible to the reader (the stream's principal, the
// route's owner), with its data projected for a shared twin or
// relationship. Events carry their subject's org as the extension
// attribute "org" (absent for org "") and, for twins and telemetry, the
// model as dataschema.

// eventExtOrg is the extension attribute naming the org of an event's
// subject.
const eventExtOrg = "org"

// eventFor returns the event as rd sees it, and false when rd must not get
// it. Relationship events look the relationship and its ends up in the
// store (the current state), so an event whose relationship was deleted
// since reaches only its own org.
func (a *API) eventFor(ctx context.Context, rd reader, m event.Message) (event.Message, bool) {
	if rd.all {
		return m, true
	}
	ev := m.Event
	org := ev.Extensions[eventExtOrg]
	own := org == rd.pr.Org || org == ""
	switch ev.Type {
	case event.TypeTwinCreated, event.TypeTwinUpdated, event.TypeTwinDeleted:
		if own {
			return m, true
		}
		props, all, ok := rd.pol.VisibleProperties(rd.pr, org, ev.DataSchema)
		if !ok {
			return m, false
		}
		if all {
			return m, true
		}
		data, ok := projectTwinData(ev.Data, props, func(t twin.Twin) (twin.Twin, bool) { return rd.pol.ProjectTwin(rd.pr, t) })
		m.Event.Data = data
		return m, ok
	case event.TypeRelationshipCreated, event.TypeRelationshipUpdated, event.TypeRelationshipDeleted:
		return a.relEventFor(ctx, rd, m, own)
	case event.TypeModelCreated, event.TypeModelUpdated, event.TypeModelDeleted:
		return m, own || rd.pol.ModelVisible(rd.pr, twin.Model{ID: ev.Subject, Org: org})
	case event.TypeTelemetry:
		if own {
			return m, true
		}
		return telemetryFor(rd, m, org)
	case event.TypeImportCompleted:
		return m, org == rd.pr.Org
	case TypeAuditDenied:
		var d Denied
		return m, json.Unmarshal(ev.Data, &d) == nil && d.Org != "" && d.Org == rd.pr.Org
	}
	// Other events (plant, governance, operations) reach their own org
	// and, for org "", everyone, like the things of org "".
	return m, own
}

// relEventFor filters and projects a relationship event.
func (a *API) relEventFor(ctx context.Context, rd reader, m event.Message, own bool) (event.Message, bool) {
	ev := m.Event
	src, id, ok := strings.Cut(ev.Subject, "/relationships/")
	if !ok {
		return m, own
	}
	var rel twin.Relationship
	if isObject(ev.Data) && json.Unmarshal(ev.Data, &rel) == nil && rel.Name != "" {
		// A create, replace or delete carries the relationship.
	} else {
		cur, err := a.opts.Store.GetRelationship(ctx, twin.ID(src), id)
		if err != nil {
			return m, own && ev.Type == event.TypeRelationshipDeleted
		}
		rel = cur
	}
	if rel.Org == "" {
		rel.Org = ev.Extensions[eventExtOrg]
	}
	tc := a.newTwinCache(ctx, rd)
	s, err := tc.get(rel.SourceID)
	if err != nil {
		return m, false
	}
	d, err := tc.get(rel.TargetID)
	if err != nil {
		return m, false
	}
	if !rd.pol.RelationshipVisible(rd.pr, rel, s.visible, d.visible) {
		return m, false
	}
	proj, ok := rd.pol.ProjectRelationship(rd.pr, rel)
	if !ok {
		return m, false
	}
	if own || rd.owns(rel.Org) {
		return m, true
	}
	if isObject(ev.Data) {
		b, err := json.Marshal(proj)
		if err != nil {
			return m, false
		}
		m.Event.Data = b
		return m, true
	}
	visible := map[string]bool{}
	for k := range proj.Properties {
		visible[k] = true
	}
	// A patch shows only the operations on properties the share lists;
	// it names them even when their value is gone, so the listed names
	// come from the agreements, not the current values.
	data, ok := filterPatch(ev.Data, func(name string) bool {
		return visible[name] || relPropShared(rd, rel, name)
	})
	m.Event.Data = data
	return m, ok
}

// relPropShared reports whether property name of rel is shared with rd.
func relPropShared(rd reader, rel twin.Relationship, name string) bool {
	probe := rel
	probe.Properties = map[string]any{name: true}
	p, ok := rd.pol.ProjectRelationship(rd.pr, probe)
	_, has := p.Properties[name]
	return ok && has
}

// telemetryFor keeps the telemetry points rd sees of a shared twin.
func telemetryFor(rd reader, m event.Message, org string) (event.Message, bool) {
	ev := m.Event
	_, comp, _ := strings.Cut(ev.Subject, "/components/")
	var pts map[string]json.RawMessage
	if json.Unmarshal(ev.Data, &pts) != nil {
		return m, false
	}
	out := map[string]json.RawMessage{}
	for name, v := range pts {
		full := name
		if comp != "" {
			full = comp + "/" + name
		}
		if rd.pol.TelemetryVisible(rd.pr, org, ev.DataSchema, full) || comp != "" && rd.pol.TelemetryVisible(rd.pr, org, ev.DataSchema, comp) {
			out[name] = v
		}
	}
	if len(out) == 0 {
		return m, false
	}
	if len(out) < len(pts) {
		b, err := json.Marshal(out)
		if err != nil {
			return m, false
		}
		m.Event.Data = b
	}
	return m, true
}

// projectTwinData projects the data of a twin event: a twin document
// (create, replace, delete) through project, a JSON Patch (patch) to
// the operations on visible properties. false when nothing is left.
func projectTwinData(data json.RawMessage, props map[string]bool, project func(twin.Twin) (twin.Twin, bool)) (json.RawMessage, bool) {
	if isObject(data) {
		var t twin.Twin
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, false
		}
		p, ok := project(t)
		if !ok {
			return nil, false
		}
		b, err := json.Marshal(p)
		return b, err == nil
	}
	return filterPatch(data, func(name string) bool { return props[name] })
}

// filterPatch keeps the operations of a JSON Patch whose path names a
// visible property ("/name/…" or "/$metadata/name/…"); false when none is
// left or data is no patch.
func filterPatch(data json.RawMessage, visible func(name string) bool) (json.RawMessage, bool) {
	var ops []map[string]any
	if err := json.Unmarshal(data, &ops); err != nil {
		return nil, false
	}
	var keep []map[string]any
	for _, op := range ops {
		ok := true
		for _, k := range []string{"path", "from"} {
			p, has := op[k].(string)
			if has && !visible(patchProperty(p)) {
				ok = false
			}
		}
		if ok {
			keep = append(keep, op)
		}
	}
	if len(keep) == 0 {
		return nil, false
	}
	b, err := json.Marshal(keep)
	return b, err == nil
}

// patchProperty is the property a JSON Pointer of a twin patch names:
// its first token, or the second after "$metadata" ("" for a system
// property such as $metadata/$model).
func patchProperty(ptr string) string {
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	name := toks[0]
	if name == "$metadata" && len(toks) > 1 {
		name = toks[1]
	}
	if strings.HasPrefix(name, "$") {
		return ""
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// tenantBus is a bus whose subscriptions deliver what a reader sees.
type tenantBus struct {
	event.Bus
	a  *API
	rd reader
}

func (b tenantBus) Subscribe(ctx context.Context, f event.Filter, from event.Start) (event.Subscription, error) {
	sub, err := b.Bus.Subscribe(ctx, f, from)
	if err != nil {
		return nil, err
	}
	return &tenantSub{Subscription: sub, b: b}, nil
}

type tenantSub struct {
	event.Subscription
	b tenantBus
}

// Next returns the next event the reader sees, projected.
func (s *tenantSub) Next(ctx context.Context) (event.Message, error) {
	for {
		m, err := s.Subscription.Next(ctx)
		if err != nil {
			return m, err
		}
		rd := s.b.rd
		if !rd.all {
			// The policy is read again for each event, so that a
			// stream follows agreements as they change.
			rd.pol = s.b.a.Tenancy(ctx)
		}
		if out, ok := s.b.a.eventFor(ctx, rd, m); ok {
			return out, nil
		}
	}
}

// serveEvents serves GET /events: the Server-Sent Events of the changes
// the principal sees.
func (a *API) serveEvents(w http.ResponseWriter, r *http.Request) error {
	rd := a.readerOf(r.Context())
	var bus event.Bus = a.opts.Bus
	if !rd.all {
		bus = tenantBus{Bus: a.opts.Bus, a: a, rd: rd}
	}
	event.SSEHandler(bus).ServeHTTP(w, r)
	return nil
}

// routeEndpoint wraps the endpoint of a route owned by rd: it delivers
// only the events rd sees, projected; the others are acknowledged
// without delivery and counted in filtered.
func (a *API) routeEndpoint(rd reader, ep event.Endpoint, filtered *atomic.Uint64) event.Endpoint {
	if rd.all {
		return ep
	}
	return event.EndpointFunc(func(ctx context.Context, m event.Message) error {
		rd := rd
		rd.pol = a.Tenancy(ctx)
		out, ok := a.eventFor(ctx, rd, m)
		if !ok {
			filtered.Add(1)
			return nil
		}
		return ep.Deliver(ctx, out)
	})
}
