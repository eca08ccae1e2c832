package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/dtdl"
	"lodestone/event"
	"lodestone/org/governance"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/tql"
	"lodestone/trust"
	"lodestone/twin"
)

// GraphSource gives the query engine a graph to read. Backends with SQL
// return one that reads through indexes; see the server package for the
// wiring.
type GraphSource interface {
	Graph(ctx context.Context) (tql.Graph, error)
}

// Options are the dependencies and limits of the API.
type Options struct {
	// Store serves reads. It is required.
	Store store.Store
	// Pipeline is the write path every change goes through; nil builds
	// one on Store and Bus that the API starts and shuts down itself.
	Pipeline *pipeline.Pipeline
	// Bus receives an event for every change; nil publishes none.
	Bus event.Bus
	// Graph serves queries; nil uses an in-memory snapshot of the store
	// (correct, but it reads the whole graph per query).
	Graph GraphSource
	// Source is the CloudEvents source of this instance.
	Source string
	// MaxBodyBytes limits request bodies (default 1 MiB); MaxBulkBytes
	// limits import bodies (default 4 GiB).
	MaxBodyBytes int64
	MaxBulkBytes int64
	// QueryMaxScan bounds the rows a query page may read (default
	// tql.DefaultMaxScan).
	QueryMaxScan int
	Logger       *slog.Logger
	// Extra mounts further routes (domain endpoints) on the same mux with
	// the same error handling.
	Extra []Route
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TempDir holds the import bodies spooled before an import starts;
	// empty means the system's (os.TempDir). The server sets its data
	// directory's tmp folder: import files can be as large as the data.
	TempDir string
	// InstanceID names this server in the leases of event routes. A
	// server that keeps it across restarts (the server package keeps it in
	// the data directory) takes its routes back at once after a crash;
	// empty means a random one.
	InstanceID string
	// RetryDeadline bounds how long a write without If-Match retries
	// after concurrent writes (for the pipeline the API builds; default
	// 10 s).
	RetryDeadline time.Duration
	// SubjectEndpoint makes an endpoint that republishes events on a
	// subject of the bus (JetStream); nil when the bus has none.
	SubjectEndpoint func(subject string) (event.Endpoint, error)
	// Checkpoints keeps the positions of event routes; nil keeps them in
	// memory.
	Checkpoints event.Checkpoints
	// TrustLog is the transparency log the Pipeline's hooks append to; it
	// serves /log/… and /verify and gives writes Lodestone-Log-Index. nil
	// keeps no log. When the API builds its own pipeline (Pipeline nil),
	// the log is that pipeline's hook; a given Pipeline must have it among
	// its Hooks already.
	TrustLog *trust.Log
	// Security configures the guard of [API.Guard] (identity, roles,
	// Host, Origin, CORS, rate limits) and the webhook address checks;
	// nil means none (see hardening.go).
	Security *Security
	// Studies bounds the Monte Carlo studies under way and may hand them
	// to workers (see scenarios.go).
	Studies StudyOptions
	// Governance lists the governed subjects (serve --govern): writes to
	// them go through /governance/proposals (see governance.go); nil or
	// empty governs nothing.
	Governance *governance.Config
}

// Route is one endpoint: a net/http pattern ("GET /digitaltwins/{id}"), its
// handler and its OpenAPI description.
type Route struct {
	Pattern string
	Handler HandlerFunc
	Summary string
	// Body and Response name the JSON schema of the request and response
	// bodies in the OpenAPI document ("" when none).
	Body, Response string
}

// HandlerFunc is an HTTP handler that returns an error instead of writing
// one.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// API serves the HTTP API. It is safe for concurrent use.
type API struct {
	opts   Options
	log    *slog.Logger
	mux    *http.ServeMux
	routes []Route
	pipe   *pipeline.Pipeline
	// ownPipe says the API built pipe and shuts it down.
	ownPipe bool
	jobs    *jobRegistry
	// ops holds the metrics (see ops.go); atomic, since studies resumed at
	// start report progress while New is still building the routes.
	ops    atomic.Pointer[opsState]
	events eventRoutes
	now    func() time.Time
	signed signedModels // the models that require signed writes (keys.go)
	shares sharingCache // the sharing agreements in force (sharing.go)

	// Background work (Monte Carlo studies) runs under bgCtx and is
	// counted in bg, so that Shutdown can stop it and wait for it.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup

	// govMu serialises governance approvals (see governance.go).
	govMu sync.Mutex

	// studies admits and counts the studies under way (scenarios.go); the
	// organisation's investment searches go through it too (org.go).
	studies *scenarioRunner

	// handled lists the patterns mounted with Handle (openapi.go).
	handled []string
}

// New builds the API and loads the stored models.
func New(ctx context.Context, opts Options) (*API, error) {
	if opts.Store == nil {
		return nil, errors.New("api: Options.Store is required")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxBulkBytes <= 0 {
		opts.MaxBulkBytes = 4 << 30
	}
	if opts.Source == "" {
		opts.Source = "lodestone://localhost"
	}
	a := &API{opts: opts, log: opts.Logger, mux: http.NewServeMux(), now: opts.Now}
	a.bgCtx, a.bgCancel = context.WithCancel(context.Background())
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.pipe = opts.Pipeline
	if a.pipe == nil {
		var hooks []pipeline.Hook
		if opts.TrustLog != nil {
			hooks = append(hooks, opts.TrustLog)
		}
		hooks = append(hooks, ComputedGuard{Store: opts.Store, Models: a.pipeModels})
		if !opts.Governance.Empty() {
			hooks = append(hooks, GovernanceGuard{Config: opts.Governance, Store: opts.Store})
		}
		hooks = append(hooks, traceHook{a}) // ops.go: traces, when on
		p, err := pipeline.New(ctx, pipeline.Options{Store: opts.Store, Bus: opts.Bus, Source: opts.Source, Logger: opts.Logger, Now: opts.Now, RetryDeadline: opts.RetryDeadline, Hooks: hooks, Signatures: a.signed.of(nil, opts.Store, a.now)})
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		if err := p.Start(ctx); err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		a.pipe, a.ownPipe = p, true
	}
	a.jobs = newJobRegistry(opts.Store, a.log, a.now)
	for _, rt := range append(a.coreRoutes(), a.keyRoutes()...) {
		a.handle(rt)
	}
	for _, rt := range opts.Extra {
		a.handle(rt)
	}
	if opts.Bus != nil {
		a.handle(Route{Pattern: "GET /events", Summary: "Server-Sent Events: CloudEvents of every change the principal sees (?filter=type=…&subject=…; Last-Event-ID resumes)", Response: "EventStream",
			Handler: a.serveEvents})
	}
	a.handle(Route{Pattern: "GET /openapi.json", Summary: "This OpenAPI 3.1 document", Response: "OpenAPI",
		Handler: func(w http.ResponseWriter, r *http.Request) error { return writeJSON(w, http.StatusOK, a.OpenAPI()) }})
	return a, nil
}

// Routes returns the routes the API serves, for documentation and tests.
// Handlers mounted with [API.Handle] (the dashboard) are not among them.
func (a *API) Routes() []Route { return append([]Route(nil), a.routes...) }

// Handle mounts a handler (for example the dashboard) on the API's mux. It
// is not documented in the OpenAPI document; routes are (see Handled).
func (a *API) Handle(pattern string, h http.Handler) {
	a.handled = append(a.handled, pattern)
	a.mux.Handle(pattern, h)
}

func (a *API) handle(rt Route) {
	a.routes = append(a.routes, rt)
	h := rt.Handler
	a.mux.HandleFunc(rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, a.log, err, []func(error) *Error{classifyDomain})
}

// ServeHTTP serves the API. It recovers panics of handlers as 500s so that
// one bad request never takes the server down.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.writeError(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	_, pattern := a.mux.Handler(r)
	w, done := a.observe(w, r, pattern)
	defer done()
	if pattern == "" {
		a.unrouted(w, r)
		return
	}
	// ADT clients send api-version on every call; it is accepted and ignored.
	w, r = a.withLogIndex(w, r)
	r, err := a.signedBody(w, r, pattern) // DSSE envelopes of twin writes and telemetry (dsse.go)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// unrouted answers a request that no route matches in the one error shape
// (the mux itself answers in plain text), keeping the mux's status, its
// Allow header and its redirects to canonical paths.
func (a *API) unrouted(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{header: http.Header{}}
	h, _ := a.mux.Handler(r)
	h.ServeHTTP(rec, r)
	if rec.status < 400 {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		return
	}
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	e := &Error{Status: rec.status, Code: "RouteNotFound", Message: fmt.Sprintf("no route for %s %s; see /openapi.json", r.Method, r.URL.Path)}
	if rec.status == http.StatusMethodNotAllowed {
		e.Code = "MethodNotAllowed"
		e.Message = fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, rec.header.Get("Allow"))
	}
	a.writeError(w, r, e)
}

// statusRecorder keeps the status and header a handler writes and drops
// its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

// classifyDomain maps the sentinel and typed errors of the domain packages.
func classifyDomain(err error) *Error {
	var el *dtdl.ErrorList
	var de *dtdl.Error
	var pe *twin.PatchError
	var qe *tql.ParseError
	var se *tql.SemanticError
	var ce *tql.CostError
	var pe2 *pipeline.Error
	if errors.Is(err, pipeline.ErrPublish) && errors.Is(err, context.Canceled) {
		// The client went away while the event was being published: the
		// change is stored and the relay publishes its event. Not a
		// server failure (no 503 in the log for every cancelled request).
		return &Error{Status: 499, Code: "Canceled", Message: "request canceled; the change is stored and its event will be published", Err: err}
	}
	if errors.As(err, &pe2) {
		if status := pipelineStatus(pe2.Err); status != 0 {
			e := &Error{Status: status, Code: pe2.Code, Message: pe2.Message, Err: err}
			if status == http.StatusServiceUnavailable {
				e.RetryAfter = time.Second
			}
			return e
		}
	}
	switch {
	case errors.Is(err, pipeline.ErrBusy):
		return &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: err.Error(), RetryAfter: time.Second}
	case errors.Is(err, pipeline.ErrPublish):
		return &Error{Status: http.StatusServiceUnavailable, Code: "EventPublishFailed", Message: err.Error(), Err: err}
	case errors.As(err, &el):
		return validationError(el)
	case errors.As(err, &de):
		return validationError(&dtdl.ErrorList{Errors: []*dtdl.Error{de}})
	case errors.As(err, &pe):
		return &Error{Status: http.StatusBadRequest, Code: "JsonPatchInvalid", Message: pe.Error()}
	case errors.As(err, &qe):
		return &Error{Status: http.StatusBadRequest, Code: "QueryParseError", Message: qe.Error()}
	case errors.As(err, &se):
		return &Error{Status: http.StatusBadRequest, Code: "BadRequest", Message: se.Error()}
	case errors.As(err, &ce), errors.Is(err, tql.ErrCostLimit):
		return &Error{Status: http.StatusBadRequest, Code: "QueryTooExpensive", Message: err.Error()}
	case errors.Is(err, tql.ErrBadToken):
		return &Error{Status: http.StatusBadRequest, Code: "InvalidContinuationToken", Message: err.Error()}
	case errors.Is(err, twin.ErrInvalidJSON):
		return &Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "NotFound", Message: err.Error()}
	case errors.Is(err, store.ErrPreconditionFailed):
		return &Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed", Message: err.Error()}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "Conflict", Message: err.Error()}
	case errors.Is(err, store.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &Error{Status: 499, Code: "Canceled", Message: "request canceled"}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: "Timeout", Message: "request timed out"}
	}
	return nil
}

// pipelineStatus is the HTTP status of a pipeline refusal of the kind
// kind, or 0 when kind is no sentinel (the cause is then classified).
func pipelineStatus(kind error) int {
	switch {
	case errors.Is(kind, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(kind, store.ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case errors.Is(kind, store.ErrConflict):
		return http.StatusConflict
	case errors.Is(kind, store.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(kind, pipeline.ErrBusy), errors.Is(kind, pipeline.ErrPublish):
		return http.StatusServiceUnavailable
	case errors.Is(kind, pipeline.ErrForbidden):
		return http.StatusForbidden
	}
	return 0
}

func validationError(el *dtdl.ErrorList) *Error {
	e := &Error{Status: http.StatusBadRequest, Code: "ValidationFailed"}
	for _, d := range el.Errors {
		path := d.Path
		if path == "" {
			path = d.ID
		}
		e.Details = append(e.Details, ErrorDetail{Code: "ValidationFailed", Message: d.Message, Path: path, Rule: d.Rule, Target: d.File})
	}
	switch len(el.Errors) {
	case 0:
		e.Message = "validation failed: " + strings.Join(el.Unresolved, ", ") + " not found"
	case 1:
		e.Message = el.Errors[0].Message
		if p := e.Details[0].Path; p != "" {
			e.Message = p + ": " + e.Message
		}
		if f := el.Errors[0].File; f != "" {
			e.Message = f + ": " + e.Message
		}
	default:
		e.Message = fmt.Sprintf("%d validation errors; first: %s", len(el.Errors), el.Errors[0].Message)
	}
	return e
}

// --- request and response helpers ---------------------------------------

// readBody reads a request body up to limit bytes and checks its media type
// against the accepted ones (an empty Content-Type is taken as JSON).
func readBody(w http.ResponseWriter, r *http.Request, limit int64, accept ...string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		ok := err == nil && len(accept) == 0
		for _, a := range accept {
			if mt == a {
				ok = true
			}
		}
		if !ok {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Message: fmt.Sprintf("Content-Type %q is not accepted here; use %s", ct, strings.Join(accept, " or "))}
		}
	}
	if rb, ok := r.Body.(*readBodyBytes); ok && rb.unread() && int64(len(rb.b)) <= limit {
		// Read already (see verifySigned): the bytes as they are.
		rb.Reader.Reset(nil)
		return rb.b, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, &Error{Status: http.StatusRequestTimeout, Code: "RequestTimeout", Message: "the request body did not arrive within the server's read timeout", Err: err}
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// readBodyBytes is a request body that the API has read into memory
// already; readBody takes its bytes without copying them.
type readBodyBytes struct {
	*bytes.Reader
	b []byte
}

func (*readBodyBytes) Close() error { return nil }

// unread reports whether nothing of the body has been read yet.
func (rb *readBodyBytes) unread() bool { return rb.Reader.Len() == len(rb.b) }

var jsonTypes = []string{"application/json"}

func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return badRequest("InvalidArgument", "request body is empty")
	}
	if err := json.Unmarshal(b, v); err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return ae
		}
		return &Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: "request body: " + err.Error()}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeRawJSON(w, status, b)
}

// writeRawJSON writes b, a JSON document, as the response.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(b)
	return err
}

// condition reads If-Match and If-None-Match.
func condition(r *http.Request) (store.Condition, error) {
	var c store.Condition
	if v := r.Header.Get("If-Match"); v != "" {
		c.IfMatch = twin.ETag(v)
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if strings.TrimSpace(v) != "*" {
			return c, badRequest("InvalidArgument", "If-None-Match supports only *")
		}
		c.IfNoneMatch = true
	}
	return c, nil
}

// queryParams parses the query string of r. Unlike url.URL.Query it keeps
// a literal ';' as part of a value instead of dropping the pair, because
// DTMIs ("dtmi:example:Mine;1") contain one and clients such as curl send
// it unescaped.
func queryParams(r *http.Request) url.Values {
	v, _ := url.ParseQuery(strings.ReplaceAll(r.URL.RawQuery, ";", "%3B"))
	return v
}

func parseTimeParam(r *http.Request, name string) (time.Time, error) {
	v := queryParams(r).Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	// An unescaped '+' of a zone offset ("…T10:00:00+02:00") arrives as a
	// space; a time has no spaces, so put it back.
	v = strings.ReplaceAll(v, " ", "+")
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if d, err2 := time.Parse("2006-01-02", v); err2 == nil {
			return d, nil
		}
		return time.Time{}, badRequest("InvalidArgument", "%s: %q is not an RFC 3339 time", name, v)
	}
	return t, nil
}

// sourceTwin reads a twin as the request's principal sees it (not found
// when hidden, projected when shared) and the parsed interface of its
// model.
func (a *API) sourceTwin(r *http.Request, id twin.ID) (twin.Twin, *dtdl.Interface, error) {
	t, err := a.seeTwin(r.Context(), a.viewerOf(r.Context()), id)
	if err != nil {
		return t, nil, err
	}
	iface, err := a.pipe.Models().Interface(t.Metadata.Model)
	if iface == nil {
		return t, nil, err
	}
	return t, iface, nil
}

// NotFound answers with the JSON 404 of an unknown route; the server gives
// it to the dashboard handler for paths that are not dashboard files.
func (a *API) NotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, &Error{Status: http.StatusNotFound, Code: "RouteNotFound", Message: fmt.Sprintf("no route for %s %s; see /openapi.json", r.Method, r.URL.Path)})
	})
}

// goBackground runs f in a goroutine owned by the API: Shutdown cancels
// its context and waits for it.
func (a *API) goBackground(f func(ctx context.Context)) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		f(a.bgCtx)
	}()
}

// Shutdown stops the API's background work (Monte Carlo studies, which
// record themselves as cancelled) and waits for it, at most until ctx
// ends. Call it before closing the store.
func (a *API) Shutdown(ctx context.Context) error {
	a.bgCancel()
	done := make(chan struct{})
	go func() {
		a.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("api: background work still running: %w", ctx.Err())
	}
	if a.ownPipe {
		return a.pipe.Shutdown(ctx)
	}
	return nil
}

// Pipeline returns the write pipeline of the API.
func (a *API) Pipeline() *pipeline.Pipeline { return a.pipe }
