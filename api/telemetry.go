package api

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

func (a *API) telemetryRoutes() []Route {
	return []Route{
		{Pattern: "POST /digitaltwins/{id}/telemetry", Handler: a.postTelemetry, Summary: "Send telemetry on behalf of a twin (Message-Id header required; Telemetry-Source-Time optional)", Body: "TelemetryMessage"},
		{Pattern: "POST /digitaltwins/{id}/components/{name}/telemetry", Handler: a.postTelemetry, Summary: "Send telemetry on behalf of a twin's component", Body: "TelemetryMessage"},
		{Pattern: "GET /digitaltwins/{id}/telemetry", Handler: a.getTelemetry, Summary: "Stored telemetry of a twin (?name, ?from, ?to, ?limit)", Response: "TelemetryList"},
	}
}

// DecodeTelemetry parses a telemetry message body: one JSON object whose
// members are telemetry names. It is exported for the fuzz test and for
// clients that check messages before sending them.
func DecodeTelemetry(b []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, badRequest("InvalidArgument", "telemetry must be a JSON object: %v", err)
	}
	if m == nil {
		return nil, badRequest("InvalidArgument", "telemetry must be a JSON object, not null")
	}
	if len(m) == 0 {
		return nil, badRequest("InvalidArgument", "telemetry message has no values")
	}
	return m, nil
}

func (a *API) postTelemetry(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	component := r.PathValue("name")
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	msgID := r.Header.Get("Message-Id")
	if msgID == "" {
		return badRequest("InvalidArgument", "the Message-Id header is required (it makes retries safe)")
	}
	var src time.Time
	if v := r.Header.Get("Telemetry-Source-Time"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return badRequest("InvalidArgument", "Telemetry-Source-Time: %q is not an RFC 3339 time", v)
		}
		src = t
	}
	msg, err := DecodeTelemetry(body)
	if err != nil {
		return err
	}
	if err := a.pipe.AppendTelemetry(r.Context(), pipeline.Telemetry{TwinID: id, Component: component, MessageID: msgID, SourceTime: src, Values: msg}); err != nil {
		return a.sharedReadOnly(r.Context(), id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getTelemetry(w http.ResponseWriter, r *http.Request) error {
	q := store.TelemetryQuery{TwinID: twin.ID(r.PathValue("id")), Name: queryParams(r).Get("name")}
	var err error
	if q.From, err = parseTimeParam(r, "from"); err != nil {
		return err
	}
	if q.To, err = parseTimeParam(r, "to"); err != nil {
		return err
	}
	if v := queryParams(r).Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 0 {
			return badRequest("InvalidArgument", "limit: %q is not a non-negative integer", v)
		}
	}
	// Telemetry belongs to its twin's org: the twin must be visible, and
	// a shared twin shows only the telemetry names its agreements list.
	v := a.viewerOf(r.Context())
	var pts []store.Telemetry
	shared := false
	if !v.all {
		if _, err = a.seeTwin(r.Context(), v, q.TwinID); err != nil {
			return err
		}
		tw, _ := a.opts.Store.GetTwin(r.Context(), q.TwinID)
		var props map[string]bool
		var all bool
		props, all, _ = v.pol.VisibleProperties(v.pr, tw.Metadata.Org, tw.Metadata.Model)
		if !all {
			shared = true
			pts, err = a.sharedTelemetry(r.Context(), q, props)
		}
	}
	if !shared {
		pts, err = a.opts.Store.QueryTelemetry(r.Context(), q)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", q.TwinID)
	}
	if err != nil {
		return err
	}
	if len(pts) == 0 {
		// The store answers an empty range for a twin that does not exist.
		if _, err := a.opts.Store.GetTwin(r.Context(), q.TwinID); errors.Is(err, store.ErrNotFound) {
			return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", q.TwinID)
		}
	}
	out := TelemetryList{Value: make([]TelemetryPoint, 0, len(pts))}
	for _, p := range pts {
		var val any
		json.Unmarshal(p.Value, &val)
		out.Value = append(out.Value, TelemetryPoint{Name: p.Name, Value: val, SourceTime: p.SourceTime, MessageID: p.MessageID})
	}
	return writeJSON(w, http.StatusOK, out)
}

// sharedTelemetry answers q for a reader that sees only the telemetry
// names in visible (a twin shared by an agreement): one store query per
// visible name, each with q's range and limit, merged in the store's
// order (source time, enqueued time, name) and cut to the limit, so that
// the limit counts visible points only.
func (a *API) sharedTelemetry(ctx context.Context, q store.TelemetryQuery, visible map[string]bool) ([]store.Telemetry, error) {
	var names []string
	switch {
	case q.Name != "" && visible[q.Name]:
		names = []string{q.Name}
	case q.Name == "":
		names = slices.Sorted(maps.Keys(visible))
	}
	var out []store.Telemetry
	for _, n := range names {
		nq := q
		nq.Name = n
		pts, err := a.opts.Store.QueryTelemetry(ctx, nq)
		if err != nil {
			return nil, err
		}
		out = append(out, pts...)
	}
	slices.SortStableFunc(out, func(x, y store.Telemetry) int {
		if c := x.SourceTime.Compare(y.SourceTime); c != 0 {
			return c
		}
		if c := x.EnqueuedTime.Compare(y.EnqueuedTime); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}
