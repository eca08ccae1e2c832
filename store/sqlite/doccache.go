package sqlite

import (
	"sync"

	"lodestone/twin"
)

// docCache keeps the documents GetTwinJSON made, so that a read of a twin
// that has not changed since costs no query. Twin reads are most of a twin
// graph's traffic, and on this store the query, database/sql and the
// driver are a fifth of a read's CPU (docs/benchmarks.md).
//
// It is only correct while this DB is the database's only writer: a
// commit by another process is not seen. Options.DocCacheMiB turns it on;
// the server does so for the file in the data folder it holds locked.
//
// Invalidation is by twin and exact. The writer goroutine notes the twins
// each transaction writes (touch) and, once the transaction has ended and
// before any of its writes is acknowledged, drops them and advances gen
// (invalidate). A reader notes gen before its query and keeps the
// document only if gen has not moved since (put): a document read from a
// snapshot older than a commit is either refused, or kept before that
// commit's invalidation, which then drops it. So a read that starts after
// a write was acknowledged never gets the version the write replaced.
type docCache struct {
	max int // bytes

	mu    sync.Mutex
	gen   uint64
	m     map[twin.ID]cachedDoc
	bytes int
}

// cachedDoc is a twin's document and ETag as GetTwinJSON returns them.
type cachedDoc struct {
	doc  []byte
	etag twin.ETag
}

// docOverhead approximates the bytes of a map entry beside its document,
// so that the bound holds for many small twins too.
const docOverhead = 96

func newDocCache(maxBytes int) *docCache {
	return &docCache{max: maxBytes, m: map[twin.ID]cachedDoc{}}
}

// get returns the cached document of id, or the generation to hand to put
// with the document the caller reads from the store.
func (c *docCache) get(id twin.ID) (cachedDoc, uint64, bool) {
	c.mu.Lock()
	d, ok := c.m[id]
	g := c.gen
	c.mu.Unlock()
	return d, g, ok
}

// put keeps d as id's document if no transaction has ended since gen was
// read. When the cache is full it drops arbitrary entries first. d.doc is
// shared with every later reader: nobody may modify it.
func (c *docCache) put(id twin.ID, d cachedDoc, gen uint64) {
	size := len(d.doc) + len(id) + len(d.etag) + docOverhead
	if size > c.max/16 {
		return // a document this large would crowd out the rest
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if old, ok := c.m[id]; ok {
		c.bytes -= len(old.doc) + len(id) + len(old.etag) + docOverhead
	}
	for k, v := range c.m {
		if c.bytes+size <= c.max {
			break
		}
		c.bytes -= len(v.doc) + len(k) + len(v.etag) + docOverhead
		delete(c.m, k)
	}
	c.m[id] = d
	c.bytes += size
}

// invalidate drops the documents of ids, or all of them, and advances the
// generation. The writer calls it after every transaction that wrote
// twins, committed or not, before answering its writes.
func (c *docCache) invalidate(ids []twin.ID, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if all {
		clear(c.m)
		c.bytes = 0
		return
	}
	for _, id := range ids {
		if v, ok := c.m[id]; ok {
			c.bytes -= len(v.doc) + len(id) + len(v.etag) + docOverhead
			delete(c.m, id)
		}
	}
}

// touch notes that the running write transaction writes twin id (all: it
// may write any twin). The writer goroutine calls it, holding wmu.
func (db *DB) touch(id twin.ID, all bool) {
	if db.docs == nil {
		return
	}
	if all {
		db.touchedAll = true
		return
	}
	db.touched = append(db.touched, id)
}

// endTouch invalidates the documents of the twins the transaction that has
// just ended wrote. The caller holds wmu, and no write of the transaction
// is answered yet.
func (db *DB) endTouch() {
	if db.docs == nil || len(db.touched) == 0 && !db.touchedAll {
		return
	}
	db.docs.invalidate(db.touched, db.touchedAll)
	clear(db.touched)
	db.touched, db.touchedAll = db.touched[:0], false
}
