package precip_test

import (
	"fmt"

	"lodestone/process/precip"
)

// ExampleSimulate precipitates a Nd/Pr strip liquor with the PrOMMiS dose
// isotherm.
func ExampleSimulate() {
	res, err := precip.Simulate(&precip.Spec{
		FlowLPerH:   100,
		Temperature: 333.15,
		MgPerL:      map[string]float64{"Nd": 5000, "Pr": 1500, "Ca": 20, "H": 200, "Cl": 12000, "H2C2O4": 20000},
		Model:       precip.Isotherm,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Solids {
		fmt.Printf("%-11s %.4f mol/h (%.2f %% of the metal)\n", s.Formula, s.MolPerH, 100*res.Conversion[s.Element])
	}
	fmt.Printf("oxalic acid bound %.3f mol/h, dose needed at %.0f %% efficiency %.3f mol/h\n",
		res.OxalicAcid.Consumed, 100*res.OxalicAcid.Efficiency, res.OxalicAcid.Required)
	fmt.Printf("Nd left in the liquor: %.2f mg/L\n", res.Aqueous["Nd"])
	// Output:
	// CaC2O4      0.0000 mol/h (0.00 % of the metal)
	// Pr2(C2O4)3  0.5320 mol/h (99.96 % of the metal)
	// Nd2(C2O4)3  1.7320 mol/h (99.93 % of the metal)
	// oxalic acid bound 6.792 mol/h, dose needed at 60 % efficiency 11.320 mol/h
	// Nd left in the liquor: 3.65 mg/L
}

// ExampleParseSpec decodes a JSON spec; unknown fields are errors that name
// the field.
func ExampleParseSpec() {
	_, err := precip.ParseSpec([]byte(`{"flow_L_per_h": 1, "temperature_K": 300, "mg_per_L": {"H2C2O4": 1}, "model": "isotherm", "dose": 3}`))
	fmt.Println(err)
	_, err = precip.ParseSpec([]byte(`{"flow_L_per_h": -1, "temperature_K": 300, "mg_per_L": {"H2C2O4": 1}, "model": "isotherm"}`))
	fmt.Println(err)
	// Output:
	// precip: spec: unknown field "dose"
	// precip: flow_L_per_h: must be a finite non-negative number, got -1
}

// ExampleIsothermDose finds the oxalic acid dose at which the PrOMMiS
// isotherm precipitates 99 % of the neodymium.
func ExampleIsothermDose() {
	dose, err := precip.IsothermDose(precip.DefaultIsotherm()["Nd"], 0.99)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.3f g/L H2C2O4\n", dose)
	// Output:
	// 6.765 g/L H2C2O4
}
