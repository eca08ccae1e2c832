package api

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"lodestone/dtdl"
	"lodestone/event"
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

// relLock returns the lock of the relationships of source twin src.
func (a *API) relLock(src twin.ID) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(src))
	return &a.relLocks[h.Sum32()%uint32(len(a.relLocks))]
}

func relSubject(source twin.ID, id string) string {
	return event.RelationshipSubject(string(source), id)
}

func (a *API) sourceTwin(r *http.Request, id twin.ID) (twin.Twin, *dtdl.Interface, error) {
	t, err := a.opts.Store.GetTwin(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return t, nil, notFound("DigitalTwinNotFound", "there is no digital twin with id %s", id)
	}
	if err != nil {
		return t, nil, err
	}
	iface, err := a.models.iface(t.Metadata.Model)
	if iface == nil {
		return t, nil, err
	}
	return t, iface, nil
}

// checkRelationship validates rel against its source twin's model: the
// relationship is declared, the target twin exists and is of the declared
// target model, the multiplicity holds and the edge properties fit.
func (a *API) checkRelationship(r *http.Request, rel twin.Relationship, replacing bool) error {
	_, iface, err := a.sourceTwin(r, rel.SourceID)
	if err != nil {
		return err
	}
	tgt, err := a.opts.Store.GetTwin(r.Context(), rel.TargetID)
	if errors.Is(err, store.ErrNotFound) {
		return badRequest("ValidationFailed", "$targetId: there is no digital twin with id %s", rel.TargetID)
	}
	if err != nil {
		return err
	}
	tgtIface, _ := a.models.iface(tgt.Metadata.Model)
	existing, err := a.opts.Store.ListRelationships(r.Context(), rel.SourceID, rel.Name)
	if err != nil {
		return err
	}
	// count includes rel itself: it adds one unless it replaces an
	// existing edge of the same name.
	count := len(existing) + 1
	if replacing && slices.ContainsFunc(existing, func(e twin.Relationship) bool { return e.ID == rel.ID }) {
		count--
	}
	return iface.ValidateRelationship(rel.Name, tgtIface, rel.Properties, count)
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
	mu := a.relLock(src)
	mu.Lock()
	defer mu.Unlock()
	old, getErr := a.opts.Store.GetRelationship(r.Context(), src, relID)
	existed := getErr == nil
	if existed && old.Name != rel.Name {
		return badRequest("ValidationFailed", "relationship %s is a %s; its name cannot change to %s", relID, old.Name, rel.Name)
	}
	if err := a.checkRelationship(r, rel, existed); err != nil {
		return err
	}
	stored, err := a.opts.Store.PutRelationship(r.Context(), rel, cond)
	if err != nil {
		return err
	}
	typ := event.TypeRelationshipCreated
	if existed {
		typ = event.TypeRelationshipUpdated
	}
	if err := a.publish(r.Context(), typ, relSubject(src, relID), "", a.now(), stored, string(stored.ETag)); err != nil {
		return err
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
	for attempt := 0; ; attempt++ {
		cur, err := a.opts.Store.GetRelationship(r.Context(), src, relID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("RelationshipNotFound", "twin %s has no relationship %s", src, relID)
		}
		if err != nil {
			return err
		}
		if cond.IfMatch != "" && !cur.ETag.Matches(cond.IfMatch) {
			return &Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed", Message: fmt.Sprintf("relationship %s has etag %s, not %s", relID, cur.ETag, cond.IfMatch)}
		}
		next, err := cur.ApplyPatch(p)
		if err != nil {
			return err
		}
		if err := a.checkRelationship(r, next, true); err != nil {
			return err
		}
		stored, err := a.opts.Store.PatchRelationship(r.Context(), src, relID, p, store.Condition{IfMatch: cur.ETag})
		if errors.Is(err, store.ErrPreconditionFailed) && anyVersion(cond) && attempt < 8 {
			continue
		}
		if err != nil {
			return err
		}
		if err := a.publish(r.Context(), event.TypeRelationshipUpdated, relSubject(src, relID), "", a.now(), p, string(stored.ETag)); err != nil {
			return err
		}
		w.Header().Set("ETag", string(stored.ETag))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *API) deleteRelationship(w http.ResponseWriter, r *http.Request) error {
	src := twin.ID(r.PathValue("id"))
	relID := r.PathValue("relId")
	cond, err := condition(r)
	if err != nil {
		return err
	}
	// As deleteTwin: conditional on the version read, read again after a
	// concurrent write when the client gave no If-Match.
	var cur twin.Relationship
	for attempt := 0; ; attempt++ {
		cur, err = a.opts.Store.GetRelationship(r.Context(), src, relID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("RelationshipNotFound", "twin %s has no relationship %s", src, relID)
		}
		if err != nil {
			return err
		}
		c := cond
		if c.IfMatch == "" {
			c.IfMatch = cur.ETag
		}
		err = a.opts.Store.DeleteRelationship(r.Context(), src, relID, c)
		if errors.Is(err, store.ErrPreconditionFailed) && anyVersion(cond) && attempt < 8 {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	if err := a.publish(r.Context(), event.TypeRelationshipDeleted, relSubject(src, relID), "", a.now(), cur, string(cur.ETag)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listRelationships(w http.ResponseWriter, r *http.Request) error {
	src := twin.ID(r.PathValue("id"))
	rels, err := a.opts.Store.ListRelationships(r.Context(), src, queryParams(r).Get("relationshipName"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", src)
	}
	if err != nil {
		return err
	}
	if rels == nil {
		rels = []twin.Relationship{}
	}
	return writeJSON(w, http.StatusOK, RelationshipList{Value: rels})
}

func (a *API) listIncoming(w http.ResponseWriter, r *http.Request) error {
	tgt := twin.ID(r.PathValue("id"))
	rels, err := a.opts.Store.ListIncomingRelationships(r.Context(), tgt)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", tgt)
	}
	if err != nil {
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
