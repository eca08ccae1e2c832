package world_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"lodestone/world"
)

// networkMaterials returns the material codes the world's networks carry:
// the codes of the aggregate network's arc materials ("REO-separated (La
// …)") and the element-level network's ("Dy-oxide"), with a synthetic REO
// split.
func networkMaterials(t *testing.T, w *world.World) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, o := range []*world.NetworkOptions{nil, {Level: world.LevelElement, REOSplit: syntheticSplit(w)}} {
		net, err := w.Network(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range net.Arcs {
			code, _, _ := strings.Cut(a.Material, " (")
			out[code] = true
		}
	}
	return out
}

// TestPrices checks the embedded price file: every entry has a currency, a
// unit, a date and a source that resolves in the bibliography, and names a
// material the world network carries.
func TestPrices(t *testing.T) {
	prices, err := world.Prices()
	if err != nil {
		t.Fatalf("Prices() = %v", err)
	}
	if len(prices) < 8 {
		t.Errorf("%d prices, want the sourced values of research note c.7 (>= 8)", len(prices))
	}
	w := load(t)
	mats := networkMaterials(t, w)
	bib := bibKeys(t)
	for i, p := range prices {
		if p.Currency != "USD" || p.Unit != "kg" {
			t.Errorf("prices[%d]: %s/%s, want USD/kg (the file's convention)", i, p.Currency, p.Unit)
		}
		if len(p.Date) != 7 && len(p.Date) != 10 {
			t.Errorf("prices[%d]: date %q", i, p.Date)
		}
		keys, bad := world.Citations(p.Source)
		if len(keys) == 0 || len(bad) > 0 {
			t.Errorf("prices[%d]: source %q cites %v (malformed %v)", i, p.Source, keys, bad)
		}
		for _, k := range keys {
			if _, ok := bib[k]; !ok {
				t.Errorf("prices[%d]: [%s] is not in the bibliography", i, k)
			}
		}
		if !mats[p.Material] {
			t.Errorf("prices[%d]: material %q is not carried by the world network", i, p.Material)
		}
	}
	// The file's entries are the shape of a scenario's prices input: a
	// round trip through JSON gives the file's fields back.
	data, err := json.Marshal(map[string]any{"prices": prices})
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.DecodePrices(data)
	if err != nil || len(again) != len(prices) || again[0] != prices[0] {
		t.Errorf("round trip = %v, %v", again, err)
	}
}

func TestDecodePricesErrors(t *testing.T) {
	w := load(t)
	tests := []struct {
		name, edit, value string
		wantField         string
	}{
		{"unknown material", "material", `"NdPr"`, "prices[0].material"},
		{"bad country", "country", `"China"`, "prices[0].country"},
		{"zero price", "price", `0`, "prices[0].price"},
		{"negative price", "price", `-5`, "prices[0].price"},
		{"bad currency", "currency", `"usd"`, "prices[0].currency"},
		{"no unit", "unit", `""`, "prices[0].unit"},
		{"year only", "date", `"2024"`, "prices[0].date"},
		{"bad month", "date", `"2024-13"`, "prices[0].date"},
		{"bad day", "date", `"2024-02-30"`, "prices[0].date"},
		{"no source", "source", `""`, "prices[0].source"},
		{"source without key", "source", `"Lynas results"`, "prices[0].source"},
		{"unknown key", "source", `"[NOPE]"`, "prices[0].source"},
		{"unknown field", "cost", `1`, "unknown field"},
		{"wrong type", "price", `"49"`, "field prices.price"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string][]map[string]json.RawMessage
			if err := json.Unmarshal(world.PricesData(), &doc); err != nil {
				t.Fatal(err)
			}
			doc["prices"][0][tt.edit] = json.RawMessage(tt.value)
			data, _ := json.Marshal(doc)
			_, err := w.DecodePrices(data)
			if err == nil || !strings.Contains(err.Error(), tt.wantField) {
				t.Fatalf("DecodePrices = %v, want an error naming %s", err, tt.wantField)
			}
			if !strings.HasPrefix(err.Error(), "world: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	for _, bad := range []string{``, `{}`, `{"prices": null}`, `{"prices": []} {}`, `[]`} {
		if _, err := w.DecodePrices([]byte(bad)); err == nil {
			t.Errorf("DecodePrices(%q) = nil error", bad)
		}
	}
	var fe *world.FieldError
	if _, err := w.DecodePrices([]byte(`{"prices": [{"material": "x"}]}`)); !errors.As(err, &fe) || fe.Field != "prices[0].material" {
		t.Errorf("DecodePrices: error %v is not a *FieldError naming prices[0].material", err)
	}
}

func FuzzDecodePrices(f *testing.F) {
	w, err := world.Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(world.PricesData())
	f.Add([]byte(`{"prices": []}`))
	f.Add([]byte(`{"prices": [{"material": "Dy-oxide", "country": "CN", "price": 1, "currency": "USD", "unit": "kg", "date": "2024-01-31", "source": "[S64]"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		prices, err := w.DecodePrices(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "world: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			return
		}
		for _, p := range prices {
			if p.Price <= 0 || w.Material(p.Material) == nil || p.Source == "" {
				t.Errorf("accepted a bad price %+v", p)
			}
		}
	})
}

// TestScenarioPrices checks that the price file is accepted as the prices
// input of a supply scenario: Scenario with Prices attaches every entry,
// monthly dates become the first day of the month, and the scenario
// validates (Scenario validates it).
func TestScenarioPrices(t *testing.T) {
	w := load(t)
	prices, err := world.Prices()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []world.NetworkOptions{{}, {Level: world.LevelElement, REOSplit: syntheticSplit(w)}} {
		s, err := w.Scenario(world.ScenarioApril2025, &world.ScenarioOptions{Network: o, Prices: true})
		if err != nil {
			t.Fatalf("Scenario(%s, prices) = %v", o.Level, err)
		}
		if len(s.Prices) != len(prices) {
			t.Fatalf("scenario has %d prices, want %d", len(s.Prices), len(prices))
		}
		for i, p := range s.Prices {
			want := prices[i].Date
			if len(want) == 7 {
				want += "-01"
			}
			if string(p.Date) != want || p.Material != prices[i].Material || p.Source != prices[i].Source {
				t.Errorf("prices[%d] = %+v, from %+v", i, p, prices[i])
			}
		}
	}
	s, err := w.Scenario(world.ScenarioApril2025, nil)
	if err != nil || len(s.Prices) != 0 {
		t.Errorf("Scenario without Prices: %d prices, %v; want none", len(s.Prices), err)
	}
}
