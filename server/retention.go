package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"lodestone/store"
	"lodestone/store/retention"
	"lodestone/trust"
)

// registerRetentionFlags adds the --retain.* flags.
func (o *Options) registerRetentionFlags(fs *flag.FlagSet) {
	fs.Var(&o.RetainEvents, "retain.events", "keep events on the JetStream stream this long (its max age; 0 keeps them for ever)")
	fs.Var(&o.RetainHistory, "retain.history", "remove twin and relationship versions that ended longer ago than this (never the current version; 0 keeps them)")
	fs.Var(&o.RetainTelemetry, "retain.telemetry", "remove telemetry stored longer ago than this (0 keeps it)")
	fs.Var(&o.RetainEvery, "retain.every", "how often the server compacts with --retain.history/--retain.telemetry (default 1h)")
}

// validateRetention checks the retention options.
func (o *Options) validateRetention() []error {
	var errs []error
	for _, d := range []struct {
		name string
		v    Duration
	}{{"retain_events", o.RetainEvents}, {"retain_history", o.RetainHistory}, {"retain_telemetry", o.RetainTelemetry}, {"retain_every", o.RetainEvery}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %v must not be negative", d.name, time.Duration(d.v)))
		}
	}
	if o.RetainEvents > 0 && time.Duration(o.RetainEvents) < time.Minute {
		errs = append(errs, fmt.Errorf("retain_events: %v is under a minute (the stream's duplicate window is two)", time.Duration(o.RetainEvents)))
	}
	return errs
}

// Compact compacts the store st, opened on dsn, as o says. When the store
// keeps a transparency log, signer must be the log's key: a signed
// compaction marker is recorded before any row goes, so that trust.Verify
// still accepts the log; without the key the compaction is refused.
func Compact(ctx context.Context, st store.Store, dsn string, signer note.Signer, o retention.Options) (*retention.Result, error) {
	_, err := trust.ReadConfig(ctx, st)
	logged := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if logged && signer == nil {
		return nil, errors.New("compact: the store keeps a transparency log: give its signing key (--log-key) so that the compaction is recorded and verify still holds")
	}
	if logged {
		o.Mark = func(ctx context.Context, history, telemetry time.Time) error {
			return trust.RecordCompaction(ctx, st, signer, trust.Compaction{History: history, Telemetry: telemetry, At: time.Now()})
		}
	}
	db, err := retention.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Compact(ctx, st, o)
}

// retain measures the store's size every minute for the metrics and, with
// --retain.history or --retain.telemetry, compacts it every RetainEvery,
// while ctx lasts.
func (s *Server) retain(ctx context.Context) {
	every := time.Duration(s.opts.RetainEvery)
	if every <= 0 {
		every = time.Hour
	}
	var signer note.Signer
	if s.opts.LogKey != "" {
		var err error
		if signer, err = trust.LoadSigner(s.opts.LogKey); err != nil {
			s.log.Error("retention: log key", "err", err)
			return
		}
	}
	t := time.NewTicker(min(every, time.Minute))
	defer t.Stop()
	var next time.Time
	for {
		if now := time.Now(); (s.opts.RetainHistory > 0 || s.opts.RetainTelemetry > 0) && !now.Before(next) {
			s.compactOnce(ctx, signer)
			next = now.Add(every)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.storeSize(ctx)
	}
}

func (s *Server) compactOnce(ctx context.Context, signer note.Signer) {
	now := time.Now()
	var o retention.Options
	if d := time.Duration(s.opts.RetainHistory); d > 0 {
		o.HistoryBefore = now.Add(-d)
	}
	if d := time.Duration(s.opts.RetainTelemetry); d > 0 {
		o.TelemetryBefore = now.Add(-d)
	}
	res, err := Compact(ctx, s.Store, s.opts.storeDSN(), signer, o)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("retention: compact", "err", err)
		}
		return
	}
	s.log.Info("retention: compacted", "twin_versions", res.TwinVersions, "relationship_versions", res.RelationshipVersions,
		"telemetry", res.Telemetry, "bytes_before", res.Before.File, "bytes_after", res.After.File, "used_after", res.After.Used)
	if m := s.API.Metrics(); m != nil {
		m.StoreSize(res.After.File, res.After.Used)
	}
}

// storeSize reports the store's size to the metrics.
func (s *Server) storeSize(ctx context.Context) {
	m := s.API.Metrics()
	if m == nil {
		return
	}
	db, err := retention.Open(ctx, s.opts.storeDSN())
	if err != nil {
		return
	}
	defer db.Close()
	if sz, err := db.Size(ctx); err == nil {
		m.StoreSize(sz.File, sz.Used)
	}
}

// MergeOpsFlags copies the scale-out and operations flags given on the
// command line over o: the NATS replicas, the studies' limits and work
// queue, retention and --metrics-public.
func MergeOpsFlags(o *Options, f Options, set map[string]bool) {
	for name, apply := range map[string]func(){
		"nats.replicas":             func() { o.NATSReplicas = f.NATSReplicas },
		"studies.max-concurrent":    func() { o.StudiesMaxConcurrent = f.StudiesMaxConcurrent },
		"studies.max-per-principal": func() { o.StudiesMaxPerPrincipal = f.StudiesMaxPerPrincipal },
		"studies.max-queued-runs":   func() { o.StudiesMaxQueuedRuns = f.StudiesMaxQueuedRuns },
		"studies.workers":           func() { o.StudiesWorkers = f.StudiesWorkers },
		"studies.ack-wait":          func() { o.StudiesAckWait = f.StudiesAckWait },
		"retain.events":             func() { o.RetainEvents = f.RetainEvents },
		"retain.history":            func() { o.RetainHistory = f.RetainHistory },
		"retain.telemetry":          func() { o.RetainTelemetry = f.RetainTelemetry },
		"retain.every":              func() { o.RetainEvery = f.RetainEvery },
		"metrics-public":            func() { o.MetricsPublic = f.MetricsPublic },
		"otel.endpoint":             func() { o.OTelEndpoint = f.OTelEndpoint },
	} {
		if set[name] {
			apply()
		}
	}
}
