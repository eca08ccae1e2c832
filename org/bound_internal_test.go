package org

import "testing"

// TestGreedyBound: the fractional knapsack of the gains at the greedy
// portfolio, by hand. Gains 30, 20, 10 at costs 10, 20, 5 have ratios 3,
// 1, 2: within 25 the knapsack takes 30 (10 spent), 10 (15 spent) and
// half of 20 (the 10 left of its 20): 50, so no portfolio within the
// budget loses less than 100 − 50. A free candidate comes first; the
// bound is never below 0.
func TestGreedyBound(t *testing.T) {
	tests := []struct {
		name              string
		loss              float64
		items             []int
		gain, costs       []float64
		budget, wantBound float64
	}{
		{"by hand", 100, []int{0, 1, 2}, []float64{30, 20, 10}, []float64{10, 20, 5}, 25, 50},
		{"all fit", 100, []int{0, 1, 2}, []float64{30, 20, 10}, []float64{10, 20, 5}, 35, 40},
		{"an item left out", 100, []int{1, 2}, []float64{30, 20, 10}, []float64{10, 20, 5}, 25, 70},
		{"free first", 100, []int{0, 1}, []float64{5, 40}, []float64{0, 40}, 20, 75},
		{"never below 0", 10, []int{0}, []float64{30}, []float64{10}, 25, 0},
		{"nothing to add", 10, nil, nil, nil, 25, 10},
	}
	for _, tt := range tests {
		if got := greedyBound(tt.loss, tt.items, tt.gain, tt.costs, tt.budget); got != tt.wantBound {
			t.Errorf("%s: greedyBound = %v, want %v", tt.name, got, tt.wantBound)
		}
	}
}
