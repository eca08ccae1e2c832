package reliability_test

import (
	"fmt"

	"lodestone/plant/reliability"
)

// ExampleFit fits a Weibull to the NIST/SEMATECH e-Handbook §8.4.1.3 data:
// ten failures and ten units still running at 500 h.
func ExampleFit() {
	data := []byte("time,failed\n54,1\n187,1\n216,1\n240,1\n244,1\n335,1\n361,1\n373,1\n375,1\n386,1\n" +
		"500,0\n500,0\n500,0\n500,0\n500,0\n500,0\n500,0\n500,0\n500,0\n500,0\n")
	obs, err := reliability.ParseLifeCSV(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := reliability.Fit(obs, &reliability.FitOptions{Distribution: reliability.Auto})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s shape %.4f scale %.2f mttf %.1f AIC %.2f\n", res.Distribution, res.Shape, res.Scale, res.MTTF, res.AIC)
	// Output: weibull shape 1.7208 scale 606.53 mttf 540.7 AIC 154.27
}

// ExampleAgeReplacement finds when to replace a wearing item whose failure
// costs ten times a planned replacement.
func ExampleAgeReplacement() {
	res, err := reliability.AgeReplacement(reliability.ReplaceSpec{Shape: 2.5, Scale: 1000, CostPreventive: 1, CostFailure: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("replace at %.0f h: %.5f per h against %.5f run to failure\n", *res.Interval, res.CostRate, res.RunToFailureCostRate)
	// Output: replace at 355 h: 0.00475 per h against 0.01127 run to failure
}

// ExampleSystemAvailability is a duty/standby pump pair in series with an
// agitator drive.
func ExampleSystemAvailability() {
	res, err := reliability.SystemAvailability(reliability.Block{Kind: reliability.KindSeries, Blocks: []reliability.Block{
		{Kind: reliability.KindUnit, Name: "agitator drive", MTBF: 8000, MTTR: 24},
		{Kind: reliability.KindStandby, Name: "feed pumps", N: 2, K: 1, MTBF: 3000, MTTR: 8},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, b := range res.Blocks {
		fmt.Printf("%s %.6f\n", b.Name, b.Availability)
	}
	fmt.Printf("system %.6f\n", res.Availability)
	// Output:
	// agitator drive 0.997009
	// feed pumps 0.999993
	// system 0.997002
}
