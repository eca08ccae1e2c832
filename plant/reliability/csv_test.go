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
			if len(obs) < 50 {
				reliability.Fit(obs, &reliability.FitOptions{Distribution: d, Bounds: reliability.BoundsLR})
			}
			if res.Shape != res.Shape || res.Scale != res.Scale {
				t.Errorf("%s fit of %q gave NaN: %+v", d, data, res)
			}
		}
	})
}

func TestDecodeSpecs(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"replace ok", func() error {
			_, err := reliability.DecodeReplaceSpec([]byte(`{"shape":2,"scale":100,"cost_preventive":1,"cost_failure":5}`))
			return err
		}, ""},
		{"replace missing", func() error {
			_, err := reliability.DecodeReplaceSpec([]byte(`{"shape":2,"scale":100,"cost_failure":5}`))
			return err
		}, "cost_preventive: missing"},
		{"replace unknown", func() error {
			_, err := reliability.DecodeReplaceSpec([]byte(`{"shape":2,"scale":100,"cost_preventive":1,"cost_failure":5,"costs":1}`))
			return err
		}, `unknown field "costs"`},
		{"replace type", func() error {
			_, err := reliability.DecodeReplaceSpec([]byte(`{"shape":"2","scale":100,"cost_preventive":1,"cost_failure":5}`))
			return err
		}, "shape: a JSON string cannot be a float64"},
		{"replace syntax", func() error { _, err := reliability.DecodeReplaceSpec([]byte(`{"shape":`)); return err }, "body:"},
		{"plan nested type", func() error {
			_, err := reliability.DecodePlanSpec([]byte(`{"horizon":1,"items":[{"id":"a","shape":true}]}`))
			return err
		}, "items.shape: a JSON bool"},
		{"block missing kind", func() error { _, err := reliability.DecodeBlock([]byte(`{"mtbf":1}`)); return err }, "kind: missing"},
		{"oee trailing", func() error {
			_, err := reliability.DecodeOEE([]byte(`{"planned_time":1,"run_time":1,"nameplate_rate":1,"output":1,"in_spec_output":1} {}`))
			return err
		}, "after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzDecodeSpecs: the spec decoders and the engines behind them never
// panic on any input.
func FuzzDecodeSpecs(f *testing.F) {
	f.Add([]byte(`{"shape":2,"scale":100,"cost_preventive":1,"cost_failure":5}`))
	f.Add([]byte(`{"kind":"series","blocks":[{"kind":"unit","mtbf":10,"mttr":1},{"kind":"standby","n":3,"k":2,"mtbf":5,"mttr":1}]}`))
	f.Add([]byte(`{"horizon":1000,"items":[{"id":"a","shape":2,"scale":100,"cost_preventive":1,"cost_failure":5,"interval":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := reliability.DecodeReplaceSpec(data); err == nil {
			reliability.AgeReplacement(*s)
		}
		if b, err := reliability.DecodeBlock(data); err == nil && len(data) < 2000 {
			reliability.SystemAvailability(*b)
		}
		if p, err := reliability.DecodePlanSpec(data); err == nil {
			reliability.Plan(*p)
		}
		if o, err := reliability.DecodeOEE(data); err == nil {
			reliability.OEE(*o)
		}
	})
}
