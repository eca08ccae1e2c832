package calcine_test

import (
	"fmt"

	"lodestone/process/calcine"
)

// ExampleSimulate roasts 1 mol/h of neodymium oxalate decahydrate with a
// little calcium oxalate in hot air.
func ExampleSimulate() {
	res, err := calcine.Simulate(&calcine.Spec{
		FeedsMolPerH:       map[string]float64{"Nd": 1, "Ca": 0.02},
		FeedTemperature:    300,
		MoistureMolPerS:    1e-3,
		GasIn:              calcine.Gas{MolPerS: 0.1, Temperature: 1300, Pressure: 101325, MoleFractions: map[string]float64{"O2": 0.21, "N2": 0.79}},
		ProductTemperature: 1173.15,
		OxideRecovery:      0.98,
		Oxides:             calcine.Air,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Product.Oxides {
		fmt.Printf("%-5s %.4g kg/h (mass fraction %.4f)\n", o.Formula, o.KgPerS*3600, res.Product.MassFractions[o.Element])
	}
	fmt.Printf("mass loss %.1f %%, O2 demand %.4g mol/h, CO2 %.4g mol/h\n", 100*res.MassLoss, res.O2Demand*3600, res.CO2Released*3600)
	fmt.Printf("y_CO2 %.4f, y_H2O %.4f, heat duty %.1f W\n", res.GasOut.MoleFractions["CO2"], res.GasOut.MoleFractions["H2O"], res.HeatDuty)
	// Output:
	// CaO   0.001099 kg/h (mass fraction 0.0033)
	// Nd2O3 0.3297 kg/h (mass fraction 0.9967)
	// mass loss 54.1 %, O2 demand 1.51 mol/h, CO2 6.04 mol/h
	// y_CO2 0.0160, y_H2O 0.0360, heat duty -117.7 W
}

// ExampleParseSpec shows the error for a missing nested field.
func ExampleParseSpec() {
	_, err := calcine.ParseSpec([]byte(`{"feeds_mol_per_h": {"Nd": 1}, "feed_temperature_K": 300,
		"moisture_mol_per_s": 0, "gas_in": {"temperature_K": 1300, "pressure_Pa": 101325,
		"mole_fractions": {"O2": 1}}, "product_temperature_K": 1100, "oxide_recovery": 1, "oxides": "air"}`))
	fmt.Println(err)
	// Output:
	// calcine: gas_in.mol_per_s: required
}
