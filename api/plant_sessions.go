package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"lodestone/plant/control"
	"lodestone/plant/estimate"
	"lodestone/plant/ots"
	"lodestone/process/sx/dynamic"
	"lodestone/store"
)

// plantSessionRoutes serve the soft sensor and control testing (offline
// runs on the body, as `lodestone plant estimate` and `plant control`) and
// the operator training sessions (docs/formats/plant-training.md).
//
// A training session is stored as a document (kind "plant-session"): its
// scenario, its event log and the score after the last event. Nothing
// else is kept: every request replays the log on a fresh model (the
// engine is deterministic, so the replay is the session), which lets any
// server on a shared database serve any session; the cost of a request
// grows with the simulated time of the session. Writes are conditional on
// the document's ETag, so two trainees' events on one session cannot
// interleave unseen (the loser gets 412 and retries).
func (a *API) plantSessionRoutes() []Route {
	return []Route{
		{Pattern: "POST /plant/estimate", Handler: a.plantEstimate, Body: "PlantEstimateSpec", Response: "PlantEstimateOutput",
			Summary: "Soft sensor: extended Kalman filter on the dynamic SX cascade over a file of analyser and lab readings (docs/formats/plant-estimate.md); returns {estimates, innovations, alarms}"},
		{Pattern: "POST /plant/control", Handler: a.plantControl, Body: "PlantControlSpec", Response: "PlantControlOutput",
			Summary: "Control-strategy testing: closed-loop runs of PI, O/A feed-forward and pH loops on the dynamic cascade, side by side (docs/formats/plant-control.md)"},
		{Pattern: "POST /plant/sessions", Handler: a.createSession, Body: "PlantSession", Response: "PlantSessionState",
			Summary: "Start an operator training session: body {scenario, events?}; returns {id, state}. ?start_from_estimator=ID starts it from the live soft sensor's newest model state (GET /plant/estimators/{id}/snapshot) as the scenario's start_snapshot: the scenario's cascade must be the estimator's"},
		{Pattern: "PUT /plant/sessions/{id}", Handler: a.createSession, Body: "PlantSession", Response: "PlantSessionState",
			Summary: "Start a training session with a chosen id (fails with 412 if it exists); ?start_from_estimator=ID as for POST /plant/sessions"},
		{Pattern: "GET /plant/sessions", Handler: a.listSessions, Response: "PlantSessionList", Summary: "List training sessions"},
		{Pattern: "GET /plant/sessions/{id}", Handler: a.getSession, Response: "PlantSessionState",
			Summary: "The trainee's console: time, monitor as displayed, product purity, inlets, alarms, active malfunctions, snapshots, score"},
		{Pattern: "GET /plant/sessions/{id}/log", Handler: a.getSessionLog, Response: "PlantSession", Summary: "The session's scenario and event log (replayable)"},
		{Pattern: "POST /plant/sessions/{id}/events", Handler: a.postSessionEvents, Body: "PlantSessionEvents", Response: "PlantSessionState",
			Summary: "Apply events: {kind: advance (to_h) | set (inlet, field, value) | repair (malfunction) | acknowledge (alarm) | freeze | unfreeze | snapshot (name) | backtrack (name)}; body one event or {events: [...]}; all or nothing"},
		{Pattern: "POST /plant/sessions/{id}/replay", Handler: a.replaySession, Response: "PlantSessionReplay",
			Summary: "Replay the session's log on a fresh model; same_score says whether the score equals the stored one bit for bit"},
		{Pattern: "GET /plant/sessions/{id}/snapshots/{name}", Handler: a.getSessionSnapshot, Response: "PlantSnapshot",
			Summary: "The model state of a session snapshot, usable as start_snapshot of a new scenario"},
		{Pattern: "DELETE /plant/sessions/{id}", Handler: a.deleteSession, Summary: "Delete a training session"},
	}
}

func init() {
	maps.Copy(schemaTypes, map[string]reflect.Type{
		"PlantEstimateSpec":   reflect.TypeFor[estimate.Spec](),
		"PlantEstimateOutput": reflect.TypeFor[estimate.Output](),
		"PlantControlSpec":    reflect.TypeFor[control.Spec](),
		"PlantControlOutput":  reflect.TypeFor[control.Output](),
		"PlantSession":        reflect.TypeFor[ots.SessionSpec](),
		"PlantSessionState":   reflect.TypeFor[PlantSessionState](),
		"PlantSessionList":    reflect.TypeFor[PlantSessionList](),
		"PlantSessionEvents":  reflect.TypeFor[PlantSessionEvents](),
		"PlantSessionReplay":  reflect.TypeFor[PlantSessionReplay](),
		"PlantSnapshot":       reflect.TypeFor[dynamic.Snapshot](),
	})
}

const docPlantSession = "plant-session"

// PlantSessionState is a session's id and console.
type PlantSessionState struct {
	ID    string      `json:"id"`
	State *ots.Output `json:"state"`
}

// PlantSessionList lists the sessions.
type PlantSessionList struct {
	Value []PlantSessionSummary `json:"value"`
}

// PlantSessionSummary is one session of a list.
type PlantSessionSummary struct {
	ID     string  `json:"id"`
	Events int     `json:"events"`
	Score  float64 `json:"score"`
}

// PlantSessionEvents is the body of POST …/events when it holds several.
type PlantSessionEvents struct {
	Events []ots.EventSpec `json:"events"`
}

// PlantSessionReplay is the result of a replay.
type PlantSessionReplay struct {
	ID        string          `json:"id"`
	Score     ots.OutputScore `json:"score"`
	SameScore bool            `json:"same_score"`
}

// sessionDoc is the stored document.
type sessionDoc struct {
	Scenario ots.ScenarioSpec `json:"scenario"`
	Events   []ots.EventSpec  `json:"events"`
	Score    ots.OutputScore  `json:"score"`
}

// plantInput wraps an engine's validation error as 400.
func plantInput(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, ots.ErrFrozen) {
		return &Error{Status: http.StatusConflict, Code: "SessionFrozen", Message: err.Error()}
	}
	return badRequest("ValidationFailed", "%s", err.Error())
}

func (a *API) plantEstimate(w http.ResponseWriter, r *http.Request) error {
	return plantRun(a, w, r, estimate.ParseSpec)
}

func (a *API) plantControl(w http.ResponseWriter, r *http.Request) error {
	return plantRun(a, w, r, control.ParseSpec)
}

// specCase is a parsed engine spec: Case checks it.
type specCase[C any] interface{ Case() (C, error) }

// caseRun is a checked engine case: Run runs it.
type caseRun[O any] interface {
	Run(ctx context.Context) (O, error)
}

// plantRun answers an offline plant run on the body (POST /plant/estimate,
// /plant/control): the spec parsed, checked and run, a bad one a 400
// naming the field.
func plantRun[S specCase[C], C caseRun[O], O any](a *API, w http.ResponseWriter, r *http.Request, parse func([]byte) (S, error)) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, "application/json")
	if err != nil {
		return err
	}
	spec, err := parse(body)
	if err != nil {
		return plantInput(err)
	}
	c, err := spec.Case()
	if err != nil {
		return plantInput(err)
	}
	out, err := c.Run(r.Context())
	if err != nil {
		return plantInput(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

// decodeStrictBody decodes the JSON value at the start of body into v,
// refusing unknown fields; an error is a 400 "request body: ...".
func decodeStrictBody(body string, v any) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("InvalidArgument", "request body: %v", err)
	}
	return nil
}

// replayDoc rebuilds a session from its document.
func replayDoc(ctx context.Context, d *sessionDoc) (*ots.Case, *ots.Session, error) {
	c, s, err := ots.Replay(ctx, &ots.SessionSpec{Scenario: d.Scenario, Events: d.Events})
	return c, s, plantInput(err)
}

func (a *API) createSession(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, "application/json")
	if err != nil {
		return err
	}
	ss, err := ots.ParseSession(body)
	if err != nil {
		return plantInput(err)
	}
	if est := r.URL.Query().Get("start_from_estimator"); est != "" {
		// The live twin's state as the session's initial conditions.
		if ss.Scenario.Start != nil {
			return badRequest("InvalidArgument", "start_from_estimator: the scenario has a start_snapshot already; give one or the other")
		}
		ms, err := a.estimatorSnapshot(r.Context(), est)
		if err != nil {
			return err
		}
		var snap dynamic.Snapshot
		if err := json.Unmarshal(ms.Snapshot, &snap); err != nil {
			return fmt.Errorf("estimator %s snapshot: %w", est, err)
		}
		ss.Scenario.Start = &snap
		note := fmt.Sprintf("started from live soft sensor %s at t_h %g (%s, certified %v)", est, ms.TH, ms.Time.Format(time.RFC3339), ms.Certified)
		if ss.Scenario.Description != "" {
			note = ss.Scenario.Description + "; " + note
		}
		ss.Scenario.Description = note
	}
	id := r.PathValue("id")
	if id == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		id = "session-" + hex.EncodeToString(b[:])
	} else if strings.ContainsAny(id, "/ ") || len(id) > 200 {
		return badRequest("InvalidArgument", "id: %q is not a valid session id", id)
	}
	d := &sessionDoc{Scenario: ss.Scenario, Events: ss.Events}
	if d.Events == nil {
		d.Events = []ots.EventSpec{}
	}
	_, s, err := replayDoc(r.Context(), d)
	if err != nil {
		return err
	}
	out := s.Output(len(d.Events))
	d.Score = out.Score
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := a.docs().PutDoc(r.Context(), store.Doc{Kind: docPlantSession, ID: id, Body: raw}, store.Condition{IfNoneMatch: true}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, PlantSessionState{ID: id, State: out})
}

// loadSession returns the stored document of a session.
func (a *API) loadSession(ctx context.Context, id string) (*sessionDoc, store.Doc, error) {
	raw, err := a.docs().GetDoc(ctx, docPlantSession, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, raw, notFound("SessionNotFound", "training session %s not found", id)
	}
	if err != nil {
		return nil, raw, err
	}
	var d sessionDoc
	if err := json.Unmarshal(raw.Body, &d); err != nil {
		return nil, raw, err
	}
	return &d, raw, nil
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	docs, err := a.docs().ListDocs(r.Context(), docPlantSession)
	if err != nil {
		return err
	}
	out := PlantSessionList{Value: []PlantSessionSummary{}}
	for _, raw := range docs {
		var d sessionDoc
		if err := json.Unmarshal(raw.Body, &d); err != nil {
			continue
		}
		out.Value = append(out.Value, PlantSessionSummary{ID: raw.ID, Events: len(d.Events), Score: d.Score.Total})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, _, err := a.loadSession(r.Context(), id)
	if err != nil {
		return err
	}
	_, s, err := replayDoc(r.Context(), d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, PlantSessionState{ID: id, State: s.Output(len(d.Events))})
}

func (a *API) getSessionLog(w http.ResponseWriter, r *http.Request) error {
	d, _, err := a.loadSession(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ots.SessionSpec{Scenario: d.Scenario, Events: d.Events})
}

func (a *API) postSessionEvents(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	body, err := readBody(w, r, a.opts.MaxBodyBytes, "application/json")
	if err != nil {
		return err
	}
	var events []ots.EventSpec
	if strings.Contains(string(body), `"events"`) {
		var many PlantSessionEvents
		if err := decodeStrictBody(string(body), &many); err != nil {
			return err
		}
		events = many.Events
	} else {
		e, err := ots.ParseEvent(body)
		if err != nil {
			return plantInput(err)
		}
		events = []ots.EventSpec{*e}
	}
	d, raw, err := a.loadSession(r.Context(), id)
	if err != nil {
		return err
	}
	c, s, err := replayDoc(r.Context(), d)
	if err != nil {
		return err
	}
	for j, e := range events {
		if err := c.Apply(r.Context(), s, e, "events["+strconv.Itoa(j)+"]"); err != nil {
			return plantInput(err)
		}
	}
	d.Events = append(d.Events, events...)
	out := s.Output(len(d.Events))
	d.Score = out.Score
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := a.docs().PutDoc(r.Context(), store.Doc{Kind: docPlantSession, ID: id, Body: b}, store.Condition{IfMatch: raw.ETag}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, PlantSessionState{ID: id, State: out})
}

func (a *API) replaySession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, _, err := a.loadSession(r.Context(), id)
	if err != nil {
		return err
	}
	_, s, err := replayDoc(r.Context(), d)
	if err != nil {
		return err
	}
	sc := s.Output(len(d.Events)).Score
	return writeJSON(w, http.StatusOK, PlantSessionReplay{ID: id, Score: sc, SameScore: sc == d.Score})
}

func (a *API) getSessionSnapshot(w http.ResponseWriter, r *http.Request) error {
	d, _, err := a.loadSession(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	_, s, err := replayDoc(r.Context(), d)
	if err != nil {
		return err
	}
	sn := s.ModelSnapshot(r.PathValue("name"))
	if sn == nil {
		return notFound("SnapshotNotFound", "session %s has no snapshot %q", r.PathValue("id"), r.PathValue("name"))
	}
	return writeJSON(w, http.StatusOK, sn)
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := a.docs().DeleteDoc(r.Context(), docPlantSession, r.PathValue("id"), store.Condition{}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("SessionNotFound", "training session %s not found", r.PathValue("id"))
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
