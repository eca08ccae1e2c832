package design_test

import (
	"testing"

	"lodestone/process/sx/design"
)

func BenchmarkNew(b *testing.B) {
	s := design.Spec{Beta: 1.5, FeedFractionA: 0.5, PurityA: 0.99, PurityB: 0.99, Feed: design.AqueousFeed}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := design.New(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	d, err := design.New(design.Spec{Beta: 1.5, FeedFractionA: 0.5, PurityA: 0.99, PurityB: 0.99, Feed: design.AqueousFeed})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Check(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRun(b *testing.B) {
	s := design.Spec{Beta: 1.5, FeedFractionA: 0.5, PurityA: 0.99, PurityB: 0.99, Feed: design.AqueousFeed}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := design.Run(b.Context(), s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKremserStages(b *testing.B) {
	d, err := design.New(design.Spec{Beta: 1.5, FeedFractionA: 0.3, PurityA: 0.999, PurityB: 0.99, Feed: design.AqueousFeed})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.KremserStages(0); err != nil {
			b.Fatal(err)
		}
	}
}
