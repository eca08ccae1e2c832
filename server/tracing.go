package server

import (
	"context"
	"flag"
	"fmt"

	"lodestone/ops/tracing"
)

// startTracing turns the API's OpenTelemetry traces on when
// Options.OTelEndpoint is set (see docs/operations.md); off, nothing is
// built and requests pay nothing.
func (s *Server) startTracing(ctx context.Context) error {
	t := s.opts.Tracer
	if t == nil {
		var err error
		if t, err = tracing.New(ctx, tracing.Config{Endpoint: s.opts.OTelEndpoint}); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	s.tracer = t
	s.API.SetTracer(t)
	if t != nil {
		s.log.Info("tracing", "otel_endpoint", s.opts.OTelEndpoint)
	}
	return nil
}

// stopTracing exports the spans still buffered.
func (s *Server) stopTracing(ctx context.Context) error {
	t := s.tracer
	s.tracer = nil
	if err := t.Shutdown(ctx); err != nil {
		return fmt.Errorf("server: export traces: %w", err)
	}
	return nil
}

func (o *Options) registerTracingFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.OTelEndpoint, "otel.endpoint", o.OTelEndpoint, "export OpenTelemetry traces over OTLP/HTTP to this collector URL (http://collector:4318), or \"env\" for the OTEL_EXPORTER_OTLP_* and OTEL_SERVICE_NAME variables; empty (default): no traces")
}

func (o *Options) validateTracing() []error {
	if err := tracing.ParseEndpoint(o.OTelEndpoint); err != nil {
		return []error{err}
	}
	return nil
}
