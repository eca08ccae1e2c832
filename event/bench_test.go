package event_test

import (
	"encoding/json"
	"testing"

	"lodestone/event"
)

func BenchmarkMarshal(b *testing.B) {
	e := sampleEvent()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data, err := json.Marshal(sampleEvent())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := event.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	f, err := event.ParseFilter("type=lodestone.twin.*&type=lodestone.relationship.*&subject=mine-*-north")
	if err != nil {
		b.Fatal(err)
	}
	e := sampleEvent()
	e.Subject = "mine-bayan-obo-north"
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(&e) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkChangeID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		event.ChangeID("lodestone://localhost", 42, event.TypeTwinUpdated, "mine-bayan-obo")
	}
}
