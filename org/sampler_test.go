package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"lodestone/org"
)

// chunked is a Sampler that computes the runs in pieces of size n through
// the wire form of the scenario (EncodeScenario, DecodeScenarioParts), as
// a worker does.
func chunked(t *testing.T, n int, calls *int) org.Sampler {
	return func(ctx context.Context, sc *org.Scenario, objective string, seed uint64, runs int) ([]float64, error) {
		*calls++
		sj, oj, err := org.EncodeScenario(sc)
		if err != nil {
			return nil, err
		}
		back, err := org.DecodeScenarioParts(sj, oj)
		if err != nil {
			t.Fatalf("the wire form of a portfolio's scenario does not decode: %v", err)
		}
		var out []float64
		for from := 0; from < runs; from += n {
			xs, err := org.Samples(ctx, back, objective, seed, from, min(runs, from+n), 1)
			if err != nil {
				return nil, err
			}
			out = append(out, xs...)
		}
		return out, nil
	}
}

// TestInvestWithSampler: an investment search whose portfolios are
// sampled in pieces through the scenario's wire form gives the bits of the
// local search, for each objective and for an org scenario with rules.
func TestInvestWithSampler(t *testing.T) {
	for _, obj := range org.Objectives() {
		t.Run(obj, func(t *testing.T) {
			spec := loadSpec(t, "invest_small.json")
			spec.Runs, spec.Objective, spec.Workers = 90, obj, 3
			local, lerr := org.Invest(context.Background(), spec)
			calls := 0
			remote, rerr := org.Invest(context.Background(), spec, org.WithSampler(chunked(t, 32, &calls)))
			if lerr != nil || rerr != nil {
				// expected_lost_cost needs money: the same field error.
				var a, b *org.FieldError
				if !errors.As(lerr, &a) || !errors.As(rerr, &b) || *a != *b {
					t.Fatalf("local %v, sampled %v", lerr, rerr)
				}
				return
			}
			if calls != local.Evaluated {
				t.Errorf("the sampler ran %d times for %d portfolios", calls, local.Evaluated)
			}
			lb, _ := json.Marshal(local)
			rb, _ := json.Marshal(remote)
			if string(lb) != string(rb) {
				t.Errorf("sampled:\n%s\nlocal:\n%s", rb, lb)
			}
		})
	}
}

// TestSamplesRanges: the samples of [from, to) are those of the whole
// runs at the same places, for an org scenario with rules, whatever the
// goroutines; the wire form keeps its bits.
func TestSamplesRanges(t *testing.T) {
	for _, name := range []string{"second_source.json", "signals_actions.json", "stockpile_release.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := org.DecodeScenario(b)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := org.Samples(context.Background(), sc, org.ObjectiveTimeToSurvive, 9, 0, 70, 4)
		if err != nil {
			t.Fatal(err)
		}
		sj, oj, err := org.EncodeScenario(sc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := org.DecodeScenarioParts(sj, oj)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		part, err := org.Samples(context.Background(), back, org.ObjectiveTimeToSurvive, 9, 33, 70, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(part, whole[33:]) {
			t.Errorf("%s: runs [33, 70) differ from those of the whole", name)
		}
	}
	if _, err := org.Samples(context.Background(), &org.Scenario{}, "", 1, 0, 1, 1); err == nil {
		t.Error("a scenario without supply sampled")
	}
	if _, err := org.Samples(context.Background(), nil, "nope", 1, 0, 1, 1); err == nil {
		t.Error("an unknown objective sampled")
	}
}

// TestDecodeScenarioParts: bad wire forms name the field.
func TestDecodeScenarioParts(t *testing.T) {
	for _, c := range []struct{ sj, oj, want string }{
		{`{`, ``, "scenario"},
		{`{"start":"2026-01-01","days":0,"network":{"nodes":[]}}`, ``, "scenario"},
		{`{"start":"2026-01-01","days":10,"network":{"nodes":[{"id":"A","stage":"oem"}]}}`, `{"bogus":1}`, "org"},
	} {
		_, err := org.DecodeScenarioParts([]byte(c.sj), []byte(c.oj))
		var fe *org.FieldError
		if !errors.As(err, &fe) || fe.Field[:min(len(fe.Field), len(c.want))] != c.want {
			t.Errorf("%s / %s: %v, want a field error on %s", c.sj, c.oj, err, c.want)
		}
	}
}
