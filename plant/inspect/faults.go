package inspect

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"lodestone/plant/estimate"
	"lodestone/process/sx"
	"lodestone/process/sx/dynamic"
)

// Fault is one fault of the replayed set. Kind is "bias" (a step of
// Size σ on Sensor), "drift" (a ramp of Size σ per hour on Sensor),
// "frozen" (Sensor stuck at its reading at Start) or "mismatch" (the
// plant's Nd extraction constant moves by Size in log10 K: extractant
// degradation, say).
type Fault struct {
	Name   string  `json:"name"`
	Kind   string  `json:"kind"`
	Sensor string  `json:"sensor,omitempty"`
	Size   float64 `json:"size"`
	Start  float64 `json:"start_h"`
}

// FaultResult is the detection of one fault with and without the twin.
// A delay is nil when the fault was not detected within the run.
type FaultResult struct {
	Fault Fault `json:"fault"`
	// WithoutTwinH is the time from fault to the first finding of the
	// limit rules on the raw readings alone.
	WithoutTwinH *float64 `json:"without_twin_h"`
	// WithTwinH adds the twin's rules: analyser-versus-estimate
	// disagreement, the soft sensor's alarms, and the frozen-value rule.
	WithTwinH    *float64 `json:"with_twin_h"`
	FirstWithout *Finding `json:"first_without,omitempty"`
	FirstWith    *Finding `json:"first_with,omitempty"`
	// False findings before the fault, per rule set.
	FalseWithout int `json:"false_without"`
	FalseWith    int `json:"false_with"`
}

// StudyResult is the replayed fault set.
type StudyResult struct {
	Synthetic   bool          `json:"synthetic"`
	Seed        uint64        `json:"seed"`
	DurationH   float64       `json:"duration_h"`
	SampleH     float64       `json:"sample_h"`
	Results     []FaultResult `json:"results"`
	Assumptions []string      `json:"assumptions"`
}

// studyCascade is the 8-stage Nd/Pr cascade of the plant/estimate tests:
// mass-action equilibrium with the log K of the process/sx fit on the
// Lyon (2016) rows (Nd −1.604, Pr −1.750), feed at stage 4, scrub acid
// at stage 8, started at its steady state.
func studyCascade(dlogK float64) dynamic.Problem {
	return dynamic.Problem{
		Cascade: sx.Problem{
			Stages:     8,
			Components: []sx.Component{{Name: "Nd", Charge: 3, MolarMass: 144.242}, {Name: "Pr", Charge: 3, MolarMass: 140.908}},
			Inlets: []sx.Inlet{
				{Name: "feed", Phase: sx.Aqueous, Stage: 4, Flow: 10, Conc: []float64{0.1, 0.05}, H: 0.1},
				{Name: "scrub", Phase: sx.Aqueous, Stage: 8, Flow: 5, H: 1},
				{Name: "organic", Phase: sx.Organic, Stage: 1, Flow: 20, Extractant: 1},
			},
			Model: sx.MassAction{LogK: []float64{-1.604 + dlogK, -1.750}},
		},
		Holdup: dynamic.Holdup{Mixer: 50},
		Start:  dynamic.SteadyState,
	}
}

// studySensors are online analysers (XRF) on the raffinate, feed and
// loaded-organic stages; the σ are assumptions of the study, not data.
func studySensors() []estimate.Sensor {
	return []estimate.Sensor{
		{ID: "xrf-raff-Nd", Stage: 1, Comp: 0, SD: 5e-4},
		{ID: "xrf-raff-Pr", Stage: 1, Comp: 1, SD: 5e-4},
		{ID: "xrf-feed-Nd", Stage: 4, Comp: 0, SD: 1e-3},
		{ID: "xrf-org-Pr", Stage: 8, Comp: 1, Organic: true, SD: 1e-3},
	}
}

// DefaultFaults is the replayed fault set: one of each kind, at 10 h.
func DefaultFaults() []Fault {
	return []Fault{
		{Name: "raffinate Nd analyser bias 5σ", Kind: "bias", Sensor: "xrf-raff-Nd", Size: 5, Start: 10},
		{Name: "feed-stage Nd analyser drift 1σ/h", Kind: "drift", Sensor: "xrf-feed-Nd", Size: 1, Start: 10},
		{Name: "raffinate Pr analyser frozen", Kind: "frozen", Sensor: "xrf-raff-Pr", Start: 10},
		{Name: "Nd extraction constant +0.3 log K", Kind: "mismatch", Size: 0.3, Start: 10},
	}
}

// FaultStudy replays faults on synthetic truth from the dynamic cascade
// model and measures the time from each fault to its first finding, with
// limit rules on raw readings only and with the twin (the soft sensor of
// plant/estimate running on the same readings). The figures are from
// synthetic data: they compare the two rule sets on one model, they are
// not a measurement on a plant.
func FaultStudy(ctx context.Context, faults []Fault, seed uint64, durationH float64) (StudyResult, error) {
	const dt = 0.1
	res := StudyResult{Synthetic: true, Seed: seed, DurationH: durationH, SampleH: dt, Results: []FaultResult{}}
	res.Assumptions = []string{
		"synthetic: truth is the dynamic model of an 8-stage Nd/Pr cascade (plant/estimate's test cascade), readings are truth plus Gaussian noise of each analyser's assumed σ; no plant data",
		"without the twin: limit rules at the steady-state reading ± 6 σ on every analyser",
		"with the twin: the same limits, plus reading-versus-estimate disagreement (|ν| > 4 √S for 3 samples in a row), the soft sensor's sensor_drift and out_of_sync alarms, and a frozen-value rule (5 identical readings)",
		"rate-of-change rules are left out: on readings every 0.1 h with this noise a useful rate limit false-alarms",
	}
	for i, f := range faults {
		r, err := replay(ctx, f, seed+uint64(i), durationH, dt)
		if err != nil {
			return res, fmt.Errorf("faults[%d] (%s): %w", i, f.Name, err)
		}
		res.Results = append(res.Results, r)
	}
	return res, nil
}

func replay(ctx context.Context, f Fault, seed uint64, durationH, dt float64) (FaultResult, error) {
	out := FaultResult{Fault: f}
	sen := studySensors()
	idx := -1
	for i, s := range sen {
		if s.ID == f.Sensor {
			idx = i
		}
	}
	switch f.Kind {
	case "bias", "drift", "frozen":
		if idx < 0 {
			return out, fmt.Errorf("sensor: %q is not an analyser of the study", f.Sensor)
		}
	case "mismatch":
	default:
		return out, fmt.Errorf("kind: %q is not bias, drift, frozen or mismatch", f.Kind)
	}
	filter, err := estimate.New(ctx, studyCascade(0), sen, &estimate.Options{MaxStep: dt})
	if err != nil {
		return out, err
	}
	truth, err := dynamic.NewStepper(ctx, studyCascade(0), &dynamic.StepperOptions{MaxStep: dt})
	if err != nil {
		return out, err
	}
	read := func(s estimate.Sensor) float64 {
		if s.Organic {
			y, _, _, _ := truth.Organic(s.Stage, s.Comp)
			return y
		}
		return truth.State(nil)[truth.Index(s.Stage, s.Comp)]
	}
	var without, with []Rule
	for _, s := range sen {
		lo, hi := read(s)-6*s.SD, read(s)+6*s.SD
		lim := Rule{ID: "limit-" + s.ID, Kind: Limit, Tag: s.ID, Lo: &lo, Hi: &hi}
		without = append(without, lim)
		with = append(with, lim,
			Rule{ID: "disagree-" + s.ID, Kind: Disagree, Tag: s.ID, K: 4, Window: 3},
			Rule{ID: "frozen-" + s.ID, Kind: Frozen, Tag: s.ID, Window: 5},
			Rule{ID: "twin-" + s.ID, Kind: Twin, Tag: "alarm:" + s.ID})
	}
	with = append(with, Rule{ID: "out-of-sync", Kind: Twin, Tag: "alarm:cascade"})
	inWithout, err := New(without)
	if err != nil {
		return out, err
	}
	inWith, err := New(with)
	if err != nil {
		return out, err
	}
	rng := rand.New(rand.NewPCG(seed, 13))
	frozen := map[int]float64{}
	for k := 1; float64(k)*dt <= durationH+1e-9; k++ {
		tk := float64(k) * dt
		if f.Kind == "mismatch" && tk >= f.Start && k > 0 && float64(k-1)*dt < f.Start {
			nt, err := dynamic.NewStepper(ctx, studyCascade(f.Size), &dynamic.StepperOptions{MaxStep: dt})
			if err != nil {
				return out, err
			}
			nt.SetState(truth.State(nil), truth.Theta(nil))
			truth = nt
		}
		if err := truth.Advance(ctx, tk, nil); err != nil {
			return out, err
		}
		for j, s := range sen {
			v := read(s) + s.SD*rng.NormFloat64()
			if j == idx && tk >= f.Start {
				switch f.Kind {
				case "bias":
					v += f.Size * s.SD
				case "drift":
					v += f.Size * s.SD * (tk - f.Start)
				case "frozen":
					if _, ok := frozen[j]; !ok {
						frozen[j] = v
					}
					v = frozen[j]
				}
			}
			alarms, err := filter.Add(ctx, estimate.Measurement{T: tk, Sensor: j, Value: v})
			if err != nil {
				return out, err
			}
			smp := Sample{T: tk, Tag: s.ID, Value: v}
			if in := filter.Innovations(); len(in) > 0 && in[len(in)-1].Sensor == s.ID && in[len(in)-1].T == tk {
				smp.Estimate, smp.EstimateSD = v-in[len(in)-1].Nu, math.Sqrt(in[len(in)-1].S)
			}
			fs, err := inWithout.Add(smp)
			if err != nil {
				return out, err
			}
			note(&out.FirstWithout, &out.FalseWithout, fs, f.Start)
			fs, _ = inWith.Add(smp)
			note(&out.FirstWith, &out.FalseWith, fs, f.Start)
			for _, a := range alarms {
				tag := "alarm:cascade"
				if a.Sensor != "" {
					tag = "alarm:" + a.Sensor
				}
				fs, _ := inWith.Add(Sample{T: tk, Tag: tag, Alarm: string(a.Kind)})
				note(&out.FirstWith, &out.FalseWith, fs, f.Start)
				inWith.Add(Sample{T: tk, Tag: tag}) // the alarm is an event: reset
			}
			if len(alarms) > 0 {
				filter.Acknowledge()
			}
		}
	}
	if out.FirstWithout != nil {
		d := round6(out.FirstWithout.T - f.Start)
		out.WithoutTwinH = &d
	}
	if out.FirstWith != nil {
		d := round6(out.FirstWith.T - f.Start)
		out.WithTwinH = &d
	}
	return out, nil
}

// note keeps the first finding at or after the fault and counts those
// before it.
func note(first **Finding, false_ *int, fs []Finding, start float64) {
	for _, f := range fs {
		if f.T < start-1e-9 {
			*false_++
			continue
		}
		if *first == nil {
			c := f
			*first = &c
		}
	}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
