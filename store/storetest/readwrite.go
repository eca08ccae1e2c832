package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"lodestone/store"
	"lodestone/twin"
)

// jsonOutput reads twin id's document with GetTwinJSON and returns its
// "output" property, checking the ETag against the document's.
func jsonOutput(t *testing.T, s store.Store, id twin.ID) (float64, twin.ETag, error) {
	t.Helper()
	b, etag, err := s.GetTwinJSON(t.Context(), id)
	if err != nil {
		return 0, "", err
	}
	var doc struct {
		ETag   twin.ETag `json:"$etag"`
		Output float64   `json:"output"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return 0, "", fmt.Errorf("GetTwinJSON(%s) = %s: %w", id, b, err)
	}
	if doc.ETag != etag {
		return 0, "", fmt.Errorf("GetTwinJSON(%s): document ETag %s, returned %s", id, doc.ETag, etag)
	}
	return doc.Output, etag, nil
}

// testReadAfterWrite checks that GetTwinJSON, read twice so that a backend
// that keeps documents serves the second read from memory, gives the
// version each kind of write left: a put, a patch, a patch from a base, a
// failed write, an import that replaces twins, a delete.
func testReadAfterWrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	want := func(what string, id twin.ID, output float64, etag twin.ETag) {
		t.Helper()
		for i := range 2 {
			got, gotTag, err := jsonOutput(t, s, id)
			if err != nil || got != output || (etag != "" && gotTag != etag) {
				t.Errorf("after %s, read %d: output %v etag %s, %v; want %v %s", what, i+1, got, gotTag, err, output, etag)
			}
		}
	}
	v := mustPut(t, s, newTwin("w", mineModel, map[string]any{"output": 1.0}))
	want("put", "w", 1, v.ETag)
	v = mustPut(t, s, newTwin("w", mineModel, map[string]any{"output": 2.0}))
	want("a put that replaces", "w", 2, v.ETag)
	v, err := s.PatchTwin(ctx, "w", mustPatch(t, `[{"op":"replace","path":"/output","value":3}]`), store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	want("patch", "w", 3, v.ETag)
	if tp, ok := s.(store.TwinPatcher); ok {
		v, err = tp.PatchTwinFrom(ctx, v, mustPatch(t, `[{"op":"replace","path":"/output","value":4}]`), store.Condition{IfMatch: v.ETag})
		if err != nil {
			t.Fatal(err)
		}
		want("patch from a base", "w", 4, v.ETag)
	}
	cur := v.ETag
	_, err = s.PatchTwin(ctx, "w", mustPatch(t, `[{"op":"replace","path":"/output","value":9}]`), store.Condition{IfMatch: "W/\"stale\""})
	wantErr(t, "PatchTwin(stale)", err, store.ErrPreconditionFailed)
	want("a refused patch", "w", 4, cur)
	b := &store.Batch{Twins: []twin.Twin{newTwin("w", mineModel, map[string]any{"output": 5.0}), newTwin("w2", mineModel, map[string]any{"output": 6.0})}}
	if _, err := s.Import(ctx, b.Entities(), store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	want("an import that replaces", "w", 5, "")
	want("an import that creates", "w2", 6, "")
	// An import that fails changes nothing.
	bad := &store.Batch{Twins: []twin.Twin{newTwin("w", mineModel, map[string]any{"output": 7.0}), newTwin("w3", "dtmi:unknown;1", nil)}}
	if _, err := s.Import(ctx, bad.Entities(), store.ImportOptions{}); err == nil {
		t.Fatal("an import naming an unknown model succeeded")
	}
	want("a failed import", "w", 5, "")
	if err := s.DeleteTwin(ctx, "w2", store.Condition{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := s.GetTwinJSON(ctx, "w2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetTwinJSON after delete: %v, want ErrNotFound", err)
		}
	}
	v = mustPut(t, s, newTwin("w2", mineModel, map[string]any{"output": 8.0}))
	want("a put after a delete", "w2", 8, v.ETag)
}

// testReadAfterAck runs patches of one twin, each setting output to the
// next integer, against readers: a read that starts after a patch was
// acknowledged must see that patch or a later one, never an older version
// (a backend's document cache must not serve one; see sqlite's docCache).
func testReadAfterAck(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedModels(t, s)
	mustPut(t, s, newTwin("hot", mineModel, map[string]any{"output": 0.0}))
	const patches, readers = 300, 4
	var acked atomic.Int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				floor := acked.Load()
				got, _, err := jsonOutput(t, s, "hot")
				if err != nil {
					t.Error(err)
					return
				}
				if int64(got) < floor {
					t.Errorf("read output %v after patch %d was acknowledged", got, floor)
					return
				}
			}
		})
	}
	for i := int64(1); i <= patches; i++ {
		if _, err := s.PatchTwin(ctx, "hot", mustPatch(t, fmt.Sprintf(`[{"op":"replace","path":"/output","value":%d}]`, i)), store.Condition{}); err != nil {
			t.Fatal(err)
		}
		acked.Store(i)
	}
	close(done)
	wg.Wait()
}
