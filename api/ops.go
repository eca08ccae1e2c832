package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"

	"lodestone/ops"
	"lodestone/ops/tracing"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
)

// opsState is what the operations routes and the request middleware
// share: the metrics of this API and its tracer (nil: tracing off).
type opsState struct {
	metrics *ops.Metrics
	tracer  atomic.Pointer[tracing.Tracer]
}

// SetTracer turns the OpenTelemetry traces of the API on (nil: off, the
// default). Call it before serving; see [API.Traced].
func (a *API) SetTracer(t *tracing.Tracer) {
	if st := a.ops.Load(); st != nil {
		st.tracer.Store(t)
	}
}

func (a *API) tracer() *tracing.Tracer {
	if st := a.ops.Load(); st != nil {
		return st.tracer.Load()
	}
	return nil
}

// Traced wraps h (the API, or the guard in front of it) with one server
// span per request, named by the route pattern the request matches
// ("GET /digitaltwins/{id}"; "GET unrouted" when none does), its parent
// the request's W3C traceparent. Without a tracer it returns h itself.
func (a *API) Traced(h http.Handler) http.Handler {
	return a.tracer().Handler(h, func(r *http.Request) string {
		if _, pattern := a.mux.Handler(r); pattern != "" {
			return pattern
		}
		return r.Method + " " + ops.Unrouted
	})
}

// noop ends no span.
func noop() {}

// querySpan starts a "query.eval" child span of a traced request for the
// evaluation of its query, and returns the request carrying it and the
// func that ends it; off, r itself and a no-op.
func (a *API) querySpan(r *http.Request) (*http.Request, func()) {
	t := a.tracer()
	if t == nil || !tracing.Enabled(r.Context()) {
		return r, noop
	}
	ctx, span := t.Start(r.Context(), "query.eval")
	return r.WithContext(ctx), func() { span.End() }
}

// traceHook is the pipeline hook of the traces: a "pipeline.commit" span
// from a validated write's checks to its commit (store and the commit
// hooks before it, such as the transparency log's). It does nothing when
// tracing is off or the write is not a traced request's.
type traceHook struct{ a *API }

func (h traceHook) Check(ctx context.Context, w *pipeline.Write) error {
	if t := h.a.tracer(); t != nil && tracing.Enabled(ctx) {
		t.BeginCommit(ctx, attribute.String("lodestone.kind", string(w.Kind)), attribute.String("lodestone.op", string(w.Op)))
	}
	return nil
}

func (h traceHook) Committed(ctx context.Context, recs []store.Record) error {
	if t := h.a.tracer(); t != nil {
		t.EndCommit(ctx, len(recs))
	}
	return nil
}

// Health is the body of /healthz.
type Health struct {
	Status string `json:"status"` // "ok"
}

func init() {
	schemaTypes["Health"] = reflect.TypeFor[Health]()
	schemaTypes["ReadinessReport"] = reflect.TypeFor[ops.Report]()
}

// readyTimeout bounds each readiness check: a load balancer asks often
// and must not pile up requests behind a stuck store.
const readyTimeout = 2 * time.Second

func (a *API) opsRoutes() []Route {
	st := a.opts.Store
	probe := ops.Probe{
		Now: a.now,
		Outbox: func(ctx context.Context) (time.Time, error) {
			recs, err := st.PendingRecords(ctx, 0, 1)
			if err != nil || len(recs) == 0 {
				return time.Time{}, err
			}
			return recs[0].Time, nil
		},
	}
	if nc := natsConn(a.opts.Bus); nc != nil {
		probe.BusRTT = nc.RTT
	}
	state := &opsState{metrics: ops.NewMetrics(probe)}
	a.ops.Store(state)
	metrics := state.metrics.Handler()
	return []Route{
		{Pattern: "GET /healthz", Handler: a.healthz, Summary: "Liveness: 200 while the process serves requests (checks nothing else)", Response: "Health"},
		{Pattern: "GET /readyz", Handler: a.readyz, Summary: "Readiness: the store answers, the event bus is connected (when configured) and the model cache is loaded; 503 otherwise; one JSON line per check", Response: "ReadinessReport"},
		{Pattern: "GET /metrics", Summary: "Prometheus metrics (text exposition format): requests and latencies per route, store and bus probes, outbox lag, studies, connector lag",
			Handler: func(w http.ResponseWriter, r *http.Request) error { metrics.ServeHTTP(w, r); return nil }},
	}
}

// Metrics returns the metrics of the API, for the parts of a server that
// report their own (the plant connectors' lag).
func (a *API) Metrics() *ops.Metrics {
	st := a.ops.Load()
	if st == nil {
		return nil
	}
	return st.metrics
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	checks := []ops.Check{
		{Name: "store", Run: func(ctx context.Context) error {
			_, err := a.opts.Store.PendingRecords(ctx, 0, 1)
			return err
		}},
	}
	if a.opts.Bus != nil {
		checks = append(checks, ops.Check{Name: "bus", Run: func(ctx context.Context) error {
			nc := natsConn(a.opts.Bus)
			if nc == nil {
				return nil // a bus without a connection (in memory) is always up
			}
			if !nc.IsConnected() {
				return fmt.Errorf("NATS connection is %s", strings.ToLower(nc.Status().String()))
			}
			_, err := nc.RTT()
			return err
		}})
	}
	checks = append(checks, ops.Check{Name: "models", Run: func(ctx context.Context) error {
		if a.pipe == nil || a.pipe.Models() == nil {
			return errors.New("model cache not loaded")
		}
		return nil
	}})
	return ops.WriteReport(w, ops.Ready(r.Context(), readyTimeout, checks))
}

// natsConn returns the NATS connection of a bus backed by NATS, or nil.
func natsConn(bus any) *nats.Conn {
	if b, ok := bus.(interface{ Conn() *nats.Conn }); ok {
		return b.Conn()
	}
	return nil
}

// observe starts measuring a request that matched pattern ("" when none
// did): done counts it in the metrics and logs one line, at debug, or at
// error for a 5xx.
func (a *API) observe(w http.ResponseWriter, r *http.Request, pattern string) (http.ResponseWriter, func()) {
	st := a.ops.Load()
	if st == nil {
		return w, func() {}
	}
	route := ops.Unrouted
	if pattern != "" {
		route = pattern
		if _, p, ok := strings.Cut(pattern, " "); ok {
			route = p
		}
	}
	sw := &statusWriter{ResponseWriter: w}
	t0 := time.Now()
	return sw, func() {
		d := time.Since(t0)
		status := sw.status
		if status == 0 {
			status = http.StatusOK // net/http's answer to a handler that wrote nothing
		}
		st.metrics.ObserveRequest(route, r.Method, status, d)
		if tracing.Enabled(r.Context()) {
			// The principal's org, never its token or subject's secrets.
			if p, ok := auth.FromContext(r.Context()); ok {
				tracing.Annotate(r.Context(), attribute.String("lodestone.org", p.Org), attribute.String("lodestone.auth", p.Method))
			}
		}
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelError
		}
		if a.log.Enabled(r.Context(), level) {
			a.log.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("route", route),
				slog.String("path", r.URL.Path), slog.Int("status", status), slog.Duration("duration", d))
		}
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

// studyProgress reports a study's progress to the metrics.
func (a *API) studyProgress(id, status string, done, total int) {
	if st := a.ops.Load(); st != nil {
		st.metrics.StudyProgress(id, status == RunRunning, done, total)
	}
}
