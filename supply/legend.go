package supply

// StressLegend says what a stress table's numbers mean: the TTR given to
// the node-by-node scenarios (and where it comes from), the unit of every
// column and the definition of each figure. The CLI and the API print it
// with the table, so the dashboard can show the same words.
type StressLegend struct {
	// DefaultTTRPeriods is the TTR of the node-by-node scenarios (the
	// network's default_ttr_periods, else DefaultTTR), in periods.
	DefaultTTRPeriods float64 `json:"default_ttr_periods"`
	// DefaultTTRSource says where it comes from.
	DefaultTTRSource string `json:"default_ttr_source"`
	// DefaultTTRUsed is true when the table is the node-by-node one (the
	// network names no scenarios of its own).
	DefaultTTRUsed bool `json:"default_ttr_used"`
	// Periods names the period of the network's quantities ("days" for
	// the world network and `supply run`; the engine does not know it).
	Periods string `json:"periods"`
	// Units maps each column of a stress row to its unit.
	Units map[string]string `json:"units"`
	// Definitions maps each column to its definition.
	Definitions map[string]string `json:"definitions"`
}

// REIDefinition defines the risk exposure index where users read it.
const REIDefinition = "risk exposure index: the scenario's loss PI = Σ_j f_j l_j (the TTR LP's minimum loss, f_j = loss_per_unit; lost units when no node has one) divided by the largest loss over the scenarios of the table; 1 is the worst scenario, 0 loses nothing (Simchi-Levi et al. 2015)"

// Legend returns the legend of n's stress table; periods names the
// network's period ("" means "periods").
func (n *Network) Legend(periods string) StressLegend {
	if periods == "" {
		periods = "periods"
	}
	ttr, src := n.DefaultTTRPeriods, "the network's default_ttr_periods"
	if ttr == 0 {
		ttr, src = DefaultTTR, DefaultTTRSource+" (a network whose period is not a day must set default_ttr_periods)"
	}
	loss := "loss_per_unit × units (the currency of loss_per_unit)"
	useValue := false
	for _, nd := range n.Nodes {
		useValue = useValue || nd.LossPerUnit > 0
	}
	if !useValue {
		loss = "units (no node has loss_per_unit: loss value = lost units)"
	}
	return StressLegend{DefaultTTRPeriods: ttr, DefaultTTRSource: src, DefaultTTRUsed: len(n.Scenarios) == 0, Periods: periods,
		Units: map[string]string{
			"ttr": periods, "tts": periods, "shortage_periods": periods,
			"lost_units": "output units of the demand nodes (summed)", "lost": "output units of each demand node",
			"loss_value": loss, "rei": "dimensionless, 0 to 1", "tts_capped": "boolean", "exposed": "boolean",
		},
		Definitions: map[string]string{
			"ttr":              "time to recover: how long the disrupted nodes stay down (the scenario's ttr_periods; the default for node-by-node scenarios is default_ttr_periods)",
			"tts":              "time to survive: the longest time the network meets all demand with the disrupted nodes down, using stocks and the other nodes' capacity (TTS LP), capped at tts_cap_periods",
			"tts_capped":       "TTS reached the cap: the network survives the disruption indefinitely",
			"shortage_periods": "max(TTR − TTS, 0): how long demand goes unmet",
			"lost_units":       "demand lost over the TTR at the TTR LP's optimum (the least loss any re-routing achieves)",
			"loss_value":       "PI = Σ_j f_j l_j, the loss of the TTR LP",
			"rei":              REIDefinition,
			"exposed":          "TTS < TTR: the disruption causes lost demand",
		}}
}
