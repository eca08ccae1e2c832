package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"lodestone/store"
	"lodestone/twin"
)

// ErrNotFound means there is no run with the id asked for: no twin, or a
// twin of another model. Checked with errors.Is.
var ErrNotFound = errors.New("scenario: run not found")

// MaxAttempts bounds the writes of one Update: the first and the retries
// after a concurrent write changed the run. Each failed attempt means
// another writer's update landed, so k writers updating one run at once
// all succeed as long as k ≤ MaxAttempts.
const MaxAttempts = 10

// Twins is what Runs needs of the twin graph. The methods have the
// signatures and the semantics of store.Store's: GetTwin gives an error
// wrapping store.ErrNotFound for a missing twin, and the writes honour cond
// and give an error wrapping store.ErrPreconditionFailed when it does not
// hold.
type Twins interface {
	GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error)
	PutTwin(ctx context.Context, t twin.Twin, cond store.Condition) (twin.Twin, error)
	PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond store.Condition) (twin.Twin, error)
}

var _ Twins = store.Store(nil)

// Runs stores scenario runs as ScenarioRun twins. It is safe for
// concurrent use if its Twins is.
type Runs struct {
	twins Twins
}

// New returns the runs stored in t.
func New(t Twins) *Runs { return &Runs{twins: t} }

// Create stores a new run under If-None-Match: *. A twin with the run's id
// already stored gives an error wrapping store.ErrPreconditionFailed; the
// run does not replace it.
func (r *Runs) Create(ctx context.Context, run *Run) error {
	if _, err := r.twins.PutTwin(ctx, Encode(run), store.Condition{IfNoneMatch: true}); err != nil {
		return fmt.Errorf("scenario: create run %s: %w", run.ID, err)
	}
	return nil
}

// Get returns the run stored as twin id, or an error wrapping ErrNotFound.
func (r *Runs) Get(ctx context.Context, id twin.ID) (Run, error) {
	run, _, err := r.get(ctx, id)
	return run, err
}

func (r *Runs) get(ctx context.Context, id twin.ID) (Run, twin.Twin, error) {
	t, err := r.twins.GetTwin(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Run{}, twin.Twin{}, fmt.Errorf("scenario: run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, twin.Twin{}, fmt.Errorf("scenario: get run %s: %w", id, err)
	}
	run, err := Decode(t)
	return run, t, err
}

// Update changes the run stored as twin id: it reads the run, calls change
// on it, and writes the properties that changed under If-Match of the
// version it read. When another write got in between, it reads the new
// version and calls change again, up to MaxAttempts writes; change must
// therefore only modify the run it is given, and may be called more than
// once. An error from change ends the update with nothing written and is
// returned as it is. Update returns the run as written, an error wrapping
// ErrNotFound when the run is gone, or one wrapping
// store.ErrPreconditionFailed when every attempt lost the race.
func (r *Runs) Update(ctx context.Context, id twin.ID, change func(*Run) error) (Run, error) {
	var err error
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return Run{}, err
		}
		run, cur, gerr := r.get(ctx, id)
		if gerr != nil {
			return Run{}, gerr
		}
		if err := change(&run); err != nil {
			return Run{}, err
		}
		run.ID = id // the id names the twin; a change cannot move it
		p, perr := diff(cur.Properties, Encode(&run).Properties)
		if perr != nil {
			return Run{}, fmt.Errorf("scenario: update run %s: %w", id, perr)
		}
		if len(p) == 0 {
			return run, nil
		}
		_, err = r.twins.PatchTwin(ctx, id, p, store.Condition{IfMatch: cur.ETag})
		switch {
		case err == nil:
			return run, nil
		case errors.Is(err, store.ErrNotFound):
			return Run{}, fmt.Errorf("scenario: run %s: %w", id, ErrNotFound)
		case !errors.Is(err, store.ErrPreconditionFailed):
			return Run{}, fmt.Errorf("scenario: update run %s: %w", id, err)
		}
	}
	return Run{}, fmt.Errorf("scenario: update run %s: %d attempts lost to concurrent writes: %w", id, MaxAttempts, err)
}

// diff returns the JSON Patch that turns the run properties of cur into
// those of next: an add (which replaces) for every property of next whose
// JSON differs from cur's, a remove for every owned property that next no
// longer has. Properties the run does not own are left alone. Operations
// come in property-name order.
func diff(cur, next map[string]any) (twin.Patch, error) {
	var p twin.Patch
	names := append([]string(nil), owned...)
	slices.Sort(names)
	for _, name := range names {
		nv, inNext := next[name]
		cv, inCur := cur[name]
		switch {
		case inNext:
			same, err := sameJSON(cv, nv)
			if err != nil {
				return nil, fmt.Errorf("property %s: %w", name, err)
			}
			if !inCur || !same {
				p = append(p, twin.Operation{Op: twin.OpAdd, Path: "/" + name, Value: nv})
			}
		case inCur:
			p = append(p, twin.Operation{Op: twin.OpRemove, Path: "/" + name})
		}
	}
	return p, nil
}

// sameJSON reports whether a and b encode to the same JSON. Stored values
// come back as float64 and map[string]any, encoded ones as int, uint64 and
// typed maps; their JSON is what the store compares and keeps.
func sameJSON(a, b any) (bool, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ja, jb), nil
}
