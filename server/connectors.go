package server

import (
	"context"
	"fmt"
	"os"
	"time"

	"lodestone/connector"
	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/tql"
	"lodestone/twin"
)

// startConnectors starts the telemetry connectors of --connectors and
// those configured as twins of dtmi:lodestone:Connector;1 (watched for
// changes until shutdown). A file that does not decode, or a mapping of
// the file whose target does not fit the model, stops the server from
// starting, with the field named; a bad connector twin is only reported
// in its status.
func (s *Server) startConnectors(ctx context.Context) error {
	var cfg connector.Config
	if s.opts.Connectors != "" {
		b, err := os.ReadFile(s.opts.Connectors)
		if err != nil {
			return fmt.Errorf("server: connectors: %w", err)
		}
		if cfg, err = connector.DecodeConfig(b); err != nil {
			return fmt.Errorf("server: %s: %w", s.opts.Connectors, err)
		}
	}
	var err error
	s.connectors, err = connector.Start(ctx, cfg, s.API.Pipeline(), s.connectorOptions())
	if err != nil {
		return fmt.Errorf("server: %s: %w", s.opts.Connectors, err)
	}
	if len(cfg.Connectors) > 0 {
		s.log.Info("connectors started", "file", s.opts.Connectors, "count", len(cfg.Connectors))
	}
	if err := s.connectors.WatchTwins(ctx, s.Bus, s.connectorTwins); err != nil {
		return fmt.Errorf("server: %w", err)
	}
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

// connectorTwins lists the twins of the connector model.
func (s *Server) connectorTwins(ctx context.Context) ([]twin.ID, error) {
	sq, ok := s.Store.(store.SQLer)
	if !ok {
		return s.connectorTwinsSnapshot(ctx)
	}
	q, err := tql.Parse("SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '" + connector.Model + "', exact)")
	if err != nil {
		return nil, err
	}
	src := &sqlgraph.Source{S: sq}
	var ids []twin.ID
	token := ""
	for {
		res, err := src.Run(ctx, q, &tql.Options{}, token)
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			if id, ok := row["$dtId"].(string); ok {
				ids = append(ids, twin.ID(id))
			}
		}
		if token = res.ContinuationToken; token == "" {
			return ids, nil
		}
	}
}

// connectorTwinsSnapshot lists them from a snapshot, for stores without SQL.
func (s *Server) connectorTwinsSnapshot(ctx context.Context) ([]twin.ID, error) {
	snap, err := s.Store.Snapshot(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	var ids []twin.ID
	for _, t := range snap.Twins {
		if t.Metadata.Model == connector.Model {
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}
