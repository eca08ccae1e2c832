package tracing_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"lodestone/ops/tracing"
)

// BenchmarkHandler measures the cost per request of the server span with
// tracing off (a nil tracer: the handler itself) and on (an SDK provider
// that samples every span and exports none, so only Lodestone's and the
// SDK's span work is measured), with one pipeline commit span.
func BenchmarkHandler(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		var tr *tracing.Tracer
		if on {
			name = "on"
			tr = tracing.NewWithProvider(sdktrace.NewTracerProvider())
		}
		b.Run(name, func(b *testing.B) {
			h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tr.BeginCommit(r.Context())
				tr.EndCommit(r.Context(), 1)
				w.WriteHeader(http.StatusNoContent)
			}), func(r *http.Request) string { return "PATCH /digitaltwins/{id}" })
			req := httptest.NewRequest(http.MethodPatch, "/digitaltwins/x", nil)
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
