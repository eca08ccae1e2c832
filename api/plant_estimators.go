package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"time"

	"lodestone/connector/softsensor"
	"lodestone/store"
)

// plantEstimatorRoutes serve the live soft sensors (connector/softsensor,
// docs/formats/plant-estimators.md). The estimators run in the server
// (lodestone serve --estimators FILE) and keep their status and alarms as
// store documents, so any server of a shared database answers these
// routes.
func (a *API) plantEstimatorRoutes() []Route {
	return []Route{
		{Pattern: "GET /plant/estimators", Handler: a.listEstimators, Response: "EstimatorStatusList",
			Summary: "Status of the live soft sensors: {value: [{id, twin, state, start, t_h, time, readings, late, tooLate, beforeStart, rejected, writes, certified, nis: {count, window, sum, bound}, sensors: [{id, twin, telemetry, readings, last_t_h, cusumPlus, cusumMinus, isolated}], alarms, lastError, updated}]}"},
		{Pattern: "GET /plant/estimators/{id}", Handler: a.getEstimator, Response: "EstimatorStatus",
			Summary: "Status of live soft sensor {id}: filter time (t_h and data time), NIS window, each sensor's CUSUM and isolation, the last 50 alarms, certified"},
		{Pattern: "POST /plant/estimators/{id}/acknowledge", Handler: a.acknowledgeEstimator, Response: "EstimatorAck",
			Summary: "Acknowledge the alarms of live soft sensor {id}: within a second the server that runs it certifies its estimates again (on its twin too) and returns isolated sensors to service; 202 {acknowledged: true, at}"},
		{Pattern: "GET /plant/estimators/{id}/snapshot", Handler: a.getEstimatorSnapshot, Response: "EstimatorSnapshot",
			Summary: "The dynamic model's state at live soft sensor {id}'s newest estimate (stored once a second while it filters, and when it stops): {estimator, twin, t_h, time, certified, snapshot}; snapshot is a start_snapshot of a training scenario (POST /plant/sessions?start_from_estimator={id} takes it directly)"},
		{Pattern: "GET /plant/estimators/{id}/alarms", Handler: a.listEstimatorAlarms, Response: "EstimatorAlarmList",
			Summary: "Alarms of live soft sensor {id} (the last 1,000), oldest first: {value: [{estimator, twin, seq, kind, sensor, t_h, time, raised, source: {twin, telemetry, key}}]}; each was also published as a lodestone.plant.alarm event"},
	}
}

func init() {
	for name, t := range map[string]reflect.Type{
		"EstimatorStatusList": reflect.TypeFor[struct {
			Value []softsensor.Status `json:"value"`
		}](),
		"EstimatorStatus":   reflect.TypeFor[softsensor.Status](),
		"EstimatorAck":      reflect.TypeFor[EstimatorAck](),
		"EstimatorSnapshot": reflect.TypeFor[softsensor.ModelSnapshot](),
		"EstimatorAlarmList": reflect.TypeFor[struct {
			Value []softsensor.Alarm `json:"value"`
		}](),
	} {
		schemaTypes[name] = t
	}
}

func (a *API) listEstimators(w http.ResponseWriter, r *http.Request) error {
	docs, err := a.opts.Store.ListDocs(r.Context(), softsensor.KindStatus)
	if err != nil {
		return err
	}
	out := struct {
		Value []softsensor.Status `json:"value"`
	}{Value: []softsensor.Status{}}
	for _, d := range docs {
		var s softsensor.Status
		if json.Unmarshal(d.Body, &s) == nil {
			out.Value = append(out.Value, s)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getEstimator(w http.ResponseWriter, r *http.Request) error {
	d, err := a.opts.Store.GetDoc(r.Context(), softsensor.KindStatus, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("EstimatorNotFound", "there is no estimator %s", r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	var s softsensor.Status
	if err := json.Unmarshal(d.Body, &s); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *API) listEstimatorAlarms(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := a.opts.Store.GetDoc(r.Context(), softsensor.KindStatus, id); errors.Is(err, store.ErrNotFound) {
		return notFound("EstimatorNotFound", "there is no estimator %s", id)
	} else if err != nil {
		return err
	}
	docs, err := a.opts.Store.ListDocs(r.Context(), softsensor.KindAlarm)
	if err != nil {
		return err
	}
	out := struct {
		Value []softsensor.Alarm `json:"value"`
	}{Value: []softsensor.Alarm{}}
	for _, d := range docs {
		if !strings.HasPrefix(d.ID, id+"/") {
			continue
		}
		var al softsensor.Alarm
		if json.Unmarshal(d.Body, &al) == nil {
			out.Value = append(out.Value, al)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// EstimatorAck is the answer of POST /plant/estimators/{id}/acknowledge
// and the body of the acknowledgement document it writes.
type EstimatorAck struct {
	Acknowledged bool      `json:"acknowledged"`
	At           time.Time `json:"at"`
}

func (a *API) acknowledgeEstimator(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := a.opts.Store.GetDoc(r.Context(), softsensor.KindStatus, id); errors.Is(err, store.ErrNotFound) {
		return notFound("EstimatorNotFound", "there is no estimator %s", id)
	} else if err != nil {
		return err
	}
	ack := EstimatorAck{Acknowledged: true, At: time.Now().UTC()}
	body, err := json.Marshal(ack)
	if err != nil {
		return err
	}
	if _, err := a.opts.Store.PutDoc(r.Context(), store.Doc{Kind: softsensor.KindAck, ID: id, Body: body}, store.Condition{}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, ack)
}

// estimatorSnapshot reads the stored model state of live estimator id.
func (a *API) estimatorSnapshot(ctx context.Context, id string) (*softsensor.ModelSnapshot, error) {
	if _, err := a.opts.Store.GetDoc(ctx, softsensor.KindStatus, id); errors.Is(err, store.ErrNotFound) {
		return nil, notFound("EstimatorNotFound", "there is no estimator %s", id)
	} else if err != nil {
		return nil, err
	}
	d, err := a.opts.Store.GetDoc(ctx, softsensor.KindSnapshot, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("SnapshotNotFound", "estimator %s has no snapshot yet: it has filtered no reading", id)
	}
	if err != nil {
		return nil, err
	}
	var ms softsensor.ModelSnapshot
	if err := json.Unmarshal(d.Body, &ms); err != nil {
		return nil, err
	}
	return &ms, nil
}

func (a *API) getEstimatorSnapshot(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.estimatorSnapshot(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ms)
}
