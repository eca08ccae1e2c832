package sx

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// DecodeLLEPE decodes the LLEPE compilation of measured PC88A/HCl
// equilibria (ANL-CEEESA/LLEPE @ 010688d, data/csvs/
// PC88A_HCL_NdPrCeLaDySmY.csv): a header row, then per row a label naming
// the source study, initial H⁺ (M), PC88A (M), and for each element its
// feed concentration (M), equilibrium aqueous concentration (M) and D.
// Columns are found by their header names ("Feed H+[M]", "PC88A[M]",
// "Feed Nd[M]", "D Nd"); duplicated columns ("….1") are ignored. The phase
// ratio is not in the file; points get PhaseRatio 0, meaning O/A = 1. An
// element with a zero feed is left out of the point.
func DecodeLLEPE(data []byte) ([]BatchPoint, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("sx: decode llepe: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("sx: decode llepe: empty file")
	}
	head := recs[0]
	hCol, xCol, labelCol := -1, -1, -1
	feedCol := map[string]int{}
	dCol := map[string]int{}
	for i, name := range head {
		name = strings.TrimSpace(name)
		switch {
		case strings.HasSuffix(name, ".1"):
		case i == 0 || name == "label":
			labelCol = i
		case name == "Feed H+[M]":
			hCol = i
		case strings.HasSuffix(name, "[M]") && strings.HasPrefix(name, "Feed "):
			feedCol[strings.TrimSuffix(strings.TrimPrefix(name, "Feed "), "[M]")] = i
		case strings.HasSuffix(name, "[M]") && xCol < 0 && !strings.HasPrefix(name, "Xaq"):
			xCol = i // the extractant column, e.g. "PC88A[M]"
		case strings.HasPrefix(name, "D "):
			dCol[strings.TrimPrefix(name, "D ")] = i
		}
	}
	if hCol < 0 {
		return nil, fmt.Errorf("sx: decode llepe: no %q column", "Feed H+[M]")
	}
	if xCol < 0 {
		return nil, fmt.Errorf("sx: decode llepe: no extractant column")
	}
	// Columns are checked and read left to right, not in map order, so that
	// of several bad ones the same is reported every time.
	byCol := func(m map[string]int) []string {
		return slices.SortedFunc(maps.Keys(m), func(a, b string) int { return m[a] - m[b] })
	}
	feedElems := byCol(feedCol)
	for _, e := range byCol(dCol) {
		if _, ok := feedCol[e]; !ok {
			return nil, fmt.Errorf("sx: decode llepe: column %q has no feed column", "D "+e)
		}
	}
	var out []BatchPoint
	for ln, rec := range recs[1:] {
		row := ln + 2
		get := func(col int, what string) (float64, error) {
			if col >= len(rec) {
				return 0, fmt.Errorf("sx: decode llepe: row %d: missing %s", row, what)
			}
			s := strings.TrimSpace(rec[col])
			if s == "" {
				return 0, nil
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 || v != v || v > 1e300 {
				return 0, fmt.Errorf("sx: decode llepe: row %d: %s: bad number %q", row, what, s)
			}
			return v, nil
		}
		p := BatchPoint{Feed: map[string]float64{}, D: map[string]float64{}}
		if labelCol >= 0 && labelCol < len(rec) {
			p.Label = rec[labelCol]
		}
		if p.H0, err = get(hCol, head[hCol]); err != nil {
			return nil, err
		}
		if p.Extractant, err = get(xCol, head[xCol]); err != nil {
			return nil, err
		}
		for _, e := range feedElems {
			c := feedCol[e]
			f, err := get(c, head[c])
			if err != nil {
				return nil, err
			}
			if f == 0 {
				continue
			}
			p.Feed[e] = f
			if dc, ok := dCol[e]; ok {
				d, err := get(dc, head[dc])
				if err != nil {
					return nil, err
				}
				if d > 0 {
					p.D[e] = d
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}
