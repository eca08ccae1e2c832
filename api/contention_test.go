package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestPatchContention sends 48 concurrent PATCHes without If-Match to one
// twin: each either succeeds or, past the retry deadline, answers 503 with
// Retry-After; none answers 412, a precondition the client never sent.
// With a stale If-Match the answer is 412.
func TestPatchContention(t *testing.T) {
	e := start(t, options{})
	e.putTwin("hot", "dtmi:test:Asset;1", map[string]any{"capacity": 0.0})
	const n = 48
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := e.do("PATCH", "/digitaltwins/hot", fmt.Sprintf(`[{"op":"replace","path":"/capacity","value":%d}]`, i))
			statuses[i] = r.status
			if r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After: %s", r.body)
			}
		})
	}
	wg.Wait()
	ok := 0
	for i, s := range statuses {
		switch s {
		case http.StatusNoContent:
			ok++
		case http.StatusServiceUnavailable:
		default:
			t.Errorf("PATCH %d without If-Match = %d", i, s)
		}
	}
	if ok == 0 {
		t.Error("no PATCH succeeded")
	}
	t.Logf("%d of %d concurrent PATCHes succeeded, the rest answered 503", ok, n)
	r := e.do("PATCH", "/digitaltwins/hot", `[{"op":"replace","path":"/capacity","value":1}]`, "If-Match", `W/"stale"`)
	if r.status != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a stale If-Match = %d %s, want 412", r.status, r.body)
	}
}
