package chem_test

import (
	"fmt"

	"lodestone/process/chem"
)

func ExampleParseFormula() {
	f, err := chem.ParseFormula("Nd2(C2O4)3·10H2O")
	if err != nil {
		panic(err)
	}
	fmt.Println(f, fmt.Sprintf("%.2f g/mol", f.MolarMass()))
	// Output: C6H20Nd2O22 732.68 g/mol
}

func ExampleOxideOf() {
	o, _ := chem.OxideOf("Pr", true)
	fmt.Printf("%s %.4f\n", o.Formula, o.Factor())
	// Output: Pr6O11 1.2082
}

func ExampleLookup() {
	_, err := chem.Lookup("Nx")
	fmt.Println(err)
	// Output: chem: unknown element symbol "Nx"
}
