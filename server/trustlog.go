package server

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"lodestone/trust"
)

// registerTrustFlags adds the transparency log's flags.
func (o *Options) registerTrustFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.LogKey, "log-key", o.LogKey, "Ed25519 signing key of the transparency log (lodestone trust keygen writes one; keep it outside the data folder); empty keeps no log")
}

// MergeTrustFlags copies the trust flags given on the command line over o.
func MergeTrustFlags(o *Options, f Options, set map[string]bool) {
	if set["log-key"] {
		o.LogKey = f.LogKey
	}
}

// validateTrust checks the log key's place: a key inside the data folder
// would travel with every backup and copy of the data it vouches for.
func (o *Options) validateTrust() []error {
	if o.LogKey == "" || o.DataDir == "" {
		return nil
	}
	key, err1 := filepath.Abs(o.LogKey)
	dir, err2 := filepath.Abs(o.DataDir)
	if err1 != nil || err2 != nil {
		return nil
	}
	if rel, err := filepath.Rel(dir, key); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return []error{fmt.Errorf("log_key: %s is inside the data folder %s; keep the signing key outside it", o.LogKey, o.DataDir)}
	}
	return nil
}

// openTrustLog loads the signing key and opens the log on the store; nil
// without a key. The log's Source must be the pipeline's (the events').
func (s *Server) openTrustLog(ctx context.Context) (*trust.Log, error) {
	if s.opts.LogKey == "" {
		return nil, nil
	}
	signer, err := trust.LoadSigner(s.opts.LogKey)
	if err != nil {
		return nil, fmt.Errorf("server: log_key: %w", err)
	}
	l, err := trust.NewLog(ctx, s.Store, signer, trust.LogOptions{Source: s.source(), Logger: s.log.With("component", "trust")})
	if err != nil {
		return nil, fmt.Errorf("server: transparency log: %w", err)
	}
	l.Start()
	return l, nil
}
