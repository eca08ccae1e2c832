package reliability

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseLifeCSV reads life data in the `time,failed` CSV format of
// `lodestone plant reliability fit`: a header naming at least the columns
// time and failed (any order; other columns are ignored), then one row per
// item, failed 1 for a failure and 0 for a suspension. Rows are numbered
// from 1 after the header, as in the errors of Validate. Fields may be
// quoted with double quotes but may not contain commas or line breaks
// (life data has none); blank lines are skipped. It does not check the
// order or sign of the times: Fit does (Validate).
//
// It takes bytes rather than a reader so that the engine stays free of
// I/O; the CLI and the API read the file or body.
func ParseLifeCSV(data []byte) ([]Observation, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var header []string
	timeCol, failCol := -1, -1
	var obs []Observation
	row := 0
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, ",")
		for i, f := range fields {
			fields[i] = unquote(strings.TrimSpace(f))
		}
		if header == nil {
			header = fields
			for i, h := range fields {
				switch strings.ToLower(strings.TrimPrefix(h, "\ufeff")) {
				case "time":
					timeCol = i
				case "failed":
					failCol = i
				}
			}
			if timeCol < 0 {
				return nil, &DataError{Field: "header", Reason: fmt.Sprintf("missing column \"time\" (header is %q; want time,failed)", line)}
			}
			if failCol < 0 {
				return nil, &DataError{Field: "header", Reason: fmt.Sprintf("missing column \"failed\" (header is %q; want time,failed)", line)}
			}
			continue
		}
		row++
		if len(fields) != len(header) {
			return nil, &DataError{Row: row, Field: "row", Reason: fmt.Sprintf("%d fields, the header has %d", len(fields), len(header))}
		}
		t, err := strconv.ParseFloat(fields[timeCol], 64)
		if err != nil {
			return nil, &DataError{Row: row, Field: "time", Reason: fmt.Sprintf("%q is not a number", fields[timeCol])}
		}
		var failed bool
		switch fields[failCol] {
		case "1":
			failed = true
		case "0":
		default:
			return nil, &DataError{Row: row, Field: "failed", Reason: fmt.Sprintf("%q is not 0 (suspension) or 1 (failure)", fields[failCol])}
		}
		obs = append(obs, Observation{Time: t, Failed: failed})
	}
	if header == nil {
		return nil, &DataError{Field: "header", Reason: "empty input: want a header time,failed and one row per item"}
	}
	return obs, nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}
