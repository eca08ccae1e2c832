package sqlite

import (
	"fmt"
	"testing"

	"lodestone/twin"
)

// TestDocCache: a document read before a transaction ended is not kept
// (it may be the version that transaction replaced); invalidate drops the
// named twins or all; the byte bound holds.
func TestDocCache(t *testing.T) {
	c := newDocCache(64 << 10)
	doc := cachedDoc{doc: []byte(`{"$dtId":"a"}`), etag: `W/"1"`}
	_, gen, ok := c.get("a")
	if ok {
		t.Fatal("an empty cache holds a")
	}
	c.invalidate([]twin.ID{"b"}, false) // a transaction ended meanwhile
	c.put("a", doc, gen)
	if _, _, ok := c.get("a"); ok {
		t.Error("kept a document read before a transaction ended")
	}
	_, gen, _ = c.get("a")
	c.put("a", doc, gen)
	if d, _, ok := c.get("a"); !ok || string(d.doc) != string(doc.doc) {
		t.Fatalf("get(a) = %q, %v", d.doc, ok)
	}
	c.invalidate([]twin.ID{"a"}, false)
	if _, _, ok := c.get("a"); ok {
		t.Error("invalidate(a) kept a")
	}
	for i := range 10000 {
		id := twin.ID(fmt.Sprint("t", i))
		_, gen, _ := c.get(id)
		c.put(id, cachedDoc{doc: make([]byte, 200), etag: `W/"x"`}, gen)
		if c.bytes > c.max {
			t.Fatalf("after %d puts: %d bytes, bound %d", i+1, c.bytes, c.max)
		}
	}
	if len(c.m) == 0 {
		t.Fatal("nothing kept")
	}
	c.invalidate(nil, true)
	if len(c.m) != 0 || c.bytes != 0 {
		t.Errorf("invalidate(all) left %d entries, %d bytes", len(c.m), c.bytes)
	}
	big := cachedDoc{doc: make([]byte, 8<<10)}
	_, gen, _ = c.get("big")
	c.put("big", big, gen)
	if _, _, ok := c.get("big"); ok {
		t.Error("kept a document larger than a sixteenth of the cache")
	}
}
