package refplant

import (
	"fmt"

	"lodestone/plant/reliability"
)

// UnitParams are the repair figures of one equipment class, in hours, with
// their source. The reference plant carries none (no public figures were
// found); the caller supplies them, e.g. from fits of failure records.
type UnitParams struct {
	MTBF   float64 `json:"mtbf"`
	MTTR   float64 `json:"mttr"`
	Source string  `json:"source"`
}

// TrainBlock returns the availability block diagram of SX train n (1-based):
// every equipment unit the train needs in series — each stage's agitator
// motor and gearbox, the flowmeters, the coalescer — with the dosing and
// transfer pumps as duty/standby pairs (cold standby, one repair crew).
// The on-line analyser is left out: the train runs on lab assays without
// it. params gives MTBF and MTTR by model name ("Motor", "Gearbox", "Pump",
// "Flowmeter", "Filter"); a missing one is an error naming it.
func (p *Plant) TrainBlock(n int, params map[string]UnitParams) (reliability.Block, error) {
	if n < 1 || n > len(p.trains) {
		return reliability.Block{}, fmt.Errorf("refplant: train %d: the plant has trains 1 to %d", n, len(p.trains))
	}
	get := func(model string) (UnitParams, error) {
		u, ok := params[model]
		if !ok {
			return u, fmt.Errorf("refplant: params[%q]: missing (MTBF and MTTR of every %s of the train are needed)", model, model)
		}
		if u.Source == "" {
			return u, fmt.Errorf("refplant: params[%q].source: missing", model)
		}
		return u, nil
	}
	train := reliability.Block{Kind: reliability.KindSeries, Name: fmt.Sprintf("SX train %d", n)}
	pairs := map[string]bool{}
	for _, e := range p.trains[n-1] {
		u, err := get(e.Model)
		if err != nil {
			return reliability.Block{}, err
		}
		if e.Pair == "" {
			train.Blocks = append(train.Blocks, reliability.Block{Kind: reliability.KindUnit, Name: e.ID, MTBF: u.MTBF, MTTR: u.MTTR})
			continue
		}
		if pairs[e.Pair] {
			continue
		}
		pairs[e.Pair] = true
		train.Blocks = append(train.Blocks, reliability.Block{Kind: reliability.KindStandby, Name: e.Pair + " (duty/standby)", N: 2, K: 1, MTBF: u.MTBF, MTTR: u.MTTR})
	}
	return train, nil
}
