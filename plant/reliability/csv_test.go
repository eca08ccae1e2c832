package reliability_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/plant/reliability"
)

func TestParseLifeCSV(t *testing.T) {
	tests := []struct {
		name, in string
		want     []reliability.Observation
		err      string
	}{
		{"plain", "time,failed\n1.5,1\n2,0\n", []reliability.Observation{{Time: 1.5, Failed: true}, {Time: 2}}, ""},
		{"crlf, quoted, reordered, extra column", "\"failed\",tag,time\r\n\"1\",P-1,10\r\n\r\n0,P-2,20\r\n", []reliability.Observation{{Time: 10, Failed: true}, {Time: 20}}, ""},
		{"missing failed", "time\n1\n", nil, `header: missing column "failed"`},
		{"missing time", "hours,failed\n1,1\n", nil, `header: missing column "time"`},
		{"bad failed", "time,failed\n1,1\n2,2\n", nil, `row 2: failed: "2" is not 0 (suspension) or 1 (failure)`},
		{"bad time", "time,failed\nabc,1\n", nil, `row 1: time: "abc" is not a number`},
		{"short row", "time,failed\n1\n", nil, "row 1: row: 1 fields, the header has 2"},
		{"empty", "", nil, "header: empty input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reliability.ParseLifeCSV([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseLifeCSV = %v, want error %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d = %v, want %v", i+1, got[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzParseLifeCSV: the parser never panics, and whatever it accepts Fit
// either fits or refuses with an error (never a panic, never NaN estimates).
func FuzzParseLifeCSV(f *testing.F) {
	for _, name := range []string{"lieblein_zelen_ball_bearings.csv", "nist_8_4_1_3_censored.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("time,failed\n1,1\n1,1\n"))
	f.Add([]byte("failed,time\n0,3\n1,1e308\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		obs, err := reliability.ParseLifeCSV(data)
		if err != nil {
			return
		}
		for _, d := range []reliability.Distribution{reliability.Weibull, reliability.Exponential, reliability.Lognormal} {
			res, err := reliability.Fit(obs, &reliability.FitOptions{Distribution: d})
			if err != nil {
				continue
			}
			if res.Shape != res.Shape || res.Scale != res.Scale {
				t.Errorf("%s fit of %q gave NaN: %+v", d, data, res)
			}
		}
	})
}
