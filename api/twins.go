package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"lodestone/store"
	"lodestone/twin"
)

func (a *API) twinRoutes() []Route {
	return []Route{
		{Pattern: "PUT /digitaltwins/{id}", Handler: a.putTwin, Summary: "Create or replace a twin (If-None-Match: * creates only; If-Match)", Body: "Twin", Response: "Twin"},
		{Pattern: "GET /digitaltwins/{id}", Handler: a.getTwin, Summary: "Get a twin; ?asOf=RFC3339 reads it as it was then", Response: "Twin"},
		{Pattern: "PATCH /digitaltwins/{id}", Handler: a.patchTwin, Summary: "Apply a JSON Patch (add, replace, remove; /$metadata/$model) under If-Match", Body: "JsonPatch"},
		{Pattern: "DELETE /digitaltwins/{id}", Handler: a.deleteTwin, Summary: "Delete a twin that has no relationships"},
		{Pattern: "GET /digitaltwins/{id}/components/{name}", Handler: a.getComponent, Summary: "Get a component of a twin", Response: "Component"},
		{Pattern: "PATCH /digitaltwins/{id}/components/{name}", Handler: a.patchComponent, Summary: "Apply a JSON Patch to a component", Body: "JsonPatch"},
		{Pattern: "GET /digitaltwins/{id}/history", Handler: a.twinHistory, Summary: "The change list of a twin (?from, ?to)", Response: "HistoryList"},
		{Pattern: "GET /snapshot", Handler: a.snapshot, Summary: "The whole graph as of ?asOf=RFC3339 (default now)", Response: "Snapshot"},
	}
}

func (a *API) putTwin(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	cond, err := condition(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var t twin.Twin
	if err := decodeJSON(body, &t); err != nil {
		return err
	}
	if t.ID != "" && t.ID != id {
		return badRequest("InvalidArgument", "$dtId %q in the body differs from the id %q in the path", t.ID, id)
	}
	if err := checkID("$dtId", string(id)); err != nil {
		return err
	}
	t.ID = id
	if err := a.checkModelVisible(a.viewerOf(r.Context()), t.Metadata.Model); err != nil {
		return err
	}
	stored, doc, err := a.pipe.PutTwin(r.Context(), t, cond)
	if err != nil {
		return a.sharedReadOnly(r.Context(), id, err)
	}
	if doc == nil {
		if doc, err = json.Marshal(stored); err != nil {
			return err
		}
	}
	w.Header().Set("ETag", string(stored.ETag))
	return writeRawJSON(w, http.StatusOK, doc)
}

func (a *API) getTwin(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	at, err := parseTimeParam(r, "asOf")
	if err != nil {
		return err
	}
	v := a.viewerOf(r.Context())
	if at.IsZero() {
		// The current version is served as the store holds it, without
		// decoding and re-encoding it (unless a sharing agreement shows
		// only part of it).
		b, etag, err := a.seeTwinJSON(r.Context(), v, id)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", string(etag))
		return writeRawJSON(w, http.StatusOK, b)
	}
	// A past version is judged by the owner stored in it.
	t, err := a.opts.Store.TwinAsOf(r.Context(), id, at)
	ok := err == nil
	if ok {
		t, ok = v.twin(t)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && !ok) {
		return notFound("DigitalTwinNotFound", "there was no digital twin with id %s at %s", id, at.Format(time.RFC3339))
	}
	if err != nil {
		return err
	}
	w.Header().Set("ETag", string(t.ETag))
	return writeJSON(w, http.StatusOK, t)
}

// patchTwin applies a JSON Patch through the write pipeline, which
// validates the patched twin before the store applies the same patch to
// the same version; without If-Match it retries after concurrent writes.
func (a *API) patchTwin(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	cond, p, err := a.patchRequest(w, r)
	if err != nil {
		return err
	}
	stored, err := a.pipe.PatchTwin(r.Context(), id, p, cond, "")
	if err != nil {
		return a.sharedReadOnly(r.Context(), id, err)
	}
	w.Header().Set("ETag", string(stored.ETag))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteTwin(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	cond, err := condition(r)
	if err != nil {
		return err
	}
	if err := a.pipe.DeleteTwin(r.Context(), id, cond); err != nil {
		return a.sharedReadOnly(r.Context(), id, a.hiddenRelationships(r.Context(), id, err))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getComponent(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	name := r.PathValue("name")
	t, err := a.seeTwin(r.Context(), a.viewerOf(r.Context()), id)
	if err != nil {
		return err
	}
	iface, err := a.pipe.Models().Interface(t.Metadata.Model)
	if iface == nil {
		return err
	}
	if iface.Component(name) == nil {
		return notFound("ComponentNotFound", "model %s has no component %s", t.Metadata.Model, name)
	}
	c, ok := t.Properties[name]
	if !ok {
		return notFound("ComponentNotFound", "twin %s has no component %s", id, name)
	}
	w.Header().Set("ETag", string(t.ETag))
	return writeJSON(w, http.StatusOK, c)
}

func (a *API) patchComponent(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	name := r.PathValue("name")
	cond, p, err := a.patchRequest(w, r)
	if err != nil {
		return err
	}
	prefix := twin.Pointer(name)
	for i := range p {
		if !strings.HasPrefix(p[i].Path, "/") {
			return badRequest("JsonPatchInvalid", "operation %d: path %q must start with /", i, p[i].Path)
		}
		p[i].Path = prefix + p[i].Path
	}
	stored, err := a.pipe.PatchTwin(r.Context(), id, p, cond, name)
	if err != nil {
		return a.sharedReadOnly(r.Context(), id, err)
	}
	w.Header().Set("ETag", string(stored.ETag))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) twinHistory(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	from, err := parseTimeParam(r, "from")
	if err != nil {
		return err
	}
	to, err := parseTimeParam(r, "to")
	if err != nil {
		return err
	}
	// Sequences count from the twin's first change, so the whole list is
	// read and the part before from dropped after numbering.
	changes, err := a.opts.Store.TwinChanges(r.Context(), id, time.Time{}, to)
	if err != nil {
		return err
	}
	changes, err = a.visibleChanges(r.Context(), a.viewerOf(r.Context()), id, changes)
	if err != nil {
		return err
	}
	first := 0
	for first < len(changes) && changes[first].Time.Before(from) {
		first++
	}
	if len(changes) == 0 {
		if _, err := a.opts.Store.GetTwin(r.Context(), id); errors.Is(err, store.ErrNotFound) {
			return notFound("DigitalTwinNotFound", "there is no digital twin with id %s and none in its history", id)
		}
	}
	out := HistoryList{Value: make([]HistoryEntry, 0, len(changes)-first)}
	for i, c := range changes[first:] {
		kind := "update"
		switch c.Op {
		case store.OpCreate:
			kind = "create"
		case store.OpDelete:
			kind = "delete"
		}
		out.Value = append(out.Value, HistoryEntry{Sequence: int64(first + i + 1), Time: c.Time, Kind: kind, Patch: c.Patch, Twin: c.Twin})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) snapshot(w http.ResponseWriter, r *http.Request) error {
	at, err := parseTimeParam(r, "asOf")
	if err != nil {
		return err
	}
	s, err := a.opts.Store.Snapshot(r.Context(), at)
	if err != nil {
		return err
	}
	if v := a.viewerOf(r.Context()); !v.all {
		s = v.snapshot(s)
	}
	out := Snapshot{AsOf: s.At, Twins: s.Twins, Relationships: s.Relationships}
	if out.Twins == nil {
		out.Twins = []twin.Twin{}
	}
	if out.Relationships == nil {
		out.Relationships = []twin.Relationship{}
	}
	return writeJSON(w, http.StatusOK, out)
}

// jsonObject decodes b as a JSON object, naming what it expected.
func jsonObject(b []byte, what string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, badRequest("InvalidArgument", "%s must be a JSON object", what)
	}
	return m, nil
}

// parsePatch decodes a JSON Patch body. Every error is a 400
// JsonPatchInvalid (twin.ParsePatch returns a plain error for JSON that is
// not an array of operations).
func parsePatch(body []byte) (twin.Patch, error) {
	p, err := twin.ParsePatch(body)
	if err != nil {
		var pe *twin.PatchError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &Error{Status: http.StatusBadRequest, Code: "JsonPatchInvalid", Message: err.Error()}
	}
	return p, nil
}

// checkID refuses ids that could not be read back as written: JSON turns
// invalid UTF-8 into U+FFFD, so such a twin could never be addressed by the
// id the API returns; control characters are refused with them.
func checkID(what, id string) error {
	if id == "" {
		return badRequest("InvalidArgument", "%s must not be empty", what)
	}
	if !utf8.ValidString(id) {
		return badRequest("InvalidArgument", "%s %q is not valid UTF-8", what, id)
	}
	if i := strings.IndexFunc(id, unicode.IsControl); i >= 0 {
		return badRequest("InvalidArgument", "%s %q contains the control character %U", what, id, []rune(id[i:])[0])
	}
	return nil
}

// patchRequest reads what every PATCH of a twin, component or relationship
// carries: its preconditions and its JSON Patch body.
func (a *API) patchRequest(w http.ResponseWriter, r *http.Request) (store.Condition, twin.Patch, error) {
	cond, err := condition(r)
	if err != nil {
		return cond, nil, err
	}
	body, err := readBody(w, r, a.opts.MaxBodyBytes, "application/json-patch+json", "application/json")
	if err != nil {
		return cond, nil, err
	}
	p, err := parsePatch(body)
	return cond, p, err
}
