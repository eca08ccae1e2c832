// Decision timeline of the organisation twin (issue 14, item 2): for a
// stored supply run, the organisation's rules run on the same scenario
// (POST /org/run, docs/formats/org.md) and each decision is drawn on one
// row, signal → decision → approval → effect, with the same rule under
// zero latency on the row beside it; the cost of slow decisions (lost
// demand with the latencies minus without) is a number above the chart.
import { chart, fmt } from "./charts.js";
import { h } from "./dom.js";

// The request knobs of a stored run that are not part of a SCENARIO.
const knobs = ["name", "graph", "asOf", "runs", "seed", "stockpileTonnes"];

// orgScenario is the org SCENARIO of a stored run's scenario and org.
export function orgScenario(sc, org) {
  const out = {};
  for (const [k, v] of Object.entries(sc || {})) if (!knobs.includes(k)) out[k] = v;
  out.org = org;
  return out;
}

// exampleOrg is a starting organisation for a run's network: procurement
// watches the days of cover of the first demand node and, after 30 days
// and a 14-day approval by finance, activates the first standby lane into
// it or, without one, raises the node's cover to 90 days. The latencies
// are an illustration to edit, not data.
export function exampleOrg(sc) {
  const net = (sc && sc.network) || { nodes: [], arcs: [] };
  const oem = net.nodes.find((n) => n.demand_per_period > 0) || net.nodes[net.nodes.length - 1] || { id: "" };
  const standby = net.arcs.find((a) => a.standby && a.to === oem.id) || net.arcs.find((a) => a.standby);
  const action = standby ? { type: "activate_arc", arc: `${standby.from}->${standby.to}` } : { type: "change_policy", node: oem.id, cover_days: 90 };
  return {
    actors: [{ id: "buyer", role: "procurement" }, { id: "cfo", role: "finance" }],
    rules: [{ id: "cover-alarm", actor: "buyer", when: { signal: "days_of_cover", node: oem.id, below: 30 }, latency_days: 30, action, approval: { actor: "cfo", latency_days: 14 } }],
  };
}

const kinds = [
  { key: "signal", label: "signal", symbol: "circle", colour: "#1f77b4" },
  { key: "decision", label: "decision", symbol: "diamond", colour: "#9467bd" },
  { key: "approval", label: "approval", symbol: "triangle", colour: "#ff7f0e" },
  { key: "effect", label: "effect", symbol: "rect", colour: "#2ca02c" },
  { key: "in_service", label: "lane in service", symbol: "pin", colour: "#17becf" },
  { key: "refused", label: "refused", symbol: "path://M0,0L10,10M10,0L0,10", colour: "#d62728" },
];

// steps are a decision's dated steps.
function steps(d) {
  const s = [["signal", d.signal_day], ["decision", d.decided_day]];
  if (d.refused) return [...s, ["refused", d.decided_day]];
  if (d.approved_by && d.approved_by.length) s.push(["approval", d.approved_day]);
  s.push(["effect", d.effective_day]);
  if (d.in_service_day) s.push(["in_service", d.in_service_day]);
  return s.filter(([, day]) => day);
}

const t = (day) => Date.parse(day + "T00:00:00Z");

// timelineChart draws the decisions, each rule on a row and its
// zero-latency counterpart on the next.
export function timelineChart(res) {
  const zero = new Map(((res.zero_latency && res.zero_latency.decisions) || []).map((d) => [d.rule, d]));
  const rows = [];
  const marks = new Map(kinds.map((k) => [k.key, []]));
  const spans = [];
  for (const d of res.decisions || []) {
    for (const [label, dec, ghost] of [[d.rule, d, false], [d.rule + " · zero latency", zero.get(d.rule), true]]) {
      if (!dec) continue;
      rows.push(label);
      const st = steps(dec);
      for (const [k, day] of st) marks.get(k).push({ value: [t(day), label], rule: dec.rule, day, ghost, itemStyle: ghost ? { opacity: 0.45 } : undefined });
      const last = st[st.length - 1];
      spans.push({ coords: [[t(st[0][1]), label], [t(last[1]), label]], lineStyle: { type: ghost ? "dashed" : "solid", opacity: ghost ? 0.5 : 0.9 } });
    }
  }
  const option = {
    animation: false,
    title: { text: "decisions: signal → decision → approval → effect (each rule, then the same rule with zero latency)", textStyle: { fontSize: 12 } },
    tooltip: { trigger: "item", formatter: (p) => (p.data && p.data.day ? `${p.data.rule}: ${p.seriesName} on ${p.data.day}${p.data.ghost ? " (zero latency)" : ""}` : "") },
    legend: { bottom: 0, textStyle: { fontSize: 11 } },
    grid: { left: 190, right: 24, top: 30, bottom: 48 },
    // The run's horizon, so that a decision's place in it shows.
    xAxis: { type: "time", min: res.start ? t(res.start) : undefined, max: res.start ? t(res.start) + res.days * 86400e3 : undefined },
    yAxis: { type: "category", data: rows.slice().reverse(), axisLabel: { fontSize: 11, width: 180, overflow: "truncate" } },
    series: [
      { name: "delay", type: "lines", coordinateSystem: "cartesian2d", data: spans, lineStyle: { color: "#555", width: 2 }, silent: true },
      ...kinds.filter((k) => marks.get(k.key).length).map((k) => ({ name: k.label, type: "scatter", symbol: k.symbol, symbolSize: 11, color: k.colour, data: marks.get(k.key) })),
    ],
  };
  const box = chart(option, { height: Math.max(140, 80 + 28 * rows.length), id: "decision-timeline", cls: "timechart" });
  box.dataset.rows = rows.join("|");
  box.dataset.kinds = kinds.filter((k) => marks.get(k.key).length).map((k) => k.key).join("|");
  return box;
}

// decisionView is the cost of slow decisions, the chart and the table.
export function decisionView(res, unit) {
  const zero = res.zero_latency || { lost: null, decisions: [] };
  const zd = new Map((zero.decisions || []).map((d) => [d.rule, d]));
  const card = (big, small, id) => h("div", { class: "card", id }, h("h3", {}, big), small);
  const money = res.latency_cost_money;
  const out = [
    h("div", { class: "cards" },
      card(`${fmt(Math.round(res.lost))} ${unit}`, "demand lost with the organisation's latencies", "org-lost"),
      card(zero.lost === null ? "–" : `${fmt(Math.round(zero.lost))} ${unit}`, "lost with every latency zero", "org-zero-lost"),
      card(res.latency_cost === undefined || res.latency_cost === null ? "–" : `${fmt(Math.round(res.latency_cost))} ${unit}`,
        "cost of slow decisions" + (typeof money === "number" ? ` (${fmt(Math.round(money))} in money)` : ""), "latency-cost")),
  ];
  if (!(res.decisions || []).length) {
    out.push(h("p", { class: "muted", id: "decision-none" }, "No rule fired in this run: no signal crossed its threshold."));
    return out;
  }
  out.push(timelineChart(res), h("table", { id: "decision-table" },
    h("tr", {}, h("th", {}, "rule"), h("th", {}, "actor"), h("th", {}, "action"), h("th", {}, "signal"), h("th", {}, "decided"), h("th", {}, "approved"), h("th", {}, "effective"), h("th", {}, "effective at zero latency")),
    ...res.decisions.map((d) => h("tr", {},
      h("td", {}, d.rule), h("td", {}, d.actor), h("td", {}, d.action.type + (d.action.arc ? " " + d.action.arc : d.action.node ? " " + d.action.node : d.action.control ? " " + d.action.control : "")),
      h("td", {}, `${d.signal_day} (${d.signal} ${fmt(d.value)})`), h("td", {}, d.decided_day),
      h("td", {}, d.refused ? h("span", { class: "error" }, "refused: " + d.refused) : d.approved_by && d.approved_by.length ? `${d.approved_day} by ${d.approved_by.join(", ")}` : "–"),
      h("td", {}, d.effective_day || "–"), h("td", {}, (zd.get(d.rule) || {}).effective_day || "–")))));
  return out;
}

// orgPanel is the decisions section of a stored run: the organisation as
// JSON, a button that runs it on the run's scenario, and the view.
export function orgPanel(run, call) {
  const sc = run.scenario || {};
  const editor = h("textarea", { id: "org-editor", rows: 12, spellcheck: "false" });
  editor.value = JSON.stringify(exampleOrg(sc), null, 2);
  const status = h("p", { class: "muted", id: "org-status" });
  const out = h("div", { id: "org-results" });
  const unit = run.graph ? "t" : "units";
  const go = async () => {
    let org;
    try { org = JSON.parse(editor.value); } catch (e) { status.textContent = "the organisation is not JSON: " + e.message; return; }
    status.textContent = "running with the organisation's decisions…";
    try {
      const { data } = await call("POST", "/org/run?zeroLatency=true", orgScenario(sc, org));
      status.textContent = `${(data.decisions || []).length} decision(s) over ${data.days} d from ${data.start}`;
      out.replaceChildren(...decisionView(data, unit));
    } catch (e) {
      status.textContent = "";
      out.replaceChildren(h("p", { class: "error", id: "org-error" }, e.message + (e.details && e.details.length ? ` (${e.details.map((d) => d.path).filter(Boolean).join(", ")})` : "")));
    }
  };
  return h("div", { class: "scenario-box", id: "org-panel" },
    h("h3", {}, "Decisions of the organisation"),
    h("p", { class: "muted" }, "Actors and rules (docs/formats/org.md) run on this run's scenario: when a signal crosses its threshold, after the actor's and approvers' latencies, the action takes effect. The same rules with zero latency run beside them; the difference in lost demand is the cost of slow decisions. The example's latencies are an illustration to edit."),
    editor, h("div", { class: "row" }, h("button", { id: "org-run", onclick: go }, "Run with decisions"), status), out);
}
