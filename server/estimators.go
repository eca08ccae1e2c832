package server

import (
	"context"
	"fmt"
	"os"

	"lodestone/connector/softsensor"
)

// startEstimators starts the live soft sensors of --estimators, after
// the connectors (whose telemetry they read). A file that does not decode,
// or a sensor source that does not fit its twin's model, stops the server
// from starting, with the field named.
func (s *Server) startEstimators(ctx context.Context) error {
	if s.opts.Estimators == "" {
		return nil
	}
	b, err := os.ReadFile(s.opts.Estimators)
	if err != nil {
		return fmt.Errorf("server: estimators: %w", err)
	}
	cfg, err := softsensor.DecodeConfig(b)
	if err != nil {
		return fmt.Errorf("server: %s: %w", s.opts.Estimators, err)
	}
	s.estimators, err = softsensor.Start(ctx, cfg, s.API.Pipeline(), s.Bus, s.log)
	if err != nil {
		return fmt.Errorf("server: %s: %w", s.opts.Estimators, err)
	}
	s.log.Info("estimators started", "file", s.opts.Estimators, "count", len(cfg.Estimators))
	return nil
}
