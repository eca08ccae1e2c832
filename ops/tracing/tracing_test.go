package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"lodestone/ops/tracing"
)

// TestOff: a nil tracer (tracing off) returns the handler itself and its
// methods allocate nothing.
func TestOff(t *testing.T) {
	var tr *tracing.Tracer
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if got := tr.Handler(h, nil); got == nil || httptest.NewRecorder() == nil {
		t.Fatal("nil handler")
	}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		tr.BeginCommit(ctx)
		tr.EndCommit(ctx, 1)
		_ = tracing.Enabled(ctx)
	})
	if allocs != 0 {
		t.Errorf("tracing off allocates %v per write", allocs)
	}
	if err := tr.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

// TestCommitSpans: a commit begun and not ended by the end of its request
// is ended with an error status; one ended is a child of the request span.
func TestCommitSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := tracing.NewWithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.BeginCommit(r.Context())
		if r.URL.Path == "/ok" {
			tr.EndCommit(r.Context(), 2)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusConflict)
	}), func(r *http.Request) string { return r.Method + " " + r.URL.Path })
	for _, p := range []string{"/ok", "/fail"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, p, nil))
	}
	spans := rec.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	byName := map[string]sdktrace.ReadOnlySpan{}
	var commits []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "pipeline.commit" {
			commits = append(commits, s)
		} else {
			byName[s.Name()] = s
		}
	}
	ok, fail := byName["PUT /ok"], byName["PUT /fail"]
	if ok == nil || fail == nil || len(commits) != 2 {
		t.Fatalf("spans %v", spans)
	}
	for _, c := range commits {
		switch c.Parent().SpanID() {
		case ok.SpanContext().SpanID():
			if c.Status().Code != 0 {
				t.Errorf("committed write's span status %v", c.Status())
			}
		case fail.SpanContext().SpanID():
			if c.Status().Description == "" {
				t.Errorf("uncommitted write's span has no error status")
			}
		default:
			t.Errorf("commit span's parent is neither request")
		}
	}
}
