package world

import "lodestone/supply"

// StageShare is China's share of one stage's output in the world data,
// next to the published figure it should reproduce.
type StageShare struct {
	Stage string `json:"stage"`
	// ChinaTonnesPerYear and WorldTonnesPerYear sum the capacities of the
	// stage's nodes in China and everywhere, in the stage's unit (t REO,
	// t RE metal, t NdFeB).
	ChinaTonnesPerYear float64 `json:"china_tonnes_per_year"`
	WorldTonnesPerYear float64 `json:"world_tonnes_per_year"`
	// Share is ChinaTonnesPerYear / WorldTonnesPerYear.
	Share float64 `json:"share"`
	// Published is the published China share, with its year and source;
	// nil if the data set holds none for the stage.
	Published *Quantity `json:"published,omitempty"`
	// Independent reports whether the stage's capacities were sized without
	// the published share (only then is the comparison a check of the
	// data rather than of its arithmetic).
	Independent bool `json:"independent"`
}

// shareStages are the stages StageShares reports, upstream first.
var shareStages = []string{supply.StageMine, supply.StageSeparation, supply.StageMetal, supply.StageMagnet}

// StageShares returns China's share of each producing stage (mine,
// separation, metal, magnet) computed from the node capacities, with the
// published figure for comparison. A node counts as Chinese when its
// country is "CN".
func (w *World) StageShares() []StageShare {
	out := make([]StageShare, 0, len(shareStages))
	for _, st := range shareStages {
		s := StageShare{Stage: st, Independent: true}
		for i := range w.Nodes {
			n := &w.Nodes[i]
			if n.Stage != st {
				continue
			}
			c := n.Capacity()
			s.WorldTonnesPerYear += c
			if n.Country == "CN" {
				s.ChinaTonnesPerYear += c
			}
			if q := n.CapacityTonnesPerYear; q != nil && q.Derived {
				s.Independent = false
			}
		}
		if s.WorldTonnesPerYear > 0 {
			s.Share = s.ChinaTonnesPerYear / s.WorldTonnesPerYear
		}
		for i := range w.PublishedShares {
			if w.PublishedShares[i].Stage == st {
				q := w.PublishedShares[i].ChinaShare
				s.Published = &q
			}
		}
		out = append(out, s)
	}
	return out
}
