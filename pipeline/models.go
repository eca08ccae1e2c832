package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/dtdl"
	"lodestone/store"
	"lodestone/twin"
)

// Models is the parsed model set at one version of the store's model set.
// It is immutable: a model change makes a new one.
type Models struct {
	// Set is the parsed set; nil when no model is stored.
	Set *dtdl.ModelSet
	// All holds the stored models by id.
	All map[string]twin.Model
	// Version is the store's model-set version this set was read at.
	Version int64
}

// Interface returns the parsed interface of a model id. A model that is not
// uploaded gives a ModelNotFound error and no interface; a decommissioned
// one gives its interface and a ModelDecommissioned error, so that callers
// may still use it for twins that already have that model.
func (m *Models) Interface(id string) (*dtdl.Interface, error) {
	var i *dtdl.Interface
	if m.Set != nil {
		i = m.Set.Interface(id)
	}
	if i == nil {
		return nil, refuse(store.ErrInvalid, "ModelNotFound", "model %s is not uploaded; upload it with POST /models first", id)
	}
	if mm, ok := m.All[id]; ok && mm.Decommissioned {
		return i, refuse(store.ErrInvalid, "ModelDecommissioned", "model %s is decommissioned; new twins may not use it", id)
	}
	return i, nil
}

// ParseModels parses stored models as one set.
func ParseModels(ms []twin.Model) (*dtdl.ModelSet, error) {
	docs := make([]dtdl.Document, len(ms))
	for i, m := range ms {
		docs[i] = dtdl.Document{Name: m.ID, Data: m.DTDL}
	}
	return dtdl.Parse(docs, &dtdl.Options{AllowUndefinedExtensions: true})
}

// modelCache holds the current Models. Model writes of this server are
// serialised by a lock that waits no longer than the caller's context;
// servers sharing the database are kept apart by the version check.
type modelCache struct {
	st   store.Models
	cur  atomic.Pointer[Models]
	lock chan struct{} // one token: held by the model write in progress

	reloadMu sync.Mutex // one reload at a time
}

func newModelCache(st store.Models) *modelCache {
	return &modelCache{st: st, lock: make(chan struct{}, 1)}
}

// current returns the cached set.
func (c *modelCache) current() *Models { return c.cur.Load() }

// reload reads the model set from the store unless the cache already holds
// version min or newer (min < 0 forces a read).
func (c *modelCache) reload(ctx context.Context, min int64) (*Models, error) {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	if cur := c.cur.Load(); cur != nil && min >= 0 && cur.Version >= min {
		return cur, nil
	}
	// The version is read before the models: a change in between makes
	// the set newer than its label, which a write then finds stale and
	// retries; the other order could label an old set with a new version.
	v, err := c.st.ModelsVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipeline: read model-set version: %w", err)
	}
	if cur := c.cur.Load(); cur != nil && cur.Version == v && min < 0 {
		return cur, nil
	}
	ms, err := c.st.ListModels(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipeline: load models: %w", err)
	}
	m, err := newModels(ms, v)
	if err != nil {
		return nil, err
	}
	c.store(m)
	return c.cur.Load(), nil
}

func newModels(ms []twin.Model, version int64) (*Models, error) {
	set, err := ParseModels(ms)
	if err != nil {
		return nil, fmt.Errorf("pipeline: parse stored models: %w", err)
	}
	all := make(map[string]twin.Model, len(ms))
	for _, m := range ms {
		all[m.ID] = m
	}
	return &Models{Set: set, All: all, Version: version}, nil
}

// store installs m unless a newer set is cached already.
func (c *modelCache) store(m *Models) {
	for {
		cur := c.cur.Load()
		if cur != nil && cur.Version > m.Version {
			return
		}
		if c.cur.CompareAndSwap(cur, m) {
			return
		}
	}
}

// acquire takes the model write lock, waiting at most wait or until ctx
// ends.
func (c *modelCache) acquire(ctx context.Context, wait time.Duration) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case c.lock <- struct{}{}:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return refuse(ErrBusy, "ServiceUnavailable", "another model change or import is in progress; retry later")
}

func (c *modelCache) release() { <-c.lock }
