package sx_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"lodestone/process/sx"
)

// sharedDir returns ../shared of the module root, skipping the test when it
// is absent (failing under CI=true).
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("../shared is absent (%v) and CI=true", err)
		}
		t.Skipf("../shared is absent (%v); skipping the data test", err)
	}
	return shared
}

func readLLEPE(t testing.TB) []sx.BatchPoint {
	t.Helper()
	path := filepath.Join(sharedDir(t), "data", "llepe", "PC88A_HCL_NdPrCeLaDySmY.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	pts, err := sx.DecodeLLEPE(data)
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

// TestFitLLEPE is validation case V6 of process-twin.md §d.6: the Lyon
// (2016) single-element Nd and Pr rows with initial H⁺ ≤ 0.1 M, O/A = 1,
// one log K per element, leave-one-out RMS error in log D ≤ 0.25.
func TestFitLLEPE(t *testing.T) {
	all := readLLEPE(t)
	var pts []sx.BatchPoint
	for _, p := range all {
		if p.Label == "Lyon (2016)" && len(p.Feed) == 1 && len(p.D) == 1 && p.H0 <= 0.1 {
			pts = append(pts, p)
		}
	}
	res, err := sx.Fit(context.Background(), pts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"Nd": 9, "Pr": 9}
	if len(res.Elements) != len(want) {
		t.Fatalf("Fit fitted %d elements, want %d", len(res.Elements), len(want))
	}
	for _, ef := range res.Elements {
		if ef.Points != want[ef.Element] {
			t.Errorf("%s: %d points, want %d", ef.Element, ef.Points, want[ef.Element])
		}
		if ef.LOORMS > 0.25 {
			t.Errorf("%s: leave-one-out RMS %.3f > 0.25", ef.Element, ef.LOORMS)
		}
		t.Logf("%s: log K %.3f, fit RMS %.3f, LOO RMS %.3f, max %.3f", ef.Element, ef.LogK, ef.FitRMS, ef.LOORMS, ef.LOOMax)
	}
}

// TestDecodeLLEPEErrors checks that bad files fail; where want is given,
// with that message every time (of several bad columns, the leftmost: a
// check in map order would name any of them).
func TestDecodeLLEPEErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"no H column", "label,PC88A[M]\nx,1\n", ""},
		{"bad number", "label,Feed H+[M],PC88A[M],Feed Nd[M],D Nd\nx,abc,1,0.1,2\n", ""},
		{"negative", "label,Feed H+[M],PC88A[M],Feed Nd[M],D Nd\nx,-1,1,0.1,2\n", ""},
		{"D without feed", "label,Feed H+[M],PC88A[M],D Nd\nx,0.1,1,2\n", ""},
		{"two D columns without feed", "label,Feed H+[M],PC88A[M],D Pr,D Nd\nx,0.1,1,2,3\n",
			`sx: decode llepe: column "D Pr" has no feed column`},
		{"two bad feeds", "label,Feed H+[M],PC88A[M],Feed Pr[M],Feed Nd[M],D Pr,D Nd\nx,0.1,1,abc,-1,2,3\n",
			`sx: decode llepe: row 2: Feed Pr[M]: bad number "abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				_, err := sx.DecodeLLEPE([]byte(tt.in))
				if err == nil {
					t.Fatalf("DecodeLLEPE(%q) succeeded, want an error", tt.in)
				}
				if tt.want != "" && err.Error() != tt.want {
					t.Fatalf("DecodeLLEPE(%q) = %v, want %s", tt.in, err, tt.want)
				}
			}
		})
	}
}

// TestFitErrorsDeterministic gives Fit points with two bad elements and
// requires the same message every time: the first in sorted order.
func TestFitErrorsDeterministic(t *testing.T) {
	point := func(feed, d map[string]float64) []sx.BatchPoint {
		return []sx.BatchPoint{{Label: "x", H0: 0.01, Extractant: 1, Feed: feed, D: d}}
	}
	tests := []struct {
		name   string
		points []sx.BatchPoint
		want   string
	}{
		{"two negative feeds", point(map[string]float64{"Pr": -1, "Nd": -2}, map[string]float64{"Nd": 2}),
			"sx: fit: points[0] (x): feed.Nd: -2"},
		{"two non-finite D", point(map[string]float64{"Pr": 0.01, "Nd": 0.01}, map[string]float64{"Pr": math.NaN(), "Nd": math.Inf(1)}),
			"sx: fit: points[0] (x): d.Nd: +Inf"},
		{"two D without feed", point(map[string]float64{"La": 0.01}, map[string]float64{"Pr": 2, "Nd": 3}),
			"sx: fit: points[0] (x): d.Nd: measured D without a feed concentration"},
		{"two fed without D", point(map[string]float64{"Nd": 0.01, "Pr": 0.01, "La": 0.01}, map[string]float64{"Nd": 2}),
			`sx: fit: La is fed in "x" but has no measured D`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				_, err := sx.Fit(t.Context(), tt.points)
				if err == nil || err.Error() != tt.want {
					t.Fatalf("Fit() = %v, want %s", err, tt.want)
				}
			}
		})
	}
}

func FuzzDecodeLLEPE(f *testing.F) {
	f.Add([]byte("label,Feed H+[M],Feed H+[M].1,PC88A[M],PC88A[M].1,Feed Nd[M],Xaq Nd,D Nd\nLyon (2016),0.01,0.01,1,1,0.0055,3.16E-05,174.668\n"))
	f.Add([]byte("label,Feed H+[M],PC88A[M]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, err := sx.DecodeLLEPE(data)
		if err != nil {
			return
		}
		for _, p := range pts {
			if p.H0 < 0 || p.Extractant < 0 {
				t.Fatalf("negative value decoded: %+v", p)
			}
		}
	})
}
