package loadtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Ops are the operations of a mix, in report order.
var Ops = []string{"reads", "patches", "creates", "queries", "telemetry"}

// Mix weighs the operations: each client picks the next one with
// probability weight/sum. The weights need not sum to 100.
type Mix map[string]int

// DefaultMix is the mix of the issue: mostly reads, some writes.
func DefaultMix() Mix {
	return Mix{"reads": 60, "patches": 20, "creates": 10, "queries": 5, "telemetry": 5}
}

// ParseMix reads "reads=60,patches=20,…". Operations left out weigh 0;
// the error names the item and the reason.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("mix: %q: want OP=WEIGHT (OP one of %s)", item, strings.Join(Ops, ", "))
		}
		name = strings.TrimSpace(name)
		if !slices.Contains(Ops, name) {
			return nil, fmt.Errorf("mix: %q: unknown operation %q; want one of %s", item, name, strings.Join(Ops, ", "))
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("mix: %q: %s given twice", item, name)
		}
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 || w > 1_000_000 {
			return nil, fmt.Errorf("mix: %q: weight %q is not an integer from 0 to 1000000", item, val)
		}
		m[name] = w
	}
	if m.total() == 0 {
		return nil, fmt.Errorf("mix: %q: every weight is 0; give at least one operation a weight", s)
	}
	return m, nil
}

func (m Mix) total() int {
	t := 0
	for _, o := range Ops {
		t += m[o]
	}
	return t
}

// pick maps r in [0, total) to an operation.
func (m Mix) pick(r int) string {
	for _, o := range Ops {
		if r < m[o] {
			return o
		}
		r -= m[o]
	}
	return Ops[0]
}

// String writes the mix as ParseMix reads it.
func (m Mix) String() string {
	var parts []string
	for _, o := range Ops {
		parts = append(parts, fmt.Sprintf("%s=%d", o, m[o]))
	}
	return strings.Join(parts, ",")
}
