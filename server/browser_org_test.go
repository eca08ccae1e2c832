package server_test

import (
	"strings"
	"testing"
)

// TestDecisionTimelineInBrowser: under a stored supply run the page runs an
// organisation's rules on the run's scenario (POST /org/run) and draws the
// decision timeline: each rule's signal, decision, approval and effect on
// one row and the same rule with zero latency on the next, the cost of
// slow decisions as a number, and the decisions' table; a bad rule shows
// the server's error naming the field.
func TestDecisionTimelineInBrowser(t *testing.T) {
	ctx := browser(t)
	s := startDemo(t)
	go_(t, ctx, s.URL()+"/#/supply")
	waitFor[bool](t, ctx, "the workspace", `!!document.querySelector("#supply-form [data-path=days]")`)
	fill(t, ctx, "#supply-editor", `{"name":"browser: decisions","graph":true,"start":"2025-01-01","days":240,"shocks":[{"node":"sep-cn","from":"2025-02-01","to":"2025-06-30","capacity_factor":0.3}]}`)
	click(t, ctx, "#supply-run")
	waitFor[bool](t, ctx, "the run stored", `document.getElementById("run-title").textContent.includes("browser: decisions")`)

	// The example organisation is written for this run's network and runs.
	waitFor[bool](t, ctx, "the decisions panel", `!!document.getElementById("org-editor") && JSON.parse(document.getElementById("org-editor").value).rules.length === 1`)
	click(t, ctx, "#org-run")
	waitFor[bool](t, ctx, "the example organisation ran", `/decision\(s\) over 240 d/.test(document.getElementById("org-status").textContent)`)

	// A rule that holds from day 0 (inventory above −1) at the example's
	// node, with a latency and an approval: it fires on day 0 and takes
	// effect 30 days later; at zero latency on day 0.
	eval[bool](t, ctx, `(() => {
		const ed = document.getElementById("org-editor");
		const o = JSON.parse(ed.value);
		const node = o.rules[0].when.node;
		o.rules = [{id: "raise-cover", actor: "buyer", when: {signal: "inventory", node, above: -1}, latency_days: 20,
			action: {type: "change_policy", node, cover_days: 60}, approval: {actor: "cfo", latency_days: 10}}];
		ed.value = JSON.stringify(o);
		return true; })()`)
	click(t, ctx, "#org-run")
	waitFor[bool](t, ctx, "the timeline drawn", chartReady("#decision-timeline"))
	rows := eval[string](t, ctx, `document.getElementById("decision-timeline").dataset.rows`)
	if rows != "raise-cover|raise-cover · zero latency" {
		t.Errorf("timeline rows %q, want the rule and its zero-latency counterpart", rows)
	}
	kinds := eval[string](t, ctx, `document.getElementById("decision-timeline").dataset.kinds`)
	if kinds != "signal|decision|approval|effect" {
		t.Errorf("timeline marks %q, want signal, decision, approval and effect", kinds)
	}
	cells := eval[[]string](t, ctx, `[...document.querySelectorAll("#decision-table tr:nth-child(2) td")].map((td) => td.textContent)`)
	if len(cells) != 8 || !strings.HasPrefix(cells[3], "2025-01-01") || cells[4] != "2025-01-21" || !strings.HasPrefix(cells[5], "2025-01-31 by cfo") || cells[6] != "2025-01-31" || cells[7] != "2025-01-01" {
		t.Errorf("decision row %q: want signal 2025-01-01, decided 2025-01-21, approved and effective 2025-01-31, at zero latency 2025-01-01", cells)
	}
	cost := eval[string](t, ctx, `document.querySelector("#latency-cost h3").textContent`)
	if !strings.HasSuffix(cost, " t") || strings.HasPrefix(cost, "–") {
		t.Errorf("cost of slow decisions %q, want a number of tonnes", cost)
	}
	for _, id := range []string{"org-lost", "org-zero-lost"} {
		if v := eval[string](t, ctx, `document.querySelector("#`+id+` h3").textContent`); !strings.HasSuffix(v, " t") {
			t.Errorf("%s %q, want tonnes", id, v)
		}
	}

	// A rule on an unknown node: the server's error names the field.
	eval[bool](t, ctx, `(() => { const ed = document.getElementById("org-editor"); const o = JSON.parse(ed.value); o.rules[0].when.node = "atlantis"; ed.value = JSON.stringify(o); return true; })()`)
	click(t, ctx, "#org-run")
	msg := waitFor[string](t, ctx, "the error shown", `(document.getElementById("org-error") || {}).textContent || ""`)
	if !strings.Contains(msg, "org.rules[0].when.node") || !strings.Contains(msg, "atlantis") {
		t.Errorf("error %q, want the field org.rules[0].when.node and the node", msg)
	}
}
