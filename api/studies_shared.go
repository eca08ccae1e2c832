package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"lodestone/scenario"
	"lodestone/store"
	"lodestone/supply"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// The Monte Carlo studies under way are counted in the store, not in one
// process's memory, so that the limits hold over every server sharing it:
// one document (kind docStudySlots, id "all") lists the studies running
// anywhere, each with the instance that runs it and a lease that instance
// renews. Admission, release and renewal rewrite it under If-Match. A
// study whose lease ran out (its server crashed) is resumed from the
// scenario, runs and seed stored in its run, which gives the same bits, by
// the server that restarts or by any other one.
const (
	docStudySlots = "studies.slots"
	studySlotTTL  = 30 * time.Second
	studyRenew    = studySlotTTL / 3
)

// studySlot is one study under way somewhere.
type studySlot struct {
	ID string `json:"id"`
	// Principal is the principal's key (for the per-principal limit),
	// Who the principal itself (the study writes its run as it).
	Principal string          `json:"principal"`
	Who       *auth.Principal `json:"who,omitempty"`
	Runs      int             `json:"runs"`
	Instance  string          `json:"instance"`
	Expires   time.Time       `json:"expires"`
}

type studySlots struct {
	Studies []studySlot `json:"studies"`
}

// sharedStudies is a server's side of the slots document.
type sharedStudies struct {
	a        *API
	instance string

	mu sync.Mutex
	// handedBack are the studies a graceful shutdown stopped: their
	// slots' leases are ended, not released (see handBack).
	handedBack map[string]bool
}

func newSharedStudies(a *API) *sharedStudies {
	id := a.opts.InstanceID
	if id == "" {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	return &sharedStudies{a: a, instance: id, handedBack: map[string]bool{}}
}

// handBack tells a study stopped by its context whether the API's
// shutdown stopped it (not DELETE), and if so hands it back: its stored
// run stays running, and releasing its slot ends the slot's lease instead
// of removing it, so that another server takes the study over at its next
// lease renewal, or this one when it starts again, and resumes it from
// its stored scenario, runs and seed with the same bits.
func (s *scenarioRunner) handBack(id string) bool {
	if s.a.bgCtx.Err() == nil {
		return false
	}
	sh := s.shared
	sh.mu.Lock()
	sh.handedBack[id] = true
	sh.mu.Unlock()
	s.a.log.Info("study handed back by the shutdown: another server, or this one on restart, resumes it from its stored scenario and seed", "run_id", id)
	return true
}

// errNoChange tells update that f changed nothing to write.
var errNoChange = errors.New("no change")

// update applies f to the slots document under If-Match, retrying after a
// concurrent change, with the leases that ran out left in (f decides).
func (sh *sharedStudies) update(ctx context.Context, f func(now time.Time, sl *studySlots) error) error {
	st := sh.a.opts.Store
	for attempt := 0; ; attempt++ {
		var sl studySlots
		var cond store.Condition
		d, err := st.GetDoc(ctx, docStudySlots, "all")
		switch {
		case errors.Is(err, store.ErrNotFound):
			cond.IfNoneMatch = true
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(d.Body, &sl); err != nil {
				return fmt.Errorf("studies: slots document: %w", err)
			}
			cond.IfMatch = d.ETag
		}
		if err := f(sh.a.now(), &sl); errors.Is(err, errNoChange) {
			return nil
		} else if err != nil {
			return err
		}
		body, _ := json.Marshal(sl)
		_, err = st.PutDoc(ctx, store.Doc{Kind: docStudySlots, ID: "all", Body: body}, cond)
		if !errors.Is(err, store.ErrPreconditionFailed) || attempt >= 100 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(1+attempt%10) * time.Millisecond):
		}
	}
}

// live returns the slots whose lease has not run out (this server renews
// its own every studyRenew).
func (sh *sharedStudies) live(now time.Time, sl *studySlots) []studySlot {
	var out []studySlot
	for _, e := range sl.Studies {
		if e.Expires.After(now) {
			out = append(out, e)
		}
	}
	return out
}

// admit reserves a place for a study of runs replications over every
// server on the store, or refuses it: 400 when the study alone is over the
// limit of queued runs, 429 with Retry-After when the studies under way
// leave no room.
func (s *scenarioRunner) admitShared(ctx context.Context, id string, runs int, cost StudyCost) (*liveStudy, error) {
	lim := s.limits
	if runs > lim.MaxQueuedRuns {
		return nil, &Error{Status: http.StatusBadRequest, Code: "StudyTooLarge", Message: fmt.Sprintf("runs: %d is over the limit of queued runs (studies.max-queued-runs %d)", runs, lim.MaxQueuedRuns),
			Details: []ErrorDetail{{Message: "over studies.max-queued-runs", Path: "runs", Rule: "studies.max-queued-runs"}}}
	}
	who := principalKey(ctx)
	var pr *auth.Principal
	if p, ok := auth.FromContext(ctx); ok {
		pr = &p
	}
	refuse := func(rule, msg string) error {
		return &Error{Status: http.StatusTooManyRequests, Code: "TooManyStudies", Message: msg + fmt.Sprintf("; this study would cost %d node-days (%d runs × %d days × %d nodes); retry later", cost.NodeDays, cost.Runs, cost.Days, cost.Nodes),
			Details: []ErrorDetail{{Message: msg, Rule: rule}}, RetryAfter: lim.RetryAfter}
	}
	// In memory first, so that a renewal never finds the new slot
	// without its study.
	st := &liveStudy{principal: who, runs: runs, cancel: func() {}, ended: make(chan struct{})}
	s.mu.Lock()
	if s.studies[id] != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("studies: %s is already under way", id)
	}
	s.studies[id] = st
	s.mu.Unlock()
	sh := s.shared
	err := sh.update(ctx, func(now time.Time, sl *studySlots) error {
		// A lease that ran out belongs to a study whose server is gone: it
		// no longer counts (and is resumed by the next renewal round).
		lv := sh.live(now, sl)
		mine, queued := 0, 0
		for _, e := range lv {
			queued += e.Runs
			if e.Principal == who {
				mine++
			}
		}
		switch {
		case len(lv) >= lim.MaxConcurrent:
			return refuse("studies.max-concurrent", fmt.Sprintf("%d studies are under way, the limit (studies.max-concurrent)", lim.MaxConcurrent))
		case mine >= lim.MaxPerPrincipal:
			return refuse("studies.max-per-principal", fmt.Sprintf("principal %s has %d studies under way, the limit (studies.max-per-principal)", who, lim.MaxPerPrincipal))
		case queued+runs > lim.MaxQueuedRuns:
			return refuse("studies.max-queued-runs", fmt.Sprintf("%d runs are under way and %d more would pass the limit of %d (studies.max-queued-runs)", queued, runs, lim.MaxQueuedRuns))
		}
		sl.Studies = append(sl.Studies, studySlot{ID: id, Principal: who, Who: pr, Runs: runs, Instance: sh.instance, Expires: now.Add(studySlotTTL)})
		return nil
	})
	if err != nil {
		s.mu.Lock()
		delete(s.studies, id)
		s.mu.Unlock()
		return nil, err
	}
	return st, nil
}

// releaseShared frees a study's slot in the store; the slot of a study
// handed back keeps its place with its lease ended (now), so that the
// next renewal of any server finds it orphaned and resumes it.
func (s *scenarioRunner) releaseShared(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sh := s.shared
	sh.mu.Lock()
	back := sh.handedBack[id]
	delete(sh.handedBack, id)
	sh.mu.Unlock()
	err := sh.update(ctx, func(now time.Time, sl *studySlots) error {
		i := slices.IndexFunc(sl.Studies, func(e studySlot) bool { return e.ID == id })
		switch {
		case i < 0:
			return errNoChange
		case back:
			sl.Studies[i].Expires = now
		default:
			sl.Studies = slices.Delete(sl.Studies, i, i+1)
		}
		return nil
	})
	if err != nil {
		s.a.log.Error("studies: free a study's slot", "run_id", id, "err", err)
	}
}

// recoverShared resumes, or marks failed, the studies a crash left
// running, then renews this server's leases until ctx ends, taking over
// the studies of servers whose leases run out.
func (s *scenarioRunner) recoverShared(ctx context.Context) {
	started := s.a.now()
	snap, err := s.a.opts.Store.Snapshot(ctx, time.Time{})
	if err != nil {
		s.a.log.Error("scenario runs at start", "err", err)
		return
	}
	for _, t := range snap.Twins {
		run, err := scenario.Decode(t)
		if err != nil || run.Status != scenario.Running || run.Runs <= 1 || !run.CreatedAt.Before(started) {
			continue
		}
		s.takeOver(ctx, run)
	}
	tick := time.NewTicker(studyRenew)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.renew(ctx)
	}
}

// renew extends the leases of the studies this server runs, drops its
// slots of studies that ended without their release written, and takes
// over the studies whose leases ran out.
func (s *scenarioRunner) renew(ctx context.Context) {
	sh := s.shared
	var orphans []string
	err := sh.update(ctx, func(now time.Time, sl *studySlots) error {
		orphans = orphans[:0]
		changed := false
		kept := sl.Studies[:0]
		for _, e := range sl.Studies {
			if e.Instance == sh.instance {
				s.mu.Lock()
				live := s.studies[e.ID] != nil
				s.mu.Unlock()
				if !live {
					changed = true // ended here without its release written
					continue
				}
				e.Expires, changed = now.Add(studySlotTTL), true
			} else if !e.Expires.After(now) {
				orphans = append(orphans, e.ID)
			}
			kept = append(kept, e)
		}
		sl.Studies = kept
		if !changed {
			return errNoChange // nothing of ours: no write
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			s.a.log.Error("studies: renew leases", "err", err)
		}
		return
	}
	s.stopCancelledElsewhere(ctx)
	for _, id := range orphans {
		run, err := s.runs.Get(ctx, twin.ID(id))
		if err == nil && run.Status == scenario.Running {
			s.takeOver(ctx, run)
		} else if err == nil || errors.Is(err, scenario.ErrNotFound) {
			s.releaseShared(id) // ended meanwhile, or deleted
		}
	}
}

// errBusy says another live server runs the study.
var errBusy = errors.New("the study runs on another server")

// takeOver claims a running study no live server runs and resumes it from
// its stored scenario, runs and seed (the same bits as an uninterrupted
// run); a study without a usable scenario is marked failed.
func (s *scenarioRunner) takeOver(ctx context.Context, run scenario.Run) {
	id := string(run.ID)
	s.mu.Lock()
	live := s.studies[id] != nil
	s.mu.Unlock()
	if live {
		return
	}
	var sc supply.SimScenario
	usable := len(run.Scenario) > 0 && json.Unmarshal(run.Scenario, &sc) == nil && sc.Days > 0
	sh := s.shared
	var prev *studySlot
	err := sh.update(ctx, func(now time.Time, sl *studySlots) error {
		prev = nil
		i := slices.IndexFunc(sl.Studies, func(e studySlot) bool { return e.ID == id })
		if i >= 0 {
			e := sl.Studies[i]
			if e.Instance != sh.instance && e.Expires.After(now) {
				return errBusy
			}
			prev = &e
			sl.Studies = slices.Delete(sl.Studies, i, i+1)
		}
		if usable {
			slot := studySlot{ID: id, Principal: "resumed", Runs: run.Runs, Instance: sh.instance, Expires: now.Add(studySlotTTL)}
			if prev != nil {
				slot.Principal, slot.Who = prev.Principal, prev.Who
			}
			sl.Studies = append(sl.Studies, slot)
		} else if i < 0 {
			return errNoChange
		}
		return nil
	})
	switch {
	case errors.Is(err, errBusy):
		return
	case err != nil:
		s.a.log.Error("studies: claim an interrupted study", "run_id", id, "err", err)
		return
	case !usable:
		s.markInterrupted(ctx, run)
		return
	}
	study := &liveStudy{principal: "resumed", runs: run.Runs, cancel: func() {}, ended: make(chan struct{})}
	if prev != nil {
		study.principal = prev.Principal
	}
	s.mu.Lock()
	s.studies[id] = study
	s.mu.Unlock()
	s.update(id, &ScenarioProgress{ID: id, Status: RunRunning, Total: run.Runs})
	s.a.log.Warn("study interrupted by a stop of its server resumed from its stored scenario and seed", "run_id", id, "runs", run.Runs)
	s.a.goBackground(func(ctx context.Context) {
		if prev != nil && prev.Who != nil {
			ctx = auth.NewContext(ctx, *prev.Who)
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s.mu.Lock()
		study.cancel = cancel
		if study.cancelled {
			cancel()
		}
		s.mu.Unlock()
		s.monteCarlo(ctx, run, &sc, study)
	})
}

// markInterrupted stores a study that cannot be resumed as failed.
func (s *scenarioRunner) markInterrupted(ctx context.Context, run scenario.Run) {
	now := s.a.now().UTC()
	if _, err := s.runs.Update(ctx, run.ID, func(stored *scenario.Run) error {
		if stored.Status != scenario.Running {
			return nil
		}
		stored.Status, stored.Error, stored.CompletedAt = scenario.Failed, InterruptedError, &now
		return nil
	}); err != nil {
		s.a.log.Error("mark an interrupted study failed", "run_id", run.ID, "err", err)
		return
	}
	s.a.log.Warn("study interrupted by a stop of the server marked failed (no stored scenario to resume it from)", "run_id", run.ID)
}

// stopCancelledElsewhere stops the studies this server runs that were
// cancelled through another server (DELETE there marks the stored run
// cancelled), so that the cancellation holds on every server and their
// places are freed.
func (s *scenarioRunner) stopCancelledElsewhere(ctx context.Context) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.studies))
	for id, st := range s.studies {
		if !st.cancelled {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		run, err := s.runs.Get(ctx, twin.ID(id))
		if err != nil || run.Status != scenario.Cancelled {
			continue
		}
		s.mu.Lock()
		if st := s.studies[id]; st != nil && !st.cancelled {
			st.cancelled = true
			st.cancel()
			s.a.log.Info("study cancelled through another server stopped here", "run_id", id)
		}
		s.mu.Unlock()
	}
}
