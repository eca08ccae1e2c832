package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"lodestone/dtdl"
	"lodestone/event"
	"lodestone/store"
	"lodestone/twin"
)

func (a *API) modelRoutes() []Route {
	return []Route{
		{Pattern: "POST /models", Handler: a.postModels, Summary: "Upload a batch of DTDL interfaces (atomic: all or none)", Body: "DTDLArray", Response: "ModelDataArray"},
		{Pattern: "GET /models", Handler: a.listModels, Summary: "List models (?includeModelDefinition=true, ?dependenciesFor=ID)", Response: "ModelList"},
		{Pattern: "GET /models/{id}", Handler: a.getModel, Summary: "Get a model (?includeModelDefinition=true)", Response: "ModelData"},
		{Pattern: "PATCH /models/{id}", Handler: a.patchModel, Summary: "Decommission a model: [{\"op\":\"replace\",\"path\":\"/decommissioned\",\"value\":true}]", Body: "JsonPatch"},
		{Pattern: "DELETE /models/{id}", Handler: a.deleteModel, Summary: "Delete a model no twin uses and no model extends"},
		{Pattern: "GET /api/v1/models/{id}/properties", Handler: a.modelProperties, Summary: "A model's contents with inheritance, schemas and units", Response: "PropertyInfoList"},
	}
}

// modelData converts a stored model to ADT's ModelData, with the DTDL
// document when full is set.
func modelData(m twin.Model, full bool) ModelData {
	d := ModelData{ID: m.ID, UploadTime: m.UploadTime, Decommissioned: m.Decommissioned}
	var head struct {
		DisplayName json.RawMessage `json:"displayName"`
		Description json.RawMessage `json:"description"`
	}
	if json.Unmarshal(m.DTDL, &head) == nil {
		d.DisplayName = langString(head.DisplayName)
		d.Description = langString(head.Description)
	}
	if full {
		d.Model = m.DTDL
	}
	return d
}

// langString reads a DTDL localizable string: "text" or {"en": "text"}.
func langString(raw json.RawMessage) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return map[string]string{"en": s}
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) == nil {
		return m
	}
	return nil
}

func (a *API) postModels(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes*32, jsonTypes...)
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	if err := decodeJSON(body, &raws); err != nil {
		return badRequest("InvalidArgument", "the body must be a JSON array of DTDL interfaces: %v", err)
	}
	if len(raws) == 0 {
		return badRequest("InvalidArgument", "the body holds no models")
	}
	added, err := a.addModels(r, raws)
	if err != nil {
		return err
	}
	out := make([]ModelData, len(added))
	for i, m := range added {
		out[i] = modelData(m, false)
	}
	return writeJSON(w, http.StatusCreated, out)
}

// addModels validates new models together with the stored ones, stores them
// atomically and publishes their events.
func (a *API) addModels(r *http.Request, raws []json.RawMessage) ([]twin.Model, error) {
	models := make([]twin.Model, 0, len(raws))
	seen := map[string]bool{}
	for i, raw := range raws {
		var head struct {
			ID string `json:"@id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.ID == "" {
			return nil, badRequest("InvalidArgument", "models[%d]: not a DTDL interface with an @id", i)
		}
		if seen[head.ID] {
			return nil, badRequest("InvalidArgument", "models[%d]: %s appears twice in the batch", i, head.ID)
		}
		seen[head.ID] = true
		models = append(models, twin.Model{ID: head.ID, DTDL: raw})
	}
	a.models.mu.Lock()
	defer a.models.mu.Unlock()
	for _, m := range models {
		if _, dup := a.models.all[m.ID]; dup {
			return nil, &Error{Status: http.StatusConflict, Code: "ModelIdAlreadyExists", Message: fmt.Sprintf("model %s already exists; model ids are immutable, upload a new version", m.ID)}
		}
	}
	all := make([]twin.Model, 0, len(a.models.all)+len(models))
	for _, m := range a.models.all {
		all = append(all, m)
	}
	all = append(all, models...)
	set, err := parseModels(all)
	if err != nil {
		return nil, err
	}
	for i := range models {
		if iface := set.Interface(models[i].ID); iface != nil {
			for _, p := range iface.Extends() {
				models[i].Extends = append(models[i].Extends, p.ID)
			}
		}
	}
	stored, err := a.opts.Store.PutModels(r.Context(), models)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &Error{Status: http.StatusConflict, Code: "ModelIdAlreadyExists", Message: err.Error()}
		}
		return nil, err
	}
	nextAll := make(map[string]twin.Model, len(a.models.all)+len(stored))
	for k, v := range a.models.all {
		nextAll[k] = v
	}
	for _, m := range stored {
		nextAll[m.ID] = m
	}
	a.models.set, a.models.all = set, nextAll
	for _, m := range stored {
		if err := a.publish(r.Context(), event.TypeModelCreated, m.ID, "", m.UploadTime, modelData(m, false), m.UploadTime.String()); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

func (a *API) listModels(w http.ResponseWriter, r *http.Request) error {
	full := queryParams(r).Get("includeModelDefinition") == "true"
	_, all := a.models.snapshot()
	var ids []string
	if deps := queryParams(r)["dependenciesFor"]; len(deps) > 0 {
		set, _ := a.models.snapshot()
		want := map[string]bool{}
		for _, d := range deps {
			for _, id := range strings.Split(d, ",") {
				if set == nil || set.Interface(id) == nil {
					return notFound("ModelNotFound", "model %s not found", id)
				}
				collectDeps(set.Interface(id), want)
			}
		}
		for id := range want {
			ids = append(ids, id)
		}
	} else {
		for id := range all {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := ModelList{Value: make([]ModelData, 0, len(ids))}
	for _, id := range ids {
		if m, ok := all[id]; ok {
			out.Value = append(out.Value, modelData(m, full))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// collectDeps adds i and every model it depends on: its bases and the
// schemas of its components (relationship targets are not dependencies: a
// model parses without them, as in ADT).
func collectDeps(i *dtdl.Interface, seen map[string]bool) {
	if i == nil || seen[i.ID] {
		return
	}
	seen[i.ID] = true
	for _, p := range i.Extends() {
		collectDeps(p, seen)
	}
	for _, c := range i.Contents() {
		if comp, ok := c.(*dtdl.Component); ok {
			collectDeps(comp.Schema, seen)
		}
	}
}

func (a *API) getModel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	_, all := a.models.snapshot()
	m, ok := all[id]
	if !ok {
		return notFound("ModelNotFound", "there is no model with id %s", id)
	}
	return writeJSON(w, http.StatusOK, modelData(m, queryParams(r).Get("includeModelDefinition") == "true"))
}

func (a *API) patchModel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	body, err := readBody(w, r, a.opts.MaxBodyBytes, "application/json-patch+json", "application/json")
	if err != nil {
		return err
	}
	p, err := parsePatch(body)
	if err != nil {
		return err
	}
	if len(p) != 1 || p[0].Op != "replace" || p[0].Path != "/decommissioned" || p[0].Value != true {
		return badRequest("JsonPatchInvalid", `a model patch must be exactly [{"op":"replace","path":"/decommissioned","value":true}]`)
	}
	a.models.mu.Lock()
	defer a.models.mu.Unlock()
	if _, ok := a.models.all[id]; !ok {
		return notFound("ModelNotFound", "there is no model with id %s", id)
	}
	if err := a.opts.Store.DecommissionModel(r.Context(), id); err != nil {
		return err
	}
	m, err := a.opts.Store.GetModel(r.Context(), id)
	if err != nil {
		return err
	}
	next := make(map[string]twin.Model, len(a.models.all))
	for k, v := range a.models.all {
		next[k] = v
	}
	next[id] = m
	a.models.all = next
	if err := a.publish(r.Context(), event.TypeModelUpdated, id, "", a.now(), p, "decommissioned"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteModel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	a.models.mu.Lock()
	defer a.models.mu.Unlock()
	if _, ok := a.models.all[id]; !ok {
		return notFound("ModelNotFound", "there is no model with id %s", id)
	}
	rest := make([]twin.Model, 0, len(a.models.all))
	next := make(map[string]twin.Model, len(a.models.all))
	for k, v := range a.models.all {
		if k != id {
			rest = append(rest, v)
			next[k] = v
		}
	}
	// The store refuses to delete a model that twins use or models extend;
	// a model that is only the schema of another's component (or any other
	// reference) shows up here, when the rest no longer parses. Check it
	// before the delete so that the store and the parsed set never differ.
	set, err := parseModels(rest)
	if err != nil {
		return &Error{Status: http.StatusConflict, Code: "ModelReferencesNotDeleted", Message: fmt.Sprintf("model %s is referenced by other models; delete those first", id), Err: err}
	}
	if err := a.opts.Store.DeleteModel(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &Error{Status: http.StatusConflict, Code: "ModelReferencesNotDeleted", Message: fmt.Sprintf("model %s is used by twins or extended by other models; delete those first", id), Err: err}
		}
		return err
	}
	a.models.set, a.models.all = set, next
	now := a.now()
	if err := a.publish(r.Context(), event.TypeModelDeleted, id, "", now, nil, now.String()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) modelProperties(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	set, _ := a.models.snapshot()
	var iface *dtdl.Interface
	if set != nil {
		iface = set.Interface(id)
	}
	if iface == nil {
		return notFound("ModelNotFound", "there is no model with id %s", id)
	}
	out := PropertyInfoList{Value: []PropertyInfo{}}
	for _, name := range iface.ContentNames() {
		out.Value = append(out.Value, describeContent(iface, name))
	}
	return writeJSON(w, http.StatusOK, out)
}

// describeContent summarises one content element of iface for the
// dashboard: its kind, schema, unit and the interface that declares it.
func describeContent(iface *dtdl.Interface, name string) PropertyInfo {
	c := iface.Content(name)
	info := PropertyInfo{Name: name, Kind: c.Kind(), DefinedIn: definedIn(iface, name)}
	switch v := c.(type) {
	case *dtdl.Property:
		info.Schema, info.Unit, info.SemanticType, info.Writable = schemaName(v.Schema), v.Unit, v.SemanticType, v.Writable
	case *dtdl.Telemetry:
		info.Schema, info.Unit, info.SemanticType = schemaName(v.Schema), v.Unit, v.SemanticType
	case *dtdl.Relationship:
		info.Target, info.Writable = v.Target, v.Writable
	case *dtdl.Component:
		if v.Schema != nil {
			info.Schema = v.Schema.ID
		}
	}
	return info
}

func schemaName(s dtdl.Schema) string {
	if s == nil {
		return ""
	}
	if p, ok := s.(*dtdl.Primitive); ok {
		return p.Name
	}
	return s.SchemaKind()
}

// definedIn finds the interface in iface's inheritance that declares name,
// searching iface itself first, then its bases depth-first.
func definedIn(iface *dtdl.Interface, name string) string {
	seen := map[string]bool{}
	var walk func(i *dtdl.Interface) string
	walk = func(i *dtdl.Interface) string {
		if i == nil || seen[i.ID] {
			return ""
		}
		seen[i.ID] = true
		for _, c := range i.OwnContents() {
			if c.ContentName() == name {
				return i.ID
			}
		}
		for _, p := range i.Extends() {
			if id := walk(p); id != "" {
				return id
			}
		}
		return ""
	}
	return walk(iface)
}
