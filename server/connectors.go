package server

import (
	"context"
	"fmt"
	"os"

	"lodestone/connector"
)

// startConnectors starts the telemetry connectors of --connectors. A
// file that does not decode, or a mapping whose target does not fit the
// model, stops the server from starting, with the field named.
func (s *Server) startConnectors(ctx context.Context) error {
	if s.opts.Connectors == "" {
		return nil
	}
	b, err := os.ReadFile(s.opts.Connectors)
	if err != nil {
		return fmt.Errorf("server: connectors: %w", err)
	}
	cfg, err := connector.DecodeConfig(b)
	if err != nil {
		return fmt.Errorf("server: %s: %w", s.opts.Connectors, err)
	}
	s.connectors, err = connector.Start(ctx, cfg, s.API.Pipeline(), s.connectorOptions())
	if err != nil {
		return fmt.Errorf("server: %s: %w", s.opts.Connectors, err)
	}
	s.log.Info("connectors started", "file", s.opts.Connectors, "count", len(cfg.Connectors))
	return nil
}

// connectorOptions are the connectors' logger and the lag gauge of the
// server's metrics (lodestone_connector_lag_seconds).
func (s *Server) connectorOptions() connector.Options {
	o := connector.Options{Logger: s.log}
	if m := s.API.Metrics(); m != nil {
		o.Lag = m.SetConnectorLag
	}
	return o
}
