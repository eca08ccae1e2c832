package inspect

import "slices"

// Equipment is a piece of equipment an inspection round visits.
type Equipment struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Check is one line of a round's checklist: a rule on a piece of
// equipment and what the round found.
type Check struct {
	Rule     string   `json:"rule"`
	Kind     string   `json:"kind"`
	Tag      string   `json:"tag"`
	Status   string   `json:"status"` // ok, finding, no_data
	Findings int      `json:"findings"`
	FirstT   *float64 `json:"first_t_h,omitempty"`
}

// Item is a piece of equipment in a round, with its checks.
type Item struct {
	Equipment string  `json:"equipment"`
	Name      string  `json:"name,omitempty"`
	Status    string  `json:"status"` // ok, finding, not_covered
	Checks    []Check `json:"checks"`
}

// Round is an inspection round over [From, To) h: every piece of
// equipment with each of its rules checked.
type Round struct {
	FromH    float64 `json:"from_h"`
	ToH      float64 `json:"to_h"`
	Items    []Item  `json:"items"`
	Findings int     `json:"findings"`
	// NotCovered lists equipment with no rule: the round cannot vouch
	// for it.
	NotCovered []string `json:"not_covered"`
}

// MakeRound builds the checklist of a round from the inspector's rules,
// the tags that had data (seen) and the findings in [from, to).
func MakeRound(eq []Equipment, rules []Rule, seen map[string]bool, findings []Finding, from, to float64) Round {
	rd := Round{FromH: from, ToH: to, NotCovered: []string{}}
	for _, e := range eq {
		it := Item{Equipment: e.ID, Name: e.Name, Status: "ok", Checks: []Check{}}
		for _, r := range rules {
			if r.Equipment != e.ID {
				continue
			}
			c := Check{Rule: r.ID, Kind: r.Kind, Tag: r.Tag, Status: "ok"}
			if !seen[r.Tag] {
				c.Status = "no_data"
			}
			for _, f := range findings {
				if f.Rule == r.ID && f.T >= from && f.T < to {
					if c.Findings == 0 {
						t := f.T
						c.FirstT = &t
					}
					c.Findings++
				}
			}
			if c.Findings > 0 {
				c.Status, it.Status = "finding", "finding"
				rd.Findings += c.Findings
			}
			it.Checks = append(it.Checks, c)
		}
		if len(it.Checks) == 0 {
			it.Status = "not_covered"
			rd.NotCovered = append(rd.NotCovered, e.ID)
		}
		rd.Items = append(rd.Items, it)
	}
	slices.SortStableFunc(rd.Items, func(a, b Item) int {
		rank := map[string]int{"finding": 0, "not_covered": 1, "ok": 2}
		return rank[a.Status] - rank[b.Status]
	})
	return rd
}
