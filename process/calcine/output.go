package calcine

// Output is the JSON result of `lodestone calcine simulate` and of
// POST /process/calcine/simulate (one encoder for both); gas_out, product and
// heat_duty_W are the contract of issue 5, the rest extend it. heat_duty_W
// is null when it cannot be computed (see notes).
type Output struct {
	GasOut      GasOut             `json:"gas_out"`
	Product     SolidsOut          `json:"product"`
	HeatDutyW   *float64           `json:"heat_duty_W"`
	Dust        SolidsOut          `json:"dust"`
	FeedKgPerS  float64            `json:"feed_kg_per_s"`
	MassLoss    float64            `json:"mass_loss"`
	O2Demand    float64            `json:"o2_demand_mol_per_s"`
	CO2Released float64            `json:"co2_released_mol_per_s"`
	H2OReleased float64            `json:"h2o_released_mol_per_s"`
	Closure     map[string]float64 `json:"closure"`
	Notes       []string           `json:"notes"`
}

// GasOut is the off-gas.
type GasOut struct {
	MolPerS       float64            `json:"mol_per_s"`
	Temperature   float64            `json:"temperature_K"`
	Pressure      float64            `json:"pressure_Pa"`
	MoleFractions map[string]float64 `json:"mole_fractions"`
}

// SolidsOut is a solid stream: product or dust.
type SolidsOut struct {
	KgPerS        float64            `json:"kg_per_s"`
	MassFractions map[string]float64 `json:"mass_fractions"`
	Oxides        []OxideOut         `json:"oxides"`
}

// OxideOut is one oxide in a solid stream.
type OxideOut struct {
	Element string  `json:"element"`
	Formula string  `json:"formula"`
	MolPerS float64 `json:"mol_per_s"`
	KgPerS  float64 `json:"kg_per_s"`
}

func solidsOut(s Solids) SolidsOut {
	out := SolidsOut{KgPerS: s.KgPerS, MassFractions: s.MassFractions, Oxides: []OxideOut{}}
	for _, o := range s.Oxides {
		out.Oxides = append(out.Oxides, OxideOut{o.Element, o.Formula, o.MolPerS, o.KgPerS})
	}
	return out
}

// OutputOf turns a result into its JSON form.
func OutputOf(r *Result) Output {
	out := Output{
		GasOut: GasOut{
			MolPerS: r.GasOut.MolPerS, Temperature: r.GasOut.Temperature,
			Pressure: r.GasOut.Pressure, MoleFractions: r.GasOut.MoleFractions,
		},
		Product:     solidsOut(r.Product),
		Dust:        solidsOut(r.Dust),
		FeedKgPerS:  r.FeedKgPerS,
		MassLoss:    r.MassLoss,
		O2Demand:    r.O2Demand,
		CO2Released: r.CO2Released,
		H2OReleased: r.H2OReleased,
		Closure:     r.Closure,
		Notes:       append([]string{}, r.Notes...),
	}
	if r.HeatDutyKnown {
		q := r.HeatDuty
		out.HeatDutyW = &q
	}
	return out
}
