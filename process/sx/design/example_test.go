package design_test

import (
	"context"
	"fmt"

	"lodestone/process/sx/design"
)

// Design an Nd/Pr-like split (β = 1.5) of an equimolar aqueous feed to
// 99 % purity in both products, then check it with the rigorous solver.
func ExampleNew() {
	d, err := design.New(design.Spec{Beta: 1.5, FeedFractionA: 0.5, PurityA: 0.99, PurityB: 0.99, Feed: design.AqueousFeed})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v: S = %.3f, W = %.3f (minimum %.3f, %.3f), n = %d, m = %d, N_min = %.1f\n",
		d.Regime, d.S, d.W, d.SMin, d.WMin, d.N, d.M, d.NMin)
	c, err := d.Check(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Printf("rigorous: purity A %.4f, purity B %.4f\n", c.PurityA, c.PurityB)
	// Output:
	// scrub-controlled: S = 2.725, W = 2.225 (minimum 2.450, 1.950), n = 20, m = 23, N_min = 22.7
	// rigorous: purity A 0.9909, purity B 0.9900
}
