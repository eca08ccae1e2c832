package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Env is the endpoint value that takes the exporter's settings from the
// standard OTEL_EXPORTER_OTLP_* and OTEL_SERVICE_NAME variables.
const Env = "env"

// DefaultServiceName is the service.name of the spans unless
// OTEL_SERVICE_NAME (with Env) or Config.ServiceName says otherwise.
const DefaultServiceName = "lodestone"

// Config configures the traces of a server.
type Config struct {
	// Endpoint is "" (tracing off), Env, or the URL of an OTLP/HTTP
	// collector: http://collector:4318 posts to /v1/traces, a URL with
	// another path posts to that path.
	Endpoint string
	// ServiceName is the service.name resource attribute (default
	// DefaultServiceName; with Env, OTEL_SERVICE_NAME wins).
	ServiceName string
}

// Tracer makes the spans of one server. A nil *Tracer is tracing off.
type Tracer struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// ParseEndpoint checks an endpoint value, naming the field and the reason.
func ParseEndpoint(v string) error {
	if v == "" || v == Env {
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return fmt.Errorf("otel_endpoint: %q: %v", v, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("otel_endpoint: %q: want http://host:port or https://host:port (OTLP over HTTP), or %q for the OTEL_EXPORTER_OTLP_* variables", v, Env)
	case u.Host == "":
		return fmt.Errorf("otel_endpoint: %q: no host", v)
	}
	return nil
}

// New returns the tracer of cfg, exporting over OTLP/HTTP in batches, or
// nil when cfg.Endpoint is "".
func New(ctx context.Context, cfg Config) (*Tracer, error) {
	if cfg.Endpoint == "" {
		return nil, nil
	}
	if err := ParseEndpoint(cfg.Endpoint); err != nil {
		return nil, err
	}
	var opts []otlptracehttp.Option
	if cfg.Endpoint != Env {
		u, _ := url.Parse(cfg.Endpoint)
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces"
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otel_endpoint: exporter: %w", err)
	}
	name := cfg.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(name)), resource.WithFromEnv())
	if err != nil && res == nil {
		return nil, fmt.Errorf("otel: resource: %w", err)
	}
	if cfg.Endpoint != Env {
		// OTEL_SERVICE_NAME is honoured with Env only: an explicit
		// endpoint keeps the configured name.
		res, _ = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName(name)))
	}
	return NewWithProvider(sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))), nil
}

// NewWithProvider returns a tracer on a provider of the caller's (tests
// use one with a span recorder).
func NewWithProvider(tp *sdktrace.TracerProvider) *Tracer {
	return &Tracer{tp: tp, tracer: tp.Tracer("lodestone"), prop: propagation.TraceContext{}}
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// requestKey holds a request's *request in its context.
type requestKey struct{}

// request is the tracing state of one HTTP request: its server span and
// the pipeline spans started under it and not yet ended.
type request struct {
	span    trace.Span
	mu      sync.Mutex
	pending []trace.Span
}

// Handler serves h with one server span per request: the W3C
// traceparent of the request (if any) is its parent, route(r) (the route
// pattern, never the raw path) its name, and the response's status, the
// method and the attributes Annotate adds are its attributes. A nil
// tracer returns h itself.
func (t *Tracer) Handler(h http.Handler, route func(*http.Request) string) http.Handler {
	if t == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		name := route(r)
		ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.HTTPRoute(name)))
		rq := &request{span: span}
		ctx = context.WithValue(ctx, requestKey{}, rq)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			rq.endPending(errors.New("the write did not commit"))
			span.End()
		}()
		h.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// Annotate adds attributes to the request span of ctx, if any. Callers
// pass names and identities, never tokens or values.
func Annotate(ctx context.Context, attrs ...attribute.KeyValue) {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		rq.span.SetAttributes(attrs...)
	}
}

// Enabled says whether ctx belongs to a traced request, so that callers
// build attributes only then.
func Enabled(ctx context.Context) bool {
	_, ok := ctx.Value(requestKey{}).(*request)
	return ok
}

// Start starts a child span of ctx's span (a no-op span when ctx has
// none); the caller ends it.
func (t *Tracer) Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if t == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// BeginCommit starts a "pipeline.commit" child span of a traced request:
// the pipeline calls its hooks' Check once a write is validated, just
// before the store commits it, and Committed once it has committed,
// before its events are published. EndCommit ends the spans begun under
// the request; a request that ends first ends them with an error.
func (t *Tracer) BeginCommit(ctx context.Context, attrs ...attribute.KeyValue) {
	rq, ok := ctx.Value(requestKey{}).(*request)
	if t == nil || !ok {
		return
	}
	_, span := t.tracer.Start(trace.ContextWithSpan(ctx, rq.span), "pipeline.commit", trace.WithAttributes(attrs...))
	rq.mu.Lock()
	rq.pending = append(rq.pending, span)
	rq.mu.Unlock()
}

// EndCommit ends the pipeline spans begun under ctx's request, recording
// how many change records the commit made, and marks the request span
// with a "pipeline.committed" event (the events' publication follows).
func (t *Tracer) EndCommit(ctx context.Context, records int) {
	rq, ok := ctx.Value(requestKey{}).(*request)
	if t == nil || !ok {
		return
	}
	rq.mu.Lock()
	pending := rq.pending
	rq.pending = nil
	rq.mu.Unlock()
	now := time.Now()
	for _, s := range pending {
		s.SetAttributes(attribute.Int("lodestone.records", records))
		s.End(trace.WithTimestamp(now))
	}
	rq.span.AddEvent("pipeline.committed", trace.WithAttributes(attribute.Int("lodestone.records", records)))
}

func (rq *request) endPending(err error) {
	rq.mu.Lock()
	pending := rq.pending
	rq.pending = nil
	rq.mu.Unlock()
	for _, s := range pending {
		s.SetStatus(codes.Error, err.Error())
		s.End()
	}
}

// statusWriter keeps the status of a response. It keeps the optional
// interfaces of the writer it wraps: Flush here, the others through
// Unwrap (see [http.ResponseController]).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush serves handlers that assert http.Flusher (the event streams).
func (w *statusWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap gives a ResponseController the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RoutePath is the route label of a pattern: "GET /twins/{id}" →
// "/twins/{id}".
func RoutePath(pattern string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		return p
	}
	return pattern
}
