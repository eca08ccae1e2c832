package api

import (
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
		{Pattern: "GET /plant/estimators/{id}/alarms", Handler: a.listEstimatorAlarms, Response: "EstimatorAlarmList",
			Summary: "Alarms of live soft sensor {id} (the last 1,000), oldest first: {value: [{estimator, twin, seq, kind, sensor, t_h, time, raised, source: {twin, telemetry, key}}]}; each was also published as a lodestone.plant.alarm event"},
	}
}

func init() {
	for name, t := range map[string]reflect.Type{
		"EstimatorStatusList": reflect.TypeFor[struct {
			Value []softsensor.Status `json:"value"`
		}](),
		"EstimatorStatus": reflect.TypeFor[softsensor.Status](),
		"EstimatorAck":    reflect.TypeFor[EstimatorAck](),
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
