package flowsheet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"lodestone/process/flowsheet"
)

// ExampleRun solves the Nd/Pr plant of examples/flowsheet/ndpr-pc88a.json:
// PC88A mass action, 6 extraction + 6 scrub + 4 strip stages, isotherm
// precipitation and calcination to sesquioxides.
func ExampleRun() {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "flowsheet", "ndpr-pc88a.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	spec, err := flowsheet.ParseSpec(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := flowsheet.Run(context.Background(), spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("converged %v\n", res.Converged)
	fmt.Printf("recovery Nd %.3f, Pr %.3f\n", res.Recovery["Nd"], res.Recovery["Pr"])
	fmt.Printf("Nd2O3 in product %.3f\n", res.Purity["Nd"])
	fmt.Printf("oxalic acid %.0f kg/t REO, %s %.0f kg/t REO\n", res.Reagents.OxalicAcidKgPerTREO, res.Reagents.AcidName, res.Reagents.AcidKgPerTREO)
	// Output:
	// converged true
	// recovery Nd 0.670, Pr 0.439
	// Nd2O3 in product 0.609
	// oxalic acid 5183 kg/t REO, HCl 5077 kg/t REO
}
