package event

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// MemoryCheckpoints keeps route checkpoints in memory. It is safe for
// concurrent use.
type MemoryCheckpoints struct {
	mu  sync.Mutex
	seq map[string]uint64
}

var _ Checkpoints = (*MemoryCheckpoints)(nil)

// NewMemoryCheckpoints returns an empty in-memory checkpoint store.
func NewMemoryCheckpoints() *MemoryCheckpoints {
	return &MemoryCheckpoints{seq: map[string]uint64{}}
}

// Load returns the saved sequence of route.
func (c *MemoryCheckpoints) Load(_ context.Context, route string) (uint64, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.seq[route]
	return s, ok, nil
}

// Save records seq for route.
func (c *MemoryCheckpoints) Save(_ context.Context, route string, seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq[route] = seq
	return nil
}

// FileCheckpoints keeps each route's checkpoint in a small file under Dir
// (created on first save), written to a temporary file and renamed, so a
// crash leaves the old or the new value. Files are not synced: after a power
// loss a route may resume a little early and redeliver, which at-least-once
// allows. It is safe for concurrent use.
type FileCheckpoints struct {
	Dir string
	mu  sync.Mutex // serialises writers of the same directory
}

var _ Checkpoints = (*FileCheckpoints)(nil)

func (c *FileCheckpoints) path(route string) string {
	// Escape the name so that any route name is one safe file name.
	return filepath.Join(c.Dir, url.PathEscape(route)+".seq")
}

// Load reads the checkpoint of route; a missing file is no checkpoint.
func (c *FileCheckpoints) Load(_ context.Context, route string) (uint64, bool, error) {
	b, err := os.ReadFile(c.path(route))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("event: load checkpoint: %w", err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("event: load checkpoint %s: %w", c.path(route), err)
	}
	return seq, true, nil
}

// Save writes the checkpoint of route.
func (c *FileCheckpoints) Save(_ context.Context, route string, seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("event: save checkpoint: %w", err)
	}
	p := c.path(route)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("event: save checkpoint: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("event: save checkpoint: %w", err)
	}
	return nil
}
