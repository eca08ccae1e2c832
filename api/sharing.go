package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/trust/tenancy"
	"lodestone/twin"
)

// Sharing agreements (package tenancy) are store documents of kind
// "sharing", one per agreement id, so that every server on the database
// sees them. Tenancy caches the policy they make and reads them again at
// most every sharingTTL (and at once after a change through this server),
// so an agreement put or deleted through another server is in force here
// within sharingTTL; an agreement's expiry is exact.
const (
	docSharing = "sharing"
	sharingTTL = time.Second
)

// AgreementList is the body of GET /sharing.
type AgreementList struct {
	Value []tenancy.Agreement `json:"value"`
}

// AgreementRequest is the body of PUT /sharing/{id}: what the owner org
// shares with to_org.
type AgreementRequest struct {
	ToOrg         string    `json:"to_org"`
	Models        []string  `json:"models"`
	Properties    []string  `json:"properties"`
	Relationships []string  `json:"relationships"`
	Purpose       string    `json:"purpose,omitempty"`
	Expires       time.Time `json:"expires,omitzero"`
}

// sharingCache holds the agreements read last and the policy made of
// them. Its zero value is ready (nothing read yet). Requests take the
// current policy without a lock; mu serialises the reads of the
// agreements.
type sharingCache struct {
	mu  sync.Mutex
	cur atomic.Pointer[sharingState] // nil: read the agreements first
}

// sharingState is one read of the agreements and the policy made of them.
type sharingState struct {
	read    time.Time // when the agreements were read
	all     []tenancy.Agreement
	pol     *tenancy.Policy
	validTo time.Time // the policy holds until the next expiry
}

func (a *API) sharing() *sharingCache { return &a.shares }

// Tenancy returns the tenancy policy in force now: the stored sharing
// agreements that have not expired. It is cached (see sharingTTL); a
// failure to read the agreements keeps the previous ones, or none, and
// is logged: a principal then sees less, never more.
//
// A fresh policy is returned without a lock. Once it is sharingTTL old,
// one request reads the agreements again while concurrent ones keep
// using it (they do not queue behind the store read); a policy past an
// agreement's expiry, or none (at start, after a change through this
// server), is never used: the request waits for the new one.
func (a *API) Tenancy(ctx context.Context) *tenancy.Policy {
	c := a.sharing()
	now := a.now()
	s := c.cur.Load()
	usable := s != nil && now.Before(s.validTo) && !now.Before(s.read)
	if usable && now.Sub(s.read) < sharingTTL {
		return s.pol
	}
	if usable {
		if !c.mu.TryLock() {
			return s.pol // another request is reading them
		}
	} else {
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	return a.loadSharing(ctx, c, now).pol
}

// loadSharing reads the agreements again unless another request did while
// this one waited for c.mu (held), rebuilding the policy at now.
func (a *API) loadSharing(ctx context.Context, c *sharingCache, now time.Time) *sharingState {
	prev := c.cur.Load()
	if prev != nil && now.Before(prev.validTo) && !now.Before(prev.read) && now.Sub(prev.read) < sharingTTL {
		return prev
	}
	next := &sharingState{read: now}
	all, err := a.loadAgreements(ctx)
	switch {
	case err == nil:
		next.all = all
	case prev != nil:
		a.log.Warn("read sharing agreements", "err", err)
		next.all = prev.all
	default:
		a.log.Warn("read sharing agreements", "err", err)
	}
	next.pol = tenancy.NewPolicy(next.all, now)
	next.validTo = time.Unix(1<<62, 0)
	for _, ag := range next.all {
		if !ag.Expires.IsZero() && ag.Expires.After(now) && ag.Expires.Before(next.validTo) {
			next.validTo = ag.Expires
		}
	}
	c.cur.Store(next)
	return next
}

// invalidateSharing makes the next Tenancy read the agreements again.
func (a *API) invalidateSharing() {
	c := a.sharing()
	c.mu.Lock()
	c.cur.Store(nil)
	c.mu.Unlock()
}

func (a *API) loadAgreements(ctx context.Context) ([]tenancy.Agreement, error) {
	docs, err := a.opts.Store.ListDocs(ctx, docSharing)
	if err != nil {
		return nil, err
	}
	out := make([]tenancy.Agreement, 0, len(docs))
	for _, d := range docs {
		var ag tenancy.Agreement
		if err := json.Unmarshal(d.Body, &ag); err != nil {
			a.log.Warn("sharing agreement does not decode; ignored", "id", d.ID, "err", err)
			continue
		}
		out = append(out, ag)
	}
	return out, nil
}

// principal returns the principal of a request; a request without one
// (an API without Security) acts as the anonymous principal.
func principal(ctx context.Context) auth.Principal {
	pr, ok := auth.FromContext(ctx)
	if !ok || pr.Method == "" {
		return auth.Anonymous
	}
	return pr
}

func (a *API) sharingRoutes() []Route {
	return []Route{
		{Pattern: "PUT /sharing/{id}", Handler: a.putAgreement, Summary: "Create or replace a sharing agreement of the principal's org (admin): to_org reads twins of the listed models with only the listed properties and relationships until expires", Body: "AgreementRequest", Response: "Agreement"},
		{Pattern: "GET /sharing", Handler: a.listAgreements, Summary: "The sharing agreements the principal's org gives or receives (expired ones included)", Response: "AgreementList"},
		{Pattern: "GET /sharing/{id}", Handler: a.getAgreement, Summary: "A sharing agreement the principal's org gives or receives", Response: "Agreement"},
		{Pattern: "DELETE /sharing/{id}", Handler: a.deleteAgreement, Summary: "End a sharing agreement of the principal's org (admin)"},
	}
}

func (a *API) putAgreement(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	pr := principal(ctx)
	id := r.PathValue("id")
	if err := tenancy.ValidID(id); err != nil {
		return badRequest("InvalidArgument", "%s", errMessage(err))
	}
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	if pr.Org == "" {
		return badRequest("InvalidArgument", "owner: principal %s belongs to no org; only a principal of an org shares its things (start the server with --auth)", pr.Subject)
	}
	if !pr.Has(auth.Admin) {
		return &Error{Status: http.StatusForbidden, Code: "Forbidden", Message: "only an admin of org " + pr.Org + " may share its things"}
	}
	var req AgreementRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("InvalidArgument", "request body: %v (fields: to_org, models, properties, relationships, purpose, expires)", err)
	}
	cur, err := a.opts.Store.GetDoc(ctx, docSharing, id)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	cond := store.Condition{IfNoneMatch: true}
	if exists {
		var old tenancy.Agreement
		if json.Unmarshal(cur.Body, &old) != nil || old.Owner != pr.Org {
			// Another org's agreement id: not disclosed, and not ours.
			return &Error{Status: http.StatusConflict, Code: "AgreementIdInUse", Message: "sharing agreement id " + id + " is taken; choose another"}
		}
		cond = store.Condition{IfMatch: cur.ETag}
	}
	ms, err := a.pipe.Fresh(ctx)
	if err != nil {
		return err
	}
	ag := tenancy.Agreement{ID: id, Owner: pr.Org, ToOrg: req.ToOrg, Models: req.Models, Properties: orEmpty(req.Properties),
		Relationships: orEmpty(req.Relationships), Purpose: req.Purpose, Expires: req.Expires.UTC(), Created: a.now().UTC(), CreatedBy: pr.Subject}
	if req.Expires.IsZero() {
		ag.Expires = time.Time{}
	}
	owned := func(m string) bool { mm, ok := ms.All[m]; return ok && mm.Org == pr.Org }
	if err := ag.Validate(owned); err != nil {
		return badRequest("InvalidArgument", "%s", errMessage(err))
	}
	b, err := json.Marshal(ag)
	if err != nil {
		return err
	}
	if _, err := a.opts.Store.PutDoc(ctx, store.Doc{Kind: docSharing, ID: id, Body: b}, cond); err != nil {
		if errors.Is(err, store.ErrPreconditionFailed) {
			return &Error{Status: http.StatusConflict, Code: "Conflict", Message: "sharing agreement " + id + " changed meanwhile; retry"}
		}
		return err
	}
	a.invalidateSharing()
	return writeRawJSON(w, http.StatusOK, b)
}

// errMessage is an agreement error without the package prefix.
func errMessage(err error) string {
	s := err.Error()
	const p = "tenancy: invalid agreement: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// agreementOf reads agreement id as pr may see it: its org must give or
// receive it; otherwise it is not found.
func (a *API) agreementOf(ctx context.Context, pr auth.Principal, id string) (tenancy.Agreement, store.Doc, error) {
	d, err := a.opts.Store.GetDoc(ctx, docSharing, id)
	nf := notFound("AgreementNotFound", "there is no sharing agreement with id %s", id)
	if errors.Is(err, store.ErrNotFound) {
		return tenancy.Agreement{}, d, nf
	}
	if err != nil {
		return tenancy.Agreement{}, d, err
	}
	var ag tenancy.Agreement
	if err := json.Unmarshal(d.Body, &ag); err != nil {
		return ag, d, err
	}
	if !visibleAgreement(pr, ag) {
		return tenancy.Agreement{}, d, nf
	}
	return ag, d, nil
}

// visibleAgreement reports whether pr's org gives or receives ag (every
// agreement for the anonymous principal).
func visibleAgreement(pr auth.Principal, ag tenancy.Agreement) bool {
	return pr.Method == "anonymous" || (pr.Org != "" && (ag.Owner == pr.Org || ag.ToOrg == pr.Org))
}

func (a *API) listAgreements(w http.ResponseWriter, r *http.Request) error {
	pr := principal(r.Context())
	all, err := a.loadAgreements(r.Context())
	if err != nil {
		return err
	}
	out := AgreementList{Value: []tenancy.Agreement{}}
	for _, ag := range all {
		if visibleAgreement(pr, ag) {
			out.Value = append(out.Value, ag)
		}
	}
	slices.SortFunc(out.Value, func(x, y tenancy.Agreement) int {
		switch {
		case x.ID < y.ID:
			return -1
		case x.ID > y.ID:
			return 1
		}
		return 0
	})
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getAgreement(w http.ResponseWriter, r *http.Request) error {
	ag, _, err := a.agreementOf(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ag)
}

func (a *API) deleteAgreement(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	pr := principal(ctx)
	id := r.PathValue("id")
	ag, d, err := a.agreementOf(ctx, pr, id)
	if err != nil {
		return err
	}
	if pr.Method != "anonymous" && (ag.Owner != pr.Org || !pr.Has(auth.Admin)) {
		return &Error{Status: http.StatusForbidden, Code: "Forbidden", Message: "only an admin of org " + ag.Owner + " may end sharing agreement " + id}
	}
	if err := a.opts.Store.DeleteDoc(ctx, docSharing, id, store.Condition{IfMatch: d.ETag}); err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrPreconditionFailed) {
			return &Error{Status: http.StatusConflict, Code: "Conflict", Message: "sharing agreement " + id + " changed meanwhile; retry"}
		}
		return err
	}
	a.invalidateSharing()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// modelVisible reports whether the principal of ctx sees model id (false
// when there is none).
func (a *API) modelVisible(ctx context.Context, pr auth.Principal, m twin.Model) bool {
	pol := a.Tenancy(ctx)
	return pol.ModelVisible(pr, m)
}
