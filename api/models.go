package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"lodestone/dtdl"
	"lodestone/pipeline"
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
	d := ModelData{ID: m.ID, UploadTime: m.UploadTime, Decommissioned: m.Decommissioned, Org: m.Org}
	d.DisplayName, d.Description = pipeline.ModelStrings(m.DTDL)
	if full {
		d.Model = m.DTDL
	}
	return d
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
	if err := a.checkModelRefs(a.viewerOf(r.Context()), raws); err != nil {
		return err
	}
	added, err := a.pipe.PutModels(r.Context(), raws)
	if err != nil {
		return err
	}
	out := make([]ModelData, len(added))
	for i, m := range added {
		out[i] = modelData(m, false)
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) listModels(w http.ResponseWriter, r *http.Request) error {
	full := queryParams(r).Get("includeModelDefinition") == "true"
	ms, err := a.pipe.Fresh(r.Context())
	if err != nil {
		return err
	}
	all := ms.All
	v := a.viewerOf(r.Context())
	var ids []string
	if deps := queryParams(r)["dependenciesFor"]; len(deps) > 0 {
		set := ms.Set
		want := map[string]bool{}
		for _, d := range deps {
			for _, id := range strings.Split(d, ",") {
				if set == nil || set.Interface(id) == nil || !v.model(all[id]) {
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
	size, err := maxItemsPerPage(r)
	if err != nil {
		return err
	}
	after, err := pageAfter(r)
	if err != nil {
		return err
	}
	out := ModelList{Value: make([]ModelData, 0, len(ids))}
	for _, id := range ids {
		if id <= after && after != "" {
			continue
		}
		m, ok := all[id]
		if !ok || !v.model(m) {
			continue
		}
		if size > 0 && len(out.Value) == size {
			out.NextLink = nextLink(r, out.Value[size-1].ID)
			break
		}
		out.Value = append(out.Value, modelData(m, full))
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
	ms, err := a.pipe.Fresh(r.Context())
	if err != nil {
		return err
	}
	m, ok := ms.All[id]
	if !ok || !a.viewerOf(r.Context()).model(m) {
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
	if err := a.pipe.DecommissionModel(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteModel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := a.pipe.DeleteModel(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) modelProperties(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ms, err := a.pipe.Fresh(r.Context())
	if err != nil {
		return err
	}
	set := ms.Set
	var iface *dtdl.Interface
	if set != nil {
		iface = set.Interface(id)
	}
	if iface == nil || !a.viewerOf(r.Context()).model(ms.All[id]) {
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

// checkModelRefs refuses a batch of models that names (extends, uses as a
// schema or targets) a stored model the principal does not see, as if it
// were not uploaded: a model of another org is not disclosed, nor built
// upon.
func (a *API) checkModelRefs(v viewer, raws []json.RawMessage) error {
	if v.all {
		return nil
	}
	all := a.pipe.Models().All
	var walk func(x any) string
	walk = func(x any) string {
		switch x := x.(type) {
		case string:
			if m, ok := all[x]; ok && !v.model(m) {
				return x
			}
		case []any:
			for _, e := range x {
				if id := walk(e); id != "" {
					return id
				}
			}
		case map[string]any:
			for _, e := range x {
				if id := walk(e); id != "" {
					return id
				}
			}
		}
		return ""
	}
	for i, raw := range raws {
		var doc any
		if json.Unmarshal(raw, &doc) != nil {
			continue // the pipeline says what is wrong with it
		}
		if id := walk(doc); id != "" {
			return badRequest("ModelNotFound", "models[%d]: model %s is not uploaded; upload it with POST /models first", i, id)
		}
	}
	return nil
}
