package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"lodestone/ops/tracing"
	"lodestone/server"
)

func attr(kv []attribute.KeyValue, key string) (attribute.Value, bool) {
	for _, a := range kv {
		if string(a.Key) == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

// TestTracingSpans: with a span recorder, a write makes a server span
// named by its route pattern with its status, the parent the request's
// traceparent named, and a pipeline.commit child span; a query gets a
// query.eval child span; a path only the dashboard's catch-all matches is
// named "GET /".
func TestTracingSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s := startServer(t, func(o *server.Options) { o.Tracer = tracing.NewWithProvider(tp) })
	ctx, cancel := contextWithTimeout(30 * time.Second)
	defer cancel()
	c := &http.Client{Timeout: 20 * time.Second}
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	r, err := send(ctx, c, http.MethodPost, s.URL()+"/models", ontologyBody(), "traceparent", parent)
	if err != nil || r.status != http.StatusCreated {
		t.Fatalf("POST /models: %v %d %s", err, r.status, r.body)
	}
	if r, err = send(ctx, c, http.MethodGet, s.URL()+"/no/such/route", nil); err != nil || r.status != http.StatusNotFound {
		t.Fatalf("GET /no/such/route: %v %d", err, r.status)
	}
	if r, err = send(ctx, c, http.MethodPost, s.URL()+"/query", []byte(`{"query":"SELECT T FROM DIGITALTWINS T"}`)); err != nil || r.status != http.StatusOK {
		t.Fatalf("POST /query: %v %d %s", err, r.status, r.body)
	}
	spans := rec.Ended()
	var server, unrouted, commit, query, queryEval sdktrace.ReadOnlySpan
	for _, sp := range spans {
		switch sp.Name() {
		case "POST /models":
			server = sp
		case "GET /": // the dashboard's catch-all serves unknown paths
			unrouted = sp
		case "pipeline.commit":
			commit = sp
		case "POST /query":
			query = sp
		case "query.eval":
			queryEval = sp
		}
	}
	if server == nil || unrouted == nil || commit == nil || query == nil || queryEval == nil {
		names := []string{}
		for _, sp := range spans {
			names = append(names, sp.Name())
		}
		t.Fatalf("spans %v: want POST /models, GET /, pipeline.commit, POST /query and query.eval", names)
	}
	if queryEval.Parent().SpanID() != query.SpanContext().SpanID() {
		t.Error("query.eval is not a child of the POST /query span")
	}
	if v, ok := attr(server.Attributes(), "http.response.status_code"); !ok || v.AsInt64() != 201 {
		t.Errorf("server span status = %v, want 201", v.Emit())
	}
	if v, ok := attr(server.Attributes(), "lodestone.org"); !ok || v.AsString() != "" {
		t.Errorf("server span org = %v %v, want the anonymous principal's org \"\"", v.Emit(), ok)
	}
	if got := server.Parent().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("server span trace = %s, want the traceparent's", got)
	}
	if commit.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("pipeline.commit's parent = %s, want the request span %s", commit.Parent().SpanID(), server.SpanContext().SpanID())
	}
	if v, _ := attr(commit.Attributes(), "lodestone.kind"); v.AsString() != "model" {
		t.Errorf("pipeline.commit kind = %q, want model", v.AsString())
	}
	if v, _ := attr(unrouted.Attributes(), "http.response.status_code"); v.AsInt64() != 404 {
		t.Errorf("unrouted span status = %v, want 404", v.Emit())
	}
	for _, sp := range spans {
		for _, a := range sp.Attributes() {
			if a.Key == "http.request.header.authorization" {
				t.Errorf("span %s carries %s", sp.Name(), a.Key)
			}
		}
	}
}

// collector counts the OTLP/HTTP export requests it gets.
type collector struct {
	posts atomic.Int64
	other atomic.Int64
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
		c.posts.Add(1)
	} else {
		c.other.Add(1)
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// TestTracingOTLP: with --otel.endpoint pointed at a collector, or set to
// "env" with OTEL_EXPORTER_OTLP_ENDPOINT naming it, the spans of requests
// arrive as POST /v1/traces (flushed at the latest by the shutdown);
// without it, the collector gets nothing.
func TestTracingOTLP(t *testing.T) {
	for _, tc := range []struct {
		name string
		on   bool
	}{{"on", true}, {"env", true}, {"off", false}} {
		t.Run(tc.name, func(t *testing.T) {
			col := &collector{}
			hs := httptest.NewServer(col)
			defer hs.Close()
			o := server.DefaultOptions()
			o.DataDir, o.HTTPAddr = t.TempDir(), "127.0.0.1:0"
			switch tc.name {
			case "on":
				o.OTelEndpoint = hs.URL
			case "env":
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", hs.URL)
				t.Setenv("OTEL_SERVICE_NAME", "lodestone-test")
				o.OTelEndpoint = tracing.Env
			}
			s, err := server.New(o)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := contextWithTimeout(30 * time.Second)
			defer cancel()
			c := &http.Client{Timeout: 20 * time.Second}
			for range 3 {
				if r, err := send(ctx, c, http.MethodGet, s.URL()+"/healthz", nil); err != nil || r.status != 200 {
					t.Fatalf("GET /healthz: %v %d", err, r.status)
				}
			}
			if err := s.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			posts, other := col.posts.Load(), col.other.Load()
			if other != 0 {
				t.Errorf("collector got %d requests other than POST /v1/traces", other)
			}
			if tc.on && posts == 0 {
				t.Errorf("collector got no POST /v1/traces")
			}
			if !tc.on && posts != 0 {
				t.Errorf("tracing off: collector got %d exports", posts)
			}
			t.Logf("exports: %d", posts)
		})
	}
}

func TestTracingEndpointValidation(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"", true}, {"env", true}, {"http://collector:4318", true}, {"https://c.example/v1/traces", true},
		{"collector:4318", false}, {"grpc://c:4317", false}, {"http://", false}} {
		o := server.DefaultOptions()
		o.OTelEndpoint = tc.v
		err := o.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("otel_endpoint %q: err = %v, want ok=%v", tc.v, err, tc.ok)
		}
		if err != nil && !tc.ok && !strings.Contains(err.Error(), "otel_endpoint") {
			t.Errorf("otel_endpoint %q: error %q does not name the field", tc.v, err)
		}
	}
}
