package precip

// Output is the JSON result of `lodestone precip simulate` and of
// POST /process/precip/simulate (one encoder for both); the first two fields
// are the contract of issue 5, the rest extend it.
type Output struct {
	AqueousOut     Stream             `json:"aqueous_out"`
	Solids         []SolidOut         `json:"solids"`
	Model          string             `json:"model"`
	Conversion     map[string]float64 `json:"conversion"`
	OxalicAcid     OxalicAcidOut      `json:"oxalic_acid_mol_per_h"`
	AcidReleased   float64            `json:"acid_released_mol_per_h"`
	PH             *float64           `json:"pH,omitempty"`
	OxalateLimited bool               `json:"oxalate_limited"`
	PassThrough    []string           `json:"pass_through"`
	Closure        map[string]float64 `json:"closure"`
}

// Stream is a liquor: flow and concentrations (mg/L).
type Stream struct {
	FlowLPerH float64            `json:"flow_L_per_h"`
	MgPerL    map[string]float64 `json:"mg_per_L"`
}

// SolidOut is one oxalate precipitated.
type SolidOut struct {
	Element      string  `json:"element"`
	Formula      string  `json:"formula"`
	HydrateWater int     `json:"hydrate_water"`
	MolPerH      float64 `json:"mol_per_h"`
	KgPerH       float64 `json:"kg_per_h"`
}

// OxalicAcidOut is the oxalic acid balance (mol/h).
type OxalicAcidOut struct {
	Supplied           float64 `json:"supplied"`
	Consumed           float64 `json:"consumed"`
	ConsumedRareEarths float64 `json:"consumed_rare_earths"`
	ConsumedImpurities float64 `json:"consumed_impurities"`
	Efficiency         float64 `json:"efficiency"`
	Required           float64 `json:"required"`
}

// OutputOf turns a result into its JSON form.
func OutputOf(r *Result) Output {
	out := Output{
		AqueousOut:     Stream{FlowLPerH: r.FlowLPerH, MgPerL: r.Aqueous},
		Solids:         []SolidOut{},
		Model:          string(r.Model),
		Conversion:     r.Conversion,
		AcidReleased:   r.AcidReleased,
		OxalateLimited: r.OxalateLimited,
		PassThrough:    append([]string{}, r.PassThrough...),
		Closure:        r.Closure,
		OxalicAcid: OxalicAcidOut{
			Supplied: r.OxalicAcid.Supplied, Consumed: r.OxalicAcid.Consumed,
			ConsumedRareEarths: r.OxalicAcid.ConsumedRareEarths, ConsumedImpurities: r.OxalicAcid.ConsumedImpurities,
			Efficiency: r.OxalicAcid.Efficiency, Required: r.OxalicAcid.Required,
		},
	}
	if r.Model == KspModel {
		ph := r.PH
		out.PH = &ph
	}
	for _, s := range r.Solids {
		out.Solids = append(out.Solids, SolidOut{s.Element, s.Formula, s.HydrateWater, s.MolPerH, s.KgPerH})
	}
	return out
}
