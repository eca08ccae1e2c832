package world_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDocsInStep checks that docs/world.md lists every node with the value
// the data hold, so the page and the file change together.
func TestDocsInStep(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "world.md"))
	if err != nil {
		t.Fatalf("read docs/world.md: %v", err)
	}
	doc := string(data)
	w := load(t)
	for _, n := range w.Nodes {
		row := ""
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(line, "| `"+string(n.ID)+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("docs/world.md has no row for node %s", n.ID)
			continue
		}
		for _, q := range []float64{n.Capacity(), n.Demand()} {
			if q == 0 {
				continue
			}
			if s := commas(q); !strings.Contains(row, s) {
				t.Errorf("docs/world.md row of %s lacks %s:\n%s", n.ID, s, row)
			}
		}
	}
}

// commas formats 90978.26 as "90,978.26".
func commas(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}
