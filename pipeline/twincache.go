package pipeline

import (
	"sync"

	"lodestone/twin"
)

// twinCacheSize bounds the twins a pipeline keeps: a few MB of typical
// twins, enough for the working set of a stream of patches.
const twinCacheSize = 4096

// twinCache holds the versions of twins that this pipeline has just
// written, so that a patch need not read its base version from the store.
// An entry is only a guess: the patch is stored under If-Match of the
// entry's ETag, so the store refuses it when the twin has changed since
// (through another server on the same database, an import, a delete) and
// the pipeline then reads the store and tries again (see PatchTwin). ETags
// are random per version, so an entry with the current ETag is the current
// version. It is safe for concurrent use; the twins it holds are never
// modified (put stores a copy, and ApplyPatch leaves its receiver alone).
type twinCache struct {
	mu sync.Mutex
	m  map[twin.ID]twin.Twin
}

func (c *twinCache) get(id twin.ID) (twin.Twin, bool) {
	c.mu.Lock()
	t, ok := c.m[id]
	c.mu.Unlock()
	return t, ok
}

// put keeps a copy of t, the version a write has just stored. When full it
// drops an arbitrary entry.
func (c *twinCache) put(t twin.Twin) {
	if t.ID == "" || t.ETag == "" {
		return
	}
	t = t.Clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[twin.ID]twin.Twin)
	}
	if _, ok := c.m[t.ID]; !ok && len(c.m) >= twinCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[t.ID] = t
}

// drop forgets twin id if the entry is still version etag ("" drops any
// version).
func (c *twinCache) drop(id twin.ID, etag twin.ETag) {
	c.mu.Lock()
	if t, ok := c.m[id]; ok && (etag == "" || t.ETag == etag) {
		delete(c.m, id)
	}
	c.mu.Unlock()
}
