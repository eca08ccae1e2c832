package softsensor

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"lodestone/connector"
	"lodestone/plant/estimate"
)

// Config is an estimators file (lodestone serve --estimators FILE).
type Config struct {
	Estimators []Spec `json:"estimators"`
}

// Spec configures one live estimator: the spec of `lodestone plant
// estimate` without its measurements, the twin that receives the
// estimates, and where each sensor's readings come from.
type Spec struct {
	// ID names the estimator in its status, alarms and routes.
	ID string `json:"id"`
	// Twin receives the estimates as properties (a twin of
	// dtmi:lodestone:SoftSensor;1 or a model that extends it); it is
	// created when it does not exist.
	Twin string `json:"twin"`
	// Start is the data time of t_h = 0, when the cascade is in its start
	// state; absent, the source time of the first reading.
	Start *time.Time `json:"start,omitempty"`
	// WriteIntervalS is the least data time between two writes of the
	// estimates to the twin (an alarm writes at once); default 60.
	WriteIntervalS float64 `json:"write_interval_s,omitempty"`
	// ReorderH is how late, in data time, a reading may arrive behind the
	// newest one processed and still be filtered in its place; default the
	// larger of 0.25 h and twice the largest sensor delay.
	ReorderH    float64             `json:"reorder_h,omitempty"`
	Description string              `json:"description,omitempty"`
	Cascade     json.RawMessage     `json:"cascade"`
	Sensors     []Sensor            `json:"sensors"`
	Alarm       *estimate.SpecAlarm `json:"alarm,omitempty"`
	Noise       *estimate.SpecNoise `json:"noise,omitempty"`
	MaxStepH    *float64            `json:"max_step_h,omitempty"`
	// MHE, when set, adds the moving-horizon estimate over the last
	// window_h to every write (property "mhe").
	MHE *estimate.SpecMHE `json:"mhe,omitempty"`

	c *estimate.Case // checked by DecodeConfig
}

// Sensor is a sensor of the estimate spec and the telemetry it reads.
type Sensor struct {
	estimate.SpecSensor
	// Source is the twin telemetry that carries the sensor's readings.
	Source Source `json:"source"`
}

// Source is a twin's telemetry: a number in mg/L, or a map of numbers
// (the Analyser model's assay, element → value) of which Key is read.
type Source struct {
	Twin      string `json:"twin"`
	Component string `json:"component,omitempty"`
	Telemetry string `json:"telemetry"`
	Key       string `json:"key,omitempty"`
	// Factor multiplies the value to give mg/L (default 1): for an assay
	// in ppm by mass of a solution of density ρ kg/L, ρ.
	Factor *float64 `json:"factor,omitempty"`
}

// name is the stored telemetry name ("component/name" for a component's).
func (s Source) name() string {
	if s.Component != "" {
		return s.Component + "/" + s.Telemetry
	}
	return s.Telemetry
}

// DecodeConfig parses and checks an estimators file strictly (unknown
// fields are errors). Errors name the field: estimators[0].sensors[1].stage.
func DecodeConfig(b []byte) (Config, error) {
	var c Config
	if err := connector.DecodeStrict(b, "estimators", &c); err != nil {
		return Config{}, err
	}
	seen := map[string]bool{}
	for i := range c.Estimators {
		s := &c.Estimators[i]
		f := fmt.Sprintf("estimators[%d]", i)
		if err := s.check(f); err != nil {
			return Config{}, err
		}
		if seen[s.ID] {
			return Config{}, fmt.Errorf("%s.id: %q is used twice", f, s.ID)
		}
		seen[s.ID] = true
	}
	return c, nil
}

// check validates s (field path f) and builds its estimate case.
func (s *Spec) check(f string) error {
	switch {
	case s.ID == "" || strings.ContainsAny(s.ID, "/ "):
		return fmt.Errorf("%s.id: %q must be non-empty without '/' or spaces", f, s.ID)
	case s.Twin == "":
		return fmt.Errorf("%s.twin: required (the twin that receives the estimates)", f)
	case s.WriteIntervalS < 0 || math.IsNaN(s.WriteIntervalS) || math.IsInf(s.WriteIntervalS, 0):
		return fmt.Errorf("%s.write_interval_s: %v, want a finite time ≥ 0", f, s.WriteIntervalS)
	case s.ReorderH < 0 || math.IsNaN(s.ReorderH) || math.IsInf(s.ReorderH, 0):
		return fmt.Errorf("%s.reorder_h: %v, want a finite time ≥ 0", f, s.ReorderH)
	}
	if s.WriteIntervalS == 0 {
		s.WriteIntervalS = 60
	}
	es := estimate.Spec{Cascade: s.Cascade, Alarm: s.Alarm, Noise: s.Noise, MaxStepH: s.MaxStepH, MHE: s.MHE}
	for j, sen := range s.Sensors {
		g := fmt.Sprintf("%s.sensors[%d].source", f, j)
		src := sen.Source
		switch {
		case src.Twin == "":
			return fmt.Errorf("%s.twin: required", g)
		case src.Telemetry == "":
			return fmt.Errorf("%s.telemetry: required", g)
		case src.Factor != nil && !(*src.Factor > 0 && !math.IsInf(*src.Factor, 0)):
			return fmt.Errorf("%s.factor: %v, want a finite value > 0", g, *src.Factor)
		}
		es.Sensors = append(es.Sensors, sen.SpecSensor)
	}
	c, err := es.Case()
	var se *estimate.SpecError
	if errors.As(err, &se) && se.Field != "" {
		return fmt.Errorf("%s.%s: %s", f, se.Field, se.Msg)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	delay := 0.0
	for _, sen := range c.Sensors {
		delay = max(delay, sen.Delay)
	}
	if s.ReorderH == 0 {
		s.ReorderH = max(0.25, 2*delay)
	}
	// The filter keeps checkpoints over this horizon: a lab assay arrives
	// its delay late, any reading up to ReorderH behind the newest.
	c.Options.Horizon = max(s.ReorderH, 2*delay)
	if c.MHE != nil {
		c.Options.Horizon = max(c.Options.Horizon, c.MHE.Window) // the window starts at a checkpoint
	}
	s.c = c
	return nil
}
