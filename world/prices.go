package world

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"lodestone/supply"
)

//go:embed data/prices.json
var pricesJSON []byte

// PricesData returns a copy of the JSON text of the embedded price file.
func PricesData() []byte { return bytes.Clone(pricesJSON) }

// Price is one sourced price observation of a material of the world
// network. The JSON shape is the one a supply scenario takes as its
// "prices" input, so the file's entries can be passed on unchanged.
type Price struct {
	// Material is the code of a material of the world (World.Materials),
	// as the network names it (e.g. "NdPr-oxide", "Dy-oxide").
	Material string `json:"material"`
	// Country is the ISO 3166-1 alpha-2 code of the market, or "ROW" for a
	// market outside China the source names only as a region (Europe).
	Country string `json:"country"`
	// Price is in Currency per Unit.
	Price    float64 `json:"price"`
	Currency string  `json:"currency"` // ISO 4217, "USD"
	Unit     string  `json:"unit"`     // of mass, "kg"
	// Date is the month ("2024-12") or day ("2025-05-06") the price
	// refers to.
	Date string `json:"date"`
	// Source names the publication and cites it as "[KEY]" or
	// "[KEY, place]", an entry of the bibliography; where the price is the
	// mid-point of a published range it says so.
	Source string `json:"source"`
}

// pricesDoc is the document of data/prices.json.
type pricesDoc struct {
	Prices []Price `json:"prices"`
}

// Prices decodes and validates the embedded price file
// (data/prices.json) against the default world.
func Prices() ([]Price, error) {
	w, err := Load()
	if err != nil {
		return nil, err
	}
	return w.DecodePrices(pricesJSON)
}

// DecodePrices decodes a price document {"prices": [...]} strictly and
// checks every entry against the world: a known material, a country code,
// a finite price > 0, an ISO 4217 currency, a unit, a date YYYY-MM or
// YYYY-MM-DD and a source whose citations resolve. Errors are *FieldError
// naming the entry ("prices[3].date").
func (w *World) DecodePrices(data []byte) ([]Price, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc pricesDoc
	if err := dec.Decode(&doc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("world: prices: field %s: want %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("world: prices: %w", err)
	}
	if dec.More() {
		return nil, errors.New("world: prices: trailing data after the document")
	}
	if doc.Prices == nil {
		return nil, fieldErr("prices", "required")
	}
	if w.bib == nil {
		var err error
		if w.bib, err = bibliographyIndex(); err != nil {
			return nil, err
		}
	}
	for i := range doc.Prices {
		if err := w.checkPrice(fmt.Sprintf("prices[%d]", i), &doc.Prices[i]); err != nil {
			return nil, err
		}
	}
	return doc.Prices, nil
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func (w *World) checkPrice(p string, pr *Price) error {
	switch {
	case w.Material(pr.Material) == nil:
		return fieldErr(p+".material", "unknown material %q: not a material of the world network", pr.Material)
	case pr.Country != "ROW" && !isoRE.MatchString(pr.Country):
		return fieldErr(p+".country", "%q is not an ISO 3166-1 alpha-2 code or ROW", pr.Country)
	case math.IsNaN(pr.Price) || math.IsInf(pr.Price, 0) || pr.Price <= 0:
		return fieldErr(p+".price", "must be a finite number > 0")
	case !currencyRE.MatchString(pr.Currency):
		return fieldErr(p+".currency", "%q is not an ISO 4217 code such as USD", pr.Currency)
	case strings.TrimSpace(pr.Unit) == "":
		return fieldErr(p+".unit", "required (the mass the price is per, e.g. kg)")
	}
	if err := checkPriceDate(pr.Date); err != nil {
		return fieldErr(p+".date", "%v", err)
	}
	return w.checkSource(p+".source", pr.Source)
}

// checkPriceDate accepts a month (2006-01) or a day (2006-01-02).
func checkPriceDate(s string) error {
	layout := "2006-01"
	if len(s) > len(layout) {
		layout = "2006-01-02"
	}
	if t, err := time.Parse(layout, s); err != nil || t.Format(layout) != s {
		return fmt.Errorf("%q is not a date YYYY-MM or YYYY-MM-DD", s)
	}
	return nil
}

// SupplyPrices converts prices to the prices input of a supply scenario.
// Supply dates prices by day, so a monthly price ("2024-12") is dated the
// first day of its month ("2024-12-01"): a run starting in that month
// already uses it (a convention, docs/formats/world-prices.md); every other
// field is passed on unchanged.
func SupplyPrices(ps []Price) []supply.Price {
	out := make([]supply.Price, len(ps))
	for i, p := range ps {
		d := p.Date
		if len(d) == len("2006-01") {
			d += "-01"
		}
		out[i] = supply.Price{Material: p.Material, Country: p.Country, Price: p.Price,
			Currency: p.Currency, Unit: p.Unit, Date: supply.Date(d), Source: p.Source}
	}
	return out
}
