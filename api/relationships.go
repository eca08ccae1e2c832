package api

import (
	"errors"
	"net/http"
	"net/url"

	"lodestone/store"
	"lodestone/twin"
)

func (a *API) relationshipRoutes() []Route {
	return []Route{
		{Pattern: "PUT /digitaltwins/{id}/relationships/{relId}", Handler: a.putRelationship, Summary: "Create or replace a relationship (target model and multiplicity enforced)", Body: "Relationship", Response: "Relationship"},
		{Pattern: "GET /digitaltwins/{id}/relationships/{relId}", Handler: a.getRelationship, Summary: "Get a relationship; ?asOf=RFC3339", Response: "Relationship"},
		{Pattern: "PATCH /digitaltwins/{id}/relationships/{relId}", Handler: a.patchRelationship, Summary: "Apply a JSON Patch to a relationship's properties", Body: "JsonPatch"},
		{Pattern: "DELETE /digitaltwins/{id}/relationships/{relId}", Handler: a.deleteRelationship, Summary: "Delete a relationship"},
		{Pattern: "GET /digitaltwins/{id}/relationships", Handler: a.listRelationships, Summary: "List outgoing relationships (?relationshipName=)", Response: "RelationshipList"},
		{Pattern: "GET /digitaltwins/{id}/incomingrelationships", Handler: a.listIncoming, Summary: "List incoming relationships", Response: "IncomingRelationshipList"},
	}
}

func (a *API) putRelationship(w http.ResponseWriter, r *http.Request) error {
	src := twin.ID(r.PathValue("id"))
	relID := r.PathValue("relId")
	cond, err := condition(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var rel twin.Relationship
	if err := decodeJSON(body, &rel); err != nil {
		return err
	}
	if rel.ID != "" && rel.ID != relID {
		return badRequest("InvalidArgument", "$relationshipId %q in the body differs from %q in the path", rel.ID, relID)
	}
	if rel.SourceID != "" && rel.SourceID != src {
		return badRequest("InvalidArgument", "$sourceId %q in the body differs from %q in the path", rel.SourceID, src)
	}
	if rel.TargetID == "" {
		return badRequest("ValidationFailed", "$targetId is required")
	}
	if rel.Name == "" {
		return badRequest("ValidationFailed", "$relationshipName is required")
	}
	rel.ID, rel.SourceID = relID, src
	if err := checkID("$relationshipId", relID); err != nil {
		return err
	}
	// A relationship may point only at a twin the principal sees; one it
	// does not see is missing, as the pipeline says of absent twins.
	v := a.viewerOf(r.Context())
	if _, err := a.seeTwin(r.Context(), v, src); err != nil {
		return err
	}
	if _, ok, err := a.twinVisible(r.Context(), v, rel.TargetID); err != nil {
		return err
	} else if !ok {
		return badRequest("ValidationFailed", "$targetId: there is no digital twin with id %s", rel.TargetID)
	}
	stored, err := a.pipe.PutRelationship(r.Context(), rel, cond)
	if err != nil {
		return a.sharedReadOnly(r.Context(), src, err)
	}
	w.Header().Set("ETag", string(stored.ETag))
	return writeJSON(w, http.StatusOK, stored)
}

func (a *API) getRelationship(w http.ResponseWriter, r *http.Request) error {
	src := twin.ID(r.PathValue("id"))
	relID := r.PathValue("relId")
	at, err := parseTimeParam(r, "asOf")
	if err != nil {
		return err
	}
	var rel twin.Relationship
	if at.IsZero() {
		rel, err = a.opts.Store.GetRelationship(r.Context(), src, relID)
	} else {
		rel, err = a.opts.Store.RelationshipAsOf(r.Context(), src, relID, at)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("RelationshipNotFound", "twin %s has no relationship %s", src, relID)
	}
	if err != nil {
		return err
	}
	rel, ok, err := a.rel(r.Context(), a.viewerOf(r.Context()), rel, at, nil)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("RelationshipNotFound", "twin %s has no relationship %s", src, relID)
	}
	w.Header().Set("ETag", string(rel.ETag))
	return writeJSON(w, http.StatusOK, rel)
}

func (a *API) patchRelationship(w http.ResponseWriter, r *http.Request) error {
	src := twin.ID(r.PathValue("id"))
	relID := r.PathValue("relId")
	cond, p, err := a.patchRequest(w, r)
	if err != nil {
		return err
	}
	stored, err := a.pipe.PatchRelationship(r.Context(), src, relID, p, cond)
	if err != nil {
		return a.sharedReadOnly(r.Context(), src, err)
	}
	w.Header().Set("ETag", string(stored.ETag))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteRelationship(w http.ResponseWriter, r *http.Request) error {
	src := twin.ID(r.PathValue("id"))
	relID := r.PathValue("relId")
	cond, err := condition(r)
	if err != nil {
		return err
	}
	rel, _ := a.opts.Store.GetRelationship(r.Context(), src, relID)
	if err := a.pipe.DeleteRelationship(r.Context(), src, relID, cond); err != nil {
		return a.sharedReadOnly(r.Context(), src, err)
	}
	if err := a.unlinkProcess(r.Context(), rel); err != nil {
		a.log.Error("clear the process link of a deleted hasUnit", "twin", src, "relationship", relID, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listRelationships(w http.ResponseWriter, r *http.Request) error {
	src := twin.ID(r.PathValue("id"))
	v := a.viewerOf(r.Context())
	if _, err := a.seeTwin(r.Context(), v, src); err != nil {
		return err
	}
	rels, err := a.opts.Store.ListRelationships(r.Context(), src, queryParams(r).Get("relationshipName"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", src)
	}
	if err != nil {
		return err
	}
	if rels, err = a.visibleRels(r.Context(), v, rels); err != nil {
		return err
	}
	if rels == nil {
		rels = []twin.Relationship{}
	}
	return writeJSON(w, http.StatusOK, RelationshipList{Value: rels})
}

func (a *API) listIncoming(w http.ResponseWriter, r *http.Request) error {
	tgt := twin.ID(r.PathValue("id"))
	v := a.viewerOf(r.Context())
	if _, err := a.seeTwin(r.Context(), v, tgt); err != nil {
		return err
	}
	rels, err := a.opts.Store.ListIncomingRelationships(r.Context(), tgt)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", tgt)
	}
	if err != nil {
		return err
	}
	if rels, err = a.visibleRels(r.Context(), v, rels); err != nil {
		return err
	}
	out := IncomingRelationshipList{Value: make([]IncomingRelationship, len(rels))}
	for i, rel := range rels {
		out.Value[i] = IncomingRelationship{
			RelationshipID:   rel.ID,
			SourceID:         rel.SourceID,
			RelationshipName: rel.Name,
			RelationshipLink: "/digitaltwins/" + url.PathEscape(string(rel.SourceID)) + "/relationships/" + url.PathEscape(rel.ID),
		}
	}
	return writeJSON(w, http.StatusOK, out)
}
