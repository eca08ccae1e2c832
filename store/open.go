package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// OpenFunc opens a store for a data source name of its scheme.
type OpenFunc func(ctx context.Context, dsn string) (Store, error)

var (
	backendsMu sync.RWMutex
	backends   = map[string]OpenFunc{}
)

// Register makes a backend available to Open under scheme (the part of a
// DSN before the first ':'; "sqlite", "postgres"). It panics if scheme is
// empty, open is nil, or scheme is registered twice: these are programming
// errors, as with database/sql.Register.
func Register(scheme string, open OpenFunc) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if scheme == "" || open == nil {
		panic("store: Register with empty scheme or nil open function")
	}
	if _, dup := backends[scheme]; dup {
		panic("store: Register called twice for scheme " + scheme)
	}
	backends[scheme] = open
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	backendsMu.RLock()
	defer backendsMu.RUnlock()
	s := make([]string, 0, len(backends))
	for k := range backends {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// Open opens the store named by dsn with the backend registered for its
// scheme: "sqlite:PATH", "sqlite::memory:", "postgres://…". A postgresql://
// DSN is looked up as "postgres".
func Open(ctx context.Context, dsn string) (Store, error) {
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("store: open %q: no scheme (want sqlite:PATH or postgres://…)", dsn)
	}
	if scheme == "postgresql" {
		scheme = "postgres"
	}
	backendsMu.RLock()
	open := backends[scheme]
	backendsMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("store: open %q: unknown scheme %q (registered: %s)", dsn, scheme, strings.Join(Schemes(), ", "))
	}
	st, err := open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", dsn, err)
	}
	return st, nil
}
