package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"lodestone/event"
)

// eventRoutes holds the endpoints and event routes of this server and runs
// them with an event.Router, rebuilt on every change. They live in memory:
// a restarted server starts without routes (ADT keeps them; persisting them
// in the store is left for later).
type eventRoutes struct {
	mu        sync.Mutex
	endpoints map[string]Endpoint
	routes    map[string]EventRoute
	router    *event.Router
	ctx       context.Context // lifetime of the routers; set by Start
}

func (a *API) eventRouteRoutes() []Route {
	return []Route{
		{Pattern: "PUT /endpoints/{name}", Handler: a.putEndpoint, Summary: "Create or replace an endpoint: a webhook URL or a JetStream subject", Body: "Endpoint", Response: "Endpoint"},
		{Pattern: "GET /endpoints", Handler: a.listEndpoints, Summary: "List endpoints", Response: "EndpointList"},
		{Pattern: "DELETE /endpoints/{name}", Handler: a.deleteEndpoint, Summary: "Delete an endpoint no route uses"},
		{Pattern: "PUT /eventroutes/{id}", Handler: a.putEventRoute, Summary: "Create or replace an event route: a filter (type=…&source=…&subject=…) to an endpoint", Body: "EventRoute", Response: "EventRoute"},
		{Pattern: "GET /eventroutes", Handler: a.listEventRoutes, Summary: "List event routes with delivery statistics", Response: "EventRouteList"},
		{Pattern: "GET /eventroutes/{id}", Handler: a.getEventRoute, Summary: "Get an event route", Response: "EventRoute"},
		{Pattern: "DELETE /eventroutes/{id}", Handler: a.deleteEventRoute, Summary: "Delete an event route"},
	}
}

// StartRoutes runs the event routes until ctx ends or ShutdownRoutes.
func (a *API) StartRoutes(ctx context.Context) error {
	a.events.mu.Lock()
	defer a.events.mu.Unlock()
	a.events.ctx = ctx
	return a.restartRouterLocked()
}

// ShutdownRoutes stops the event routes and waits for their goroutines.
func (a *API) ShutdownRoutes(ctx context.Context) error {
	a.events.mu.Lock()
	defer a.events.mu.Unlock()
	if a.events.router == nil {
		return nil
	}
	err := a.events.router.Shutdown(ctx)
	a.events.router = nil
	a.events.ctx = nil
	return err
}

func (a *API) endpoint(ep Endpoint) (event.Endpoint, error) {
	switch ep.Kind {
	case "webhook":
		u, err := url.Parse(ep.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest("InvalidArgument", "url: %q is not an http(s) URL", ep.URL)
		}
		return &event.Webhook{URL: ep.URL}, nil
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

// restartRouterLocked replaces the running router with one for the current
// routes. Routes resume from their checkpoints, so nothing is delivered
// twice beyond what at-least-once allows.
func (a *API) restartRouterLocked() error {
	ev := &a.events
	if ev.ctx == nil || a.opts.Bus == nil {
		return nil
	}
	if ev.router != nil {
		if err := ev.router.Shutdown(ev.ctx); err != nil {
			return err
		}
		ev.router = nil
	}
	var routes []event.Route
	ids := make([]string, 0, len(ev.routes))
	for id := range ev.routes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rt := ev.routes[id]
		f, err := event.ParseFilter(rt.Filter)
		if err != nil {
			return err
		}
		ep, err := a.endpoint(ev.endpoints[rt.Endpoint])
		if err != nil {
			return err
		}
		r := event.Route{Name: id, Filter: f, Endpoint: ep}
		if a.opts.SubjectEndpoint != nil {
			if dl, err := a.opts.SubjectEndpoint("deadletter." + id); err == nil {
				r.DeadLetter = dl
			}
		}
		routes = append(routes, r)
	}
	if len(routes) == 0 {
		return nil
	}
	router, err := event.NewRouter(a.opts.Bus, routes, &event.RouterOptions{Logger: a.log, Checkpoints: a.opts.Checkpoints})
	if err != nil {
		return err
	}
	if err := router.Start(ev.ctx); err != nil {
		return err
	}
	ev.router = router
	return nil
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
	if _, err := a.endpoint(ep); err != nil {
		return err
	}
	a.events.mu.Lock()
	defer a.events.mu.Unlock()
	if a.events.endpoints == nil {
		a.events.endpoints = map[string]Endpoint{}
	}
	a.events.endpoints[ep.Name] = ep
	if err := a.restartRouterLocked(); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ep)
}

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	a.events.mu.Lock()
	out := struct {
		Value []Endpoint `json:"value"`
	}{Value: []Endpoint{}}
	for _, ep := range a.events.endpoints {
		out.Value = append(out.Value, ep)
	}
	a.events.mu.Unlock()
	slices.SortFunc(out.Value, func(x, y Endpoint) int { return compareStrings(x.Name, y.Name) })
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	a.events.mu.Lock()
	defer a.events.mu.Unlock()
	if _, ok := a.events.endpoints[name]; !ok {
		return notFound("EndpointNotFound", "there is no endpoint %s", name)
	}
	for id, rt := range a.events.routes {
		if rt.Endpoint == name {
			return &Error{Status: http.StatusConflict, Code: "EndpointInUse", Message: fmt.Sprintf("event route %s uses endpoint %s; delete it first", id, name)}
		}
	}
	delete(a.events.endpoints, name)
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
	if _, err := event.ParseFilter(rt.Filter); err != nil {
		return badRequest("InvalidArgument", "filter: %v", err)
	}
	a.events.mu.Lock()
	defer a.events.mu.Unlock()
	if _, ok := a.events.endpoints[rt.Endpoint]; !ok {
		return badRequest("InvalidArgument", "endpointName: there is no endpoint %q; create it with PUT /endpoints/{name}", rt.Endpoint)
	}
	if a.events.routes == nil {
		a.events.routes = map[string]EventRoute{}
	}
	old, had := a.events.routes[rt.ID]
	a.events.routes[rt.ID] = rt
	if err := a.restartRouterLocked(); err != nil {
		if had {
			a.events.routes[rt.ID] = old
		} else {
			delete(a.events.routes, rt.ID)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, rt)
}

func (a *API) listEventRoutes(w http.ResponseWriter, r *http.Request) error {
	a.events.mu.Lock()
	out := struct {
		Value []EventRoute                `json:"value"`
		Stats map[string]event.RouteStats `json:"stats,omitempty"`
	}{Value: []EventRoute{}}
	for _, rt := range a.events.routes {
		out.Value = append(out.Value, rt)
	}
	if a.events.router != nil {
		out.Stats = a.events.router.Stats()
	}
	a.events.mu.Unlock()
	slices.SortFunc(out.Value, func(x, y EventRoute) int { return compareStrings(x.ID, y.ID) })
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getEventRoute(w http.ResponseWriter, r *http.Request) error {
	a.events.mu.Lock()
	rt, ok := a.events.routes[r.PathValue("id")]
	a.events.mu.Unlock()
	if !ok {
		return notFound("EventRouteNotFound", "there is no event route %s", r.PathValue("id"))
	}
	return writeJSON(w, http.StatusOK, rt)
}

func (a *API) deleteEventRoute(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	a.events.mu.Lock()
	defer a.events.mu.Unlock()
	if _, ok := a.events.routes[id]; !ok {
		return notFound("EventRouteNotFound", "there is no event route %s", id)
	}
	delete(a.events.routes, id)
	if err := a.restartRouterLocked(); err != nil {
		return err
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
