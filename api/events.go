package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/event"
	"lodestone/store"
	"lodestone/trust/auth"
)

// Endpoints, event routes and the routes' checkpoints are documents in the
// store (store.Documents), so they survive a restart and every server on
// one database sees the same ones. Each route is delivered by one server
// at a time: the one that holds the route's lease, a document that the
// holder renews and that another server takes over once it has expired.
// Deliveries resume from the route's checkpoint, also a document, so a
// route moves between servers (or restarts) with at most the redeliveries
// that at-least-once allows.
const (
	docEndpoint   = "endpoint"
	docRoute      = "route"
	docLease      = "route-lease"
	docCheckpoint = "route-checkpoint"

	// leaseTTL is how long a route's lease lasts without renewal;
	// leaseRenew is how often the holder renews it (and looks for routes
	// to take over).
	leaseTTL   = 15 * time.Second
	leaseRenew = 3 * time.Second
)

// eventRoutes runs the routes whose leases this server holds with an
// event.Router, rebuilt when that set changes.
type eventRoutes struct {
	mu      sync.Mutex // guards the fields below; held while the router is rebuilt
	owner   string     // this server's lease owner id
	router  *event.Router
	running string // fingerprint of the routes the router runs
	// filtered counts, per route of the router, the events its owner
	// does not see: the router counts them as delivered (the endpoint
	// took them), the statistics as filtered.
	filtered map[string]*atomic.Uint64
	ctx      context.Context
	stop     chan struct{}
	done     chan struct{}
}

// lease is the body of a route's lease document.
type lease struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

func (a *API) eventRouteRoutes() []Route {
	return []Route{
		{Pattern: "PUT /endpoints/{name}", Handler: a.putEndpoint, Summary: "Create or replace an endpoint: a webhook URL or a JetStream subject", Body: "Endpoint", Response: "Endpoint"},
		{Pattern: "GET /endpoints", Handler: a.listEndpoints, Summary: "List endpoints", Response: "EndpointList"},
		{Pattern: "DELETE /endpoints/{name}", Handler: a.deleteEndpoint, Summary: "Delete an endpoint no route uses"},
		{Pattern: "PUT /eventroutes/{id}", Handler: a.putEventRoute, Summary: "Create or replace an event route: a filter (type=…&source=…&subject=…) to an endpoint", Body: "EventRoute"},
		{Pattern: "GET /eventroutes", Handler: a.listEventRoutes, Summary: "List event routes with the delivery statistics of the routes this server delivers", Response: "EventRouteList"},
		{Pattern: "GET /eventroutes/{id}", Handler: a.getEventRoute, Summary: "Get an event route", Response: "EventRoute"},
		{Pattern: "DELETE /eventroutes/{id}", Handler: a.deleteEventRoute, Summary: "Delete an event route"},
	}
}

// docs returns the store's documents.
func (a *API) docs() store.Documents { return a.opts.Store }

// StartRoutes runs the event routes until ShutdownRoutes: it takes the
// leases of the stored routes it can and renews them.
func (a *API) StartRoutes(ctx context.Context) error {
	ev := &a.events
	ev.mu.Lock()
	if ev.owner == "" {
		ev.owner = a.opts.InstanceID
	}
	if ev.owner == "" {
		var b [8]byte
		rand.Read(b[:])
		ev.owner = hex.EncodeToString(b[:])
	}
	runCtx := context.WithoutCancel(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	ev.ctx, ev.stop, ev.done = runCtx, stop, done
	ev.mu.Unlock()
	if err := a.reconcileRoutes(ctx); err != nil {
		return err
	}
	go func() {
		defer close(done)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := a.reconcileRoutes(runCtx); err != nil {
					a.log.Warn("event routes", "err", err)
				}
			}
		}
	}()
	return nil
}

// ShutdownRoutes stops the event routes, waits for their goroutines and
// gives up this server's leases so that another server takes the routes
// over at once.
func (a *API) ShutdownRoutes(ctx context.Context) error {
	ev := &a.events
	ev.mu.Lock()
	stop, done := ev.stop, ev.done
	ev.stop = nil
	ev.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var err error
	if ev.router != nil {
		err = ev.router.Shutdown(ctx)
		ev.router, ev.running = nil, ""
	}
	ev.ctx = nil
	leases, lerr := a.docs().ListDocs(ctx, docLease)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	for _, d := range leases {
		var l lease
		if json.Unmarshal(d.Body, &l) == nil && l.Owner == ev.owner {
			_ = a.docs().DeleteDoc(ctx, docLease, d.ID, store.Condition{IfMatch: d.ETag})
		}
	}
	return err
}

// reconcileRoutes takes or renews the leases of the stored routes and runs
// those it holds.
func (a *API) reconcileRoutes(ctx context.Context) error {
	ev := &a.events
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.ctx == nil || a.opts.Bus == nil {
		return nil
	}
	routes, err := a.docs().ListDocs(ctx, docRoute)
	if err != nil {
		return err
	}
	eps, err := a.docs().ListDocs(ctx, docEndpoint)
	if err != nil {
		return err
	}
	endpoints := map[string]Endpoint{}
	for _, d := range eps {
		var ep storedEndpoint
		if json.Unmarshal(d.Body, &ep) == nil {
			endpoints[d.ID] = ep.Endpoint
		}
	}
	type owned struct {
		Key      string // the route's document id
		Route    storedRoute
		Endpoint Endpoint
	}
	var mine []owned
	for _, d := range routes {
		var rt storedRoute
		if json.Unmarshal(d.Body, &rt) != nil {
			continue
		}
		ok, err := a.holdLease(ctx, d.ID)
		if err != nil {
			return err
		}
		if ok {
			mine = append(mine, owned{d.ID, rt, endpoints[scopedKey(rt.Owner, rt.Endpoint)]})
		}
	}
	fp, _ := json.Marshal(mine)
	if string(fp) == ev.running && (ev.router != nil || len(mine) == 0) {
		return nil
	}
	if ev.router != nil {
		if err := ev.router.Shutdown(ctx); err != nil {
			return err
		}
		ev.router, ev.running = nil, ""
	}
	var rs []event.Route
	filtered := map[string]*atomic.Uint64{}
	for _, o := range mine {
		f, err := event.ParseFilter(o.Route.Filter)
		if err != nil {
			a.log.Warn("event route", "route", o.Route.ID, "err", err)
			continue
		}
		ep, err := a.endpoint(o.Endpoint)
		if err != nil {
			a.log.Warn("event route", "route", o.Route.ID, "err", err)
			continue
		}
		// The route delivers only what its owner sees.
		filtered[o.Key] = new(atomic.Uint64)
		r := event.Route{Name: o.Key, Filter: f, Endpoint: a.routeEndpoint(o.Route.Owner.reader(), ep, filtered[o.Key])}
		if a.opts.SubjectEndpoint != nil {
			if dl, err := a.opts.SubjectEndpoint("deadletter." + o.Key); err == nil {
				r.DeadLetter = dl
			}
		}
		rs = append(rs, r)
	}
	ev.running = string(fp)
	if len(rs) == 0 {
		return nil
	}
	cps := a.opts.Checkpoints
	if cps == nil {
		cps = docCheckpoints{a.docs()}
	}
	router, err := event.NewRouter(a.opts.Bus, rs, &event.RouterOptions{Logger: a.log, Checkpoints: cps})
	if err != nil {
		return err
	}
	if err := router.Start(ev.ctx); err != nil {
		ev.running = ""
		return err
	}
	ev.router, ev.filtered = router, filtered
	return nil
}

// holdLease takes or renews the lease of route id; it reports whether this
// server holds it.
func (a *API) holdLease(ctx context.Context, id string) (bool, error) {
	ev := &a.events
	now := a.now()
	body, _ := json.Marshal(lease{Owner: ev.owner, Expires: now.Add(leaseTTL)})
	d, err := a.docs().GetDoc(ctx, docLease, id)
	cond := store.Condition{IfNoneMatch: true}
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, err
	default:
		var l lease
		if json.Unmarshal(d.Body, &l) == nil && l.Owner != ev.owner && now.Before(l.Expires) {
			return false, nil
		}
		cond = store.Condition{IfMatch: d.ETag}
	}
	_, err = a.docs().PutDoc(ctx, store.Doc{Kind: docLease, ID: id, Body: body}, cond)
	if errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrConflict) {
		return false, nil // another server was quicker
	}
	return err == nil, err
}

// docCheckpoints keeps the routes' checkpoints as documents.
type docCheckpoints struct{ docs store.Documents }

func (c docCheckpoints) Load(ctx context.Context, route string) (uint64, bool, error) {
	d, err := c.docs.GetDoc(ctx, docCheckpoint, route)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var v struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(d.Body, &v); err != nil {
		return 0, false, fmt.Errorf("api: checkpoint of route %s: %w", route, err)
	}
	return v.Seq, true, nil
}

func (c docCheckpoints) Save(ctx context.Context, route string, seq uint64) error {
	_, err := c.docs.PutDoc(ctx, store.Doc{Kind: docCheckpoint, ID: route, Body: json.RawMessage(fmt.Sprintf(`{"seq":%d}`, seq))}, store.Condition{})
	return err
}

func (a *API) endpoint(ep Endpoint) (event.Endpoint, error) {
	switch ep.Kind {
	case "webhook":
		u, err := url.Parse(ep.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest("InvalidArgument", "url: %q is not an http(s) URL", ep.URL)
		}
		return &event.Webhook{URL: ep.URL, Client: a.webhookClient()}, nil
	case "jetstream":
		if a.opts.SubjectEndpoint == nil {
			return nil, badRequest("InvalidArgument", "kind: this server's event bus has no JetStream subjects")
		}
		if ep.Subject == "" {
			return nil, badRequest("InvalidArgument", "subject: required for a jetstream endpoint")
		}
		e, err := a.opts.SubjectEndpoint(ep.Subject)
		if err != nil {
			return nil, badRequest("InvalidArgument", "subject: %v", err)
		}
		return e, nil
	default:
		return nil, badRequest("InvalidArgument", "kind: %q; want webhook or jetstream", ep.Kind)
	}
}

// putDoc stores v as a document.
func (a *API) putDoc(ctx context.Context, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = a.docs().PutDoc(ctx, store.Doc{Kind: kind, ID: id, Body: b}, store.Condition{})
	return err
}

// listDocs decodes the documents of a kind into new values of T.
func listDocs[T any](ctx context.Context, docs store.Documents, kind string) ([]T, error) {
	ds, err := docs.ListDocs(ctx, kind)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(ds))
	for _, d := range ds {
		var v T
		if err := json.Unmarshal(d.Body, &v); err != nil {
			return nil, fmt.Errorf("api: stored %s %s: %w", kind, d.ID, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func (a *API) putEndpoint(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var ep Endpoint
	if err := decodeJSON(body, &ep); err != nil {
		return err
	}
	ep.Name = r.PathValue("name")
	if err := checkScopedID("name", ep.Name); err != nil {
		return err
	}
	if _, err := a.endpoint(ep); err != nil {
		return err
	}
	if u, err := url.Parse(ep.URL); err == nil && ep.Kind == "webhook" {
		if err := a.checkWebhookURL(r.Context(), u); err != nil {
			return err
		}
	}
	owner := ownerOf(a.readerOf(r.Context()))
	if err := a.putDoc(r.Context(), docEndpoint, scopedKey(owner, ep.Name), storedEndpoint{ep, owner}); err != nil {
		return err
	}
	if err := a.reconcileRoutes(r.Context()); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, redactEndpoint(ep))
}

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	stored, err := listDocs[storedEndpoint](r.Context(), a.docs(), docEndpoint)
	if err != nil {
		return err
	}
	rd := a.readerOf(r.Context())
	eps := []Endpoint{}
	for _, ep := range stored {
		if ep.Owner.sees(rd) {
			eps = append(eps, redactEndpoint(ep.Endpoint))
		}
	}
	return writeJSON(w, http.StatusOK, struct {
		Value []Endpoint `json:"value"`
	}{Value: eps})
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	owner := ownerOf(a.readerOf(r.Context()))
	d, err := a.docs().GetDoc(r.Context(), docEndpoint, scopedKey(owner, name))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("EndpointNotFound", "there is no endpoint %s", name)
	}
	if err != nil {
		return err
	}
	routes, err := listDocs[storedRoute](r.Context(), a.docs(), docRoute)
	if err != nil {
		return err
	}
	for _, rt := range routes {
		if rt.Endpoint == name && scopedKey(rt.Owner, "") == scopedKey(owner, "") {
			return &Error{Status: http.StatusConflict, Code: "EndpointInUse", Message: fmt.Sprintf("event route %s uses endpoint %s; delete it first", rt.ID, name)}
		}
	}
	if err := a.docs().DeleteDoc(r.Context(), docEndpoint, d.ID, store.Condition{IfMatch: d.ETag}); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) putEventRoute(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var rt EventRoute
	if err := decodeJSON(body, &rt); err != nil {
		return err
	}
	rt.ID = r.PathValue("id")
	if err := checkScopedID("id", rt.ID); err != nil {
		return err
	}
	if _, err := event.ParseFilter(rt.Filter); err != nil {
		return badRequest("InvalidArgument", "filter: %v", err)
	}
	owner := ownerOf(a.readerOf(r.Context()))
	if _, err := a.docs().GetDoc(r.Context(), docEndpoint, scopedKey(owner, rt.Endpoint)); errors.Is(err, store.ErrNotFound) {
		return badRequest("InvalidArgument", "endpointName: there is no endpoint %q; create it with PUT /endpoints/{name}", rt.Endpoint)
	} else if err != nil {
		return err
	}
	if err := a.putDoc(r.Context(), docRoute, scopedKey(owner, rt.ID), storedRoute{rt, owner}); err != nil {
		return err
	}
	if err := a.reconcileRoutes(r.Context()); err != nil {
		return err
	}
	// ADT answers EventRoutes_Add with 204 and no body; its SDKs take any
	// other success status for an error.
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// EventRouteList is the answer of GET /eventroutes: the caller's routes
// and, for those this server runs, their statistics.
type EventRouteList struct {
	Value []EventRoute               `json:"value"`
	Stats map[string]EventRouteStats `json:"stats,omitempty"`
}

// EventRouteStats counts what a route has done since this server's router
// took it: the router's counts, with the events the route's owner does not
// see (another org's, not shared) counted as Filtered, not Delivered.
type EventRouteStats struct {
	event.RouteStats
	Filtered uint64 // events skipped because the route's owner does not see them
}

func routeStats(st event.RouteStats, filtered *atomic.Uint64) EventRouteStats {
	out := EventRouteStats{RouteStats: st}
	if filtered != nil {
		// The endpoint counts an event filtered just before the router
		// counts it delivered: never show more filtered than delivered.
		out.Filtered = min(filtered.Load(), st.Delivered)
		out.Delivered -= out.Filtered
	}
	return out
}

func (a *API) listEventRoutes(w http.ResponseWriter, r *http.Request) error {
	routes, err := listDocs[storedRoute](r.Context(), a.docs(), docRoute)
	if err != nil {
		return err
	}
	rd := a.readerOf(r.Context())
	out := EventRouteList{Value: []EventRoute{}}
	a.events.mu.Lock()
	stats := map[string]EventRouteStats{}
	if a.events.router != nil {
		for k, st := range a.events.router.Stats() {
			stats[k] = routeStats(st, a.events.filtered[k])
		}
	}
	a.events.mu.Unlock()
	for _, rt := range routes {
		if !rt.Owner.sees(rd) {
			continue
		}
		out.Value = append(out.Value, rt.EventRoute)
		if st, ok := stats[scopedKey(rt.Owner, rt.ID)]; ok {
			if out.Stats == nil {
				out.Stats = map[string]EventRouteStats{}
			}
			out.Stats[rt.ID] = st
		}
	}
	slices.SortFunc(out.Value, func(x, y EventRoute) int { return compareStrings(x.ID, y.ID) })
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getEventRoute(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, err := a.docs().GetDoc(r.Context(), docRoute, scopedKey(ownerOf(a.readerOf(r.Context())), id))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("EventRouteNotFound", "there is no event route %s", id)
	}
	if err != nil {
		return err
	}
	var rt storedRoute
	if err := json.Unmarshal(d.Body, &rt); err != nil {
		return fmt.Errorf("api: stored route %s: %w", d.ID, err)
	}
	return writeJSON(w, http.StatusOK, rt.EventRoute)
}

func (a *API) deleteEventRoute(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	key := scopedKey(ownerOf(a.readerOf(r.Context())), id)
	err := a.docs().DeleteDoc(r.Context(), docRoute, key, store.Condition{})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("EventRouteNotFound", "there is no event route %s", id)
	}
	if err != nil {
		return err
	}
	if err := a.reconcileRoutes(r.Context()); err != nil {
		return err
	}
	// The checkpoint and the lease go with the route.
	_ = a.docs().DeleteDoc(r.Context(), docCheckpoint, key, store.Condition{})
	if l, err := a.docs().GetDoc(r.Context(), docLease, key); err == nil {
		_ = a.docs().DeleteDoc(r.Context(), docLease, key, store.Condition{IfMatch: l.ETag})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Routes and endpoints belong to the org of the principal that made them
// (their owner). Each org has its own names: the document of org O's
// route r is "O|r", and "|" is refused in names; a route or endpoint
// made by the anonymous principal (a server without --auth) has no owner
// and keeps its bare name. A principal sees, changes and deletes only its
// org's; an org's route delivers only the events its org sees.

// docOwner is who made a route or an endpoint.
type docOwner struct {
	Org     string `json:"org"`
	Subject string `json:"subject,omitempty"`
}

// storedRoute and storedEndpoint are the stored documents: the API's
// shapes and their owner (none for the anonymous principal's).
type storedRoute struct {
	EventRoute
	Owner *docOwner `json:"owner,omitempty"`
}

type storedEndpoint struct {
	Endpoint
	Owner *docOwner `json:"owner,omitempty"`
}

// ownerOf is the owner of what rd makes: nil for the anonymous principal.
func ownerOf(rd reader) *docOwner {
	if rd.all {
		return nil
	}
	return &docOwner{Org: rd.pr.Org, Subject: rd.pr.Subject}
}

// scopedKey is the document id of name for owner.
func scopedKey(o *docOwner, name string) string {
	if o == nil {
		return name
	}
	return o.Org + "|" + name
}

// sees reports whether rd may see (and manage) what o made.
func (o *docOwner) sees(rd reader) bool {
	return rd.all || o != nil && o.Org == rd.pr.Org
}

// reader is the reader whose view a route of o delivers: everything for
// the anonymous principal's routes, else what o's org sees.
func (o *docOwner) reader() reader {
	if o == nil {
		return reader{pr: auth.Anonymous, all: true}
	}
	return reader{pr: auth.Principal{Subject: o.Subject, Org: o.Org, Roles: []auth.Role{auth.Reader}, Method: "route"}}
}

// checkScopedID checks a route id or an endpoint name: checkID's rules,
// and no "|" (the separator of org-scoped names).
func checkScopedID(what, id string) error {
	if err := checkID(what, id); err != nil {
		return err
	}
	if strings.Contains(id, "|") {
		return badRequest("InvalidArgument", "%s %q contains '|', which names are not allowed to contain", what, id)
	}
	return nil
}
