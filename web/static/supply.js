// Supply-chain twin page (#/supply): the scenario workspace (a form with
// the scenario's JSON beside it, every error of the server at its field),
// runs on the twin graph's network with progress and cancel for Monte Carlo
// studies, the run's map, Sankey by stage and country, time series with
// shocks and export controls shaded, Monte Carlo distributions and fan
// charts, stored runs compared (flagged when their horizons differ), and
// the stress table with the server's units and definitions, and under a
// stored run the decision timeline of an organisation's rules on its
// scenario (timeline.js).
import { chart, timeChart, countryColour, legend, fmt } from "./charts.js";
import { h, fieldErrors } from "./dom.js";
import { worldMap, runSites, stageUnit } from "./map.js";
import { orgPanel } from "./timeline.js";

// Built-in scenarios of the editor. Export controls are supply's built-ins
// (each with its source in the engine); the outage is an illustration
// with made-up dates and severity, not data.
export const presets = {
  "april-2025": { name: "April 2025 licences (No. 18)", graph: true, start: "2025-01-01", days: 730, controls: [{ name: "CN-2025-18", builtin: "CN-2025-18" }] },
  "november-2025": { name: "Oct 2025 measures, suspended in Nov", graph: true, start: "2025-01-01", days: 730, controls: ["CN-2025-18", "CN-2025-57", "CN-2025-61"].map((c) => ({ name: c, builtin: c })) },
  "baseline": { name: "Baseline", graph: true, start: "2025-01-01", days: 730 },
  "sep-cn-outage-mc": { name: "Illustration: random outages of China's separation (Monte Carlo)", graph: true, start: "2025-01-01", days: 365, runs: 200, seed: 1,
    random_shocks: [{ name: "sep-cn outage (illustrative)", nodes: ["sep-cn"], prob_per_day: 0.005, duration_days: 30, duration_sigma: 0.5, capacity_factor: 0.4 }] },
};

class HTTPError extends Error {
  constructor(status, e) { super(e.message || `HTTP ${status}`); this.status = status; this.details = e.details || []; }
}

async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) { init.body = typeof body === "string" ? body : JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new HTTPError(res.status, (data && data.error) || {});
  return { status: res.status, data };
}

const pct = (v) => (typeof v === "number" ? (100 * v).toFixed(1) + " %" : "–");
const builtins = ["CN-2025-18", "CN-2025-57", "CN-2025-61"];

// --- flows ------------------------------------------------------------------

// runFlows returns the tonnes carried by each arc over the run: the run's
// own per-arc flows when the result has them, otherwise estimateFlows.
export function runFlows(net, res, days) {
  const arcs = res && (res.arcs || res.flows);
  if (Array.isArray(arcs) && arcs.length === net.arcs.length) {
    // A run's arcs are {from, to, material, shipped, unit}, in the network's order.
    const v = arcs.map((a) => (typeof a === "number" ? a : a && (typeof a.shipped === "number" ? a.shipped : typeof a.tonnes === "number" ? a.tonnes : a.flow && typeof a.flow === "object" ? a.flow.mean : a.flow)));
    if (v.every((x) => typeof x === "number")) return { flow: v, estimated: false };
  }
  return { flow: estimateFlows(net, (res && res.nodes) || {}, days), estimated: true };
}

// estimateFlows returns the tonnes carried by each arc over the run,
// estimated from the KPIs (runs report no per-lane flows): each demand node
// delivers demand × days × fill rate; a node's delivered output draws on its
// inputs by the arcs' ratios, shared among alternative sources of a
// material in proportion to capacity × fill rate; upstream nodes deliver
// what their customers drew.
export function estimateFlows(net, nodes, days) {
  const byId = new Map(net.nodes.map((n) => [n.id, n]));
  const fill = (id) => {
    const k = nodes[id];
    if (!k) return 1;
    return typeof k.fill_rate === "number" ? k.fill_rate : k.fill_rate && typeof k.fill_rate.mean === "number" ? k.fill_rate.mean : 1;
  };
  const out = new Map(net.nodes.map((n) => [n.id, (n.demand_per_period || 0) * days * fill(n.id)]));
  const inArcs = new Map(), outArcs = new Map();
  net.arcs.forEach((a, i) => {
    (inArcs.get(a.to) || inArcs.set(a.to, []).get(a.to)).push(i);
    (outArcs.get(a.from) || outArcs.set(a.from, []).get(a.from)).push(i);
  });
  const pending = new Map(net.nodes.map((n) => [n.id, (outArcs.get(n.id) || []).length]));
  const queue = net.nodes.filter((n) => pending.get(n.id) === 0).map((n) => n.id);
  const flow = new Array(net.arcs.length).fill(0);
  const weight = (id) => { const n = byId.get(id); return Math.max((n.capacity_per_period || 0) * fill(id), n.stage === "stockpile" ? 0 : 1e-12); };
  while (queue.length) {
    const j = queue.shift();
    const produced = out.get(j) || 0;
    const groups = new Map();
    for (const i of inArcs.get(j) || []) {
      const m = net.arcs[i].material || "";
      (groups.get(m) || groups.set(m, []).get(m)).push(i);
    }
    for (const arcs of groups.values()) {
      const total = arcs.reduce((s, i) => s + weight(net.arcs[i].from), 0);
      for (const i of arcs) {
        const a = net.arcs[i];
        flow[i] = total > 0 ? (produced * (a.ratio || 1) * weight(a.from)) / total : 0;
        out.set(a.from, (out.get(a.from) || 0) + flow[i]);
        pending.set(a.from, pending.get(a.from) - 1);
        if (pending.get(a.from) === 0) queue.push(a.from);
      }
    }
  }
  return flow;
}

const stageOrder = ["mine", "concentrator", "separation", "metal", "magnet", "oem"];

// sankey draws the flows by stage and country. Stages carry different
// materials (oxide, metal, magnet), so each column is drawn on its own
// scale: a band's width is its share of its stage's flow, and its label
// gives the tonnes per year in the stage's unit.
export function sankey(net, flow, { years = 1 } = {}) {
  const node = new Map(net.nodes.map((n) => [n.id, n]));
  const key = (n) => `${n.stage} ${n.country || "?"}`;
  const links = new Map(), stageOut = new Map(), groups = new Map();
  net.arcs.forEach((a, i) => {
    const v = flow[i] / years;
    if (!(v > 0)) return;
    const s = node.get(a.from), t = node.get(a.to);
    const k = key(s) + ">" + key(t);
    links.set(k, { source: key(s), target: key(t), tonnes: (links.get(k)?.tonnes || 0) + v, stage: s.stage });
    stageOut.set(s.stage, (stageOut.get(s.stage) || 0) + v);
    for (const n of [s, t]) if (!groups.has(key(n))) groups.set(key(n), { name: key(n), stage: n.stage, country: n.country || "?", tin: 0, tout: 0 });
    groups.get(key(s)).tout += v;
    groups.get(key(t)).tin += v;
  });
  if (!groups.size) return h("p", { class: "muted" }, "no flow");
  const depthOf = (g) => (g.stage === "stockpile" ? -1 : stageOrder.indexOf(g.stage));
  const used = [...new Set([...groups.values()].map(depthOf).filter((d) => d >= 0))].sort((a, b) => a - b);
  for (const g of groups.values()) {
    let d = depthOf(g);
    if (d < 0) { // a stockpile sits in the column before its customers
      const t = [...links.values()].filter((l) => l.source === g.name).map((l) => depthOf(groups.get(l.target)));
      d = Math.max(0, Math.min(...t, stageOrder.length) - 1);
    }
    g.depth = Math.max(0, used.indexOf(d) >= 0 ? used.indexOf(d) : used.findIndex((u) => u > d) - 1);
  }
  const unitOf = (stage) => stageUnit[stage] || "t";
  const data = [...groups.values()].map((g) => ({
    name: g.name, depth: g.depth, itemStyle: { color: countryColour(g.country) }, tonnes: Math.max(g.tin, g.tout), stage: g.stage, country: g.country,
    label: { formatter: `${g.country} ${fmt(Math.round(Math.max(g.tin, g.tout)))} ${unitOf(g.stage)}/yr` },
  }));
  const ls = [...links.values()].map((l) => ({ source: l.source, target: l.target, value: l.tonnes / stageOut.get(l.stage), tonnes: l.tonnes, unit: unitOf(l.stage) }));
  const option = {
    animation: false,
    tooltip: { formatter: (p) => (p.dataType === "edge"
      ? `${p.data.source} → ${p.data.target}: ${fmt(Math.round(p.data.tonnes))} ${p.data.unit}/yr (${(100 * p.data.value).toFixed(1)} % of the stage)`
      : `${p.data.stage} ${p.data.country}: ${fmt(Math.round(p.data.tonnes))} ${unitOf(p.data.stage)}/yr`) },
    series: [{ type: "sankey", data, links: ls, nodeAlign: "justify", layoutIterations: 32, nodeWidth: 14, nodeGap: 10, left: 10, right: 150, top: 8, bottom: 8,
      lineStyle: { color: "source", opacity: 0.35 }, label: { fontSize: 11, minMargin: 2 }, emphasis: { focus: "adjacency" } }],
  };
  const box = chart(option, { height: 440, id: "sankey", cls: "sankey" });
  box.dataset.nodes = String(data.length);
  box.dataset.links = String(ls.length);
  const countries = [...new Set(data.map((d) => d.country))].sort();
  const heads = h("div", { class: "sankey-heads" }, used.map((d) => h("span", {}, `${stageOrder[d]} (${unitOf(stageOrder[d])}/yr)`)));
  return h("div", { class: "sankey-wrap" }, heads, box,
    legend(countries.map((c) => ({ label: c === "ROW" ? "ROW (rest of the world)" : c, colour: countryColour(c) })), "sankey-legend"),
    h("p", { class: "muted small" }, "Each stage carries its own material, so each column is on its own scale: a band's width is its share of its stage's flow; labels give tonnes per year in the stage's unit."));
}

// --- time series --------------------------------------------------------------

// periods lists the shaded periods of a scenario: dated shocks and export
// controls in force (effective to suspension, again from resumption).
export function periods(sc) {
  const end = addDays(sc.start, sc.days - 1);
  const out = [];
  for (const s of sc.shocks || []) out.push({ from: s.from, to: s.to, kind: "shock", label: `${s.node || s.arc} ${s.kind || ""} ×${s.capacity_factor ?? s.demand_factor ?? ""}`.trim() });
  for (const c of sc.controls || []) {
    const eff = c.effective || builtinEffective[c.builtin || c.name];
    if (!eff) continue;
    const susp = c.suspended !== undefined ? c.suspended : builtinSuspended[c.builtin || c.name];
    const resumes = c.resumes !== undefined ? c.resumes : builtinResumes[c.builtin || c.name];
    if (susp && susp <= eff) { if (resumes) out.push({ from: resumes, to: end, kind: "control", label: c.name }); continue; }
    out.push({ from: eff, to: susp ? addDays(susp, -1) : end, kind: "control", label: c.name });
    if (susp && resumes) out.push({ from: resumes, to: end, kind: "control", label: c.name });
  }
  return out.filter((p) => p.from <= end && p.to >= sc.start);
}

// Dates of supply's built-in controls (supply.BuiltinControls, where each
// carries its source), for shading when a scenario names one by builtin.
const builtinEffective = { "CN-2025-18": "2025-04-04", "CN-2025-57": "2025-10-09", "CN-2025-61": "2025-12-01" };
const builtinSuspended = { "CN-2025-57": "2025-11-07", "CN-2025-61": "2025-11-07" };
const builtinResumes = { "CN-2025-57": "2026-11-10", "CN-2025-61": "2026-11-10" };

function addDays(d, n) { const t = new Date(d + "T00:00:00Z"); t.setUTCDate(t.getUTCDate() + n); return t.toISOString().slice(0, 10); }
const mid = (m) => Date.parse(m + "-15T00:00:00Z");

// quantiles reads a monthly entry's quantiles of a KPI, in whichever shape
// the result gives them: {fill_rate: {p10, p50, p90}} or fill_rate_p10 … .
function quantiles(m, k) {
  const o = m[k];
  if (o && typeof o === "object" && typeof o.p10 === "number" && typeof o.p90 === "number") return { lo: o.p10, mid: o.p50 ?? o.mean, hi: o.p90 };
  if (typeof m[k + "_p10"] === "number" && typeof m[k + "_p90"] === "number") return { lo: m[k + "_p10"], mid: m[k + "_p50"] ?? m[k], hi: m[k + "_p90"] };
  return null;
}
const meanOf = (v) => (typeof v === "number" ? v : v && typeof v === "object" ? v.mean ?? v.p50 : NaN);

// fanChart draws the P10–P90 band of a KPI over time with its median, for
// the nodes of a Monte Carlo run whose months carry quantiles.
export function fanChart(res, ids, k, { title, unit = "", scale = 1 } = {}) {
  const series = [];
  let any = false;
  ids.forEach((id, i) => {
    const ms = (res.nodes[id] || {}).monthly || [];
    const q = ms.map((m) => [m.month, quantiles(m, k)]).filter(([, x]) => x);
    if (!q.length) return;
    any = true;
    const c = ["#8a4b08", "#1f77b4", "#2ca02c", "#d62728", "#9467bd"][i % 5];
    series.push({ name: `${id} P10`, type: "line", stack: id, data: q.map(([m, x]) => [mid(m), x.lo * scale]), lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false } });
    series.push({ name: `${id} P10–P90`, type: "line", stack: id, data: q.map(([m, x]) => [mid(m), (x.hi - x.lo) * scale]), lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: c, opacity: 0.18 } });
    series.push({ name: `${id} median`, type: "line", data: q.map(([m, x]) => [mid(m), x.mid * scale]), color: c, symbol: "none", lineStyle: { width: 1.6 } });
  });
  if (!any) return null;
  const option = {
    animation: false, title: { text: title + (unit ? ` (${unit})` : ""), textStyle: { fontSize: 12 } },
    tooltip: { trigger: "axis" }, legend: { top: 24, type: "scroll", data: series.filter((s) => !s.name.endsWith(" P10")).map((s) => s.name) },
    grid: { left: 56, right: 16, top: 54, bottom: 28 }, xAxis: { type: "time" }, yAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => fmt(v) } }, series,
  };
  return chart(option, { height: 260, cls: "fan-chart" });
}

// distChart draws the distribution of a node KPI over the runs: a
// histogram when the result has one ({edges, counts}), else the quantiles
// the study reports (mean, P50, P90, P95) on one axis per node.
export function distChart(res, ids, k, { title, unit = "" } = {}) {
  const hist = ids.map((id) => [id, (res.nodes[id] || {})[k]]).filter(([, d]) => d && d.histogram && Array.isArray(d.histogram.counts));
  let option;
  if (hist.length) {
    const [id, d] = hist[0];
    const e = d.histogram.edges;
    option = {
      animation: false, title: { text: `${title} — ${id}` + (unit ? ` (${unit})` : ""), textStyle: { fontSize: 12 } }, tooltip: {},
      grid: { left: 48, right: 16, top: 36, bottom: 36 }, xAxis: { type: "category", data: d.histogram.counts.map((_, i) => `${fmt(e[i])}–${fmt(e[i + 1])}`), axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", name: "runs" }, series: [{ type: "bar", data: d.histogram.counts, barCategoryGap: "2%", color: "#8a4b08" }],
    };
  } else {
    const qs = ["mean", "p50", "p90", "p95"];
    const rows = ids.map((id) => [id, (res.nodes[id] || {})[k]]).filter(([, d]) => d && typeof d.mean === "number");
    if (!rows.length) return null;
    option = {
      animation: false, title: { text: title + (unit ? ` (${unit})` : "") + " over the runs", textStyle: { fontSize: 12 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 24, data: qs.map((q) => q.toUpperCase()) },
      grid: { left: 90, right: 16, top: 54, bottom: 28 }, yAxis: { type: "category", data: rows.map(([id]) => id) }, xAxis: { type: "value", axisLabel: { formatter: (v) => fmt(v) } },
      series: qs.map((q, i) => ({ name: q.toUpperCase(), type: "scatter", symbol: ["diamond", "circle", "triangle", "rect"][i], symbolSize: 10, data: rows.map(([, d]) => d[q]) })),
    };
  }
  return chart(option, { height: Math.max(180, 60 + 28 * ids.length), cls: "dist-chart" });
}

// --- the run ------------------------------------------------------------------

function card(big, small) { return h("div", { class: "card" }, h("h3", {}, big), small); }

// runMap draws a run's network on the world map with its flows per lane,
// the shocked nodes' countries and the controls' issuing countries.
export async function runMap(run) {
  const sc = run.scenario || {};
  const net = sc.network || { nodes: [], arcs: [] };
  const years = run.days / 365;
  const { flow, estimated } = run.status === "done" ? runFlows(net, run.result, run.days) : { flow: null, estimated: false };
  const { sites, lanes } = runSites(net, flow, years);
  const countryOf = new Map(net.nodes.map((n) => [n.id, n.country]));
  const highlight = {};
  for (const c of sc.controls || []) { const iso = c.country || (builtins.includes(c.builtin || c.name) ? "CN" : ""); if (iso) highlight[iso] = "control"; }
  for (const s of [...(sc.shocks || []), ...(sc.random_shocks || [])]) for (const n of s.nodes || [s.node]) { const iso = countryOf.get(n); if (iso && iso !== "ROW") highlight[iso] = "shock"; }
  return worldMap(sites, lanes, { highlight, id: "run-map", note: flow ? (estimated ? "Lane flows estimated from the run's KPIs (the run reports no per-lane flows)." : "Lane flows as the run reports them.") : "" });
}

function renderRun(run) {
  const sc = run.scenario || {};
  const net = sc.network || { nodes: [], arcs: [] };
  const res = run.result || { nodes: {} };
  const mc = res.runs !== undefined;
  const k = run.kpis || {};
  const out = [h("h3", { id: "run-title" }, `Run ${run.name || run.id}`),
    h("div", { class: "cards" },
      card(pct(k.demandFillRate), "demand fill rate" + (mc ? " (mean)" : "")),
      card(fmt(Math.round(k.lostTonnes || 0)) + " t", "demand lost" + (mc ? " (mean)" : "")),
      card(k.firstStockout || (mc ? "–" : "none"), "first stockout" + (mc ? " (single runs only)" : "")),
      card(`${run.runs} × ${run.days} d`, `from ${run.start}` + (run.graph ? ` · graph as of ${(run.asOf || "").slice(0, 19).replace("T", " ")}` : ""))),
    h("p", { class: "muted" }, `input ${run.inputHash} · ${run.modelVersion} · `, h("a", { href: `#/map/${encodeURIComponent(run.id)}` }, "map of this run"))];
  for (const p of run.provenance || []) {
    out.push(h("p", { class: "muted provenance" }, `${p.node}: ${p.used ? `capacity ${fmt(p.capacity_tonnes_per_year)} t/yr (facility ${fmt(p.facility_capacity_tonnes_per_year)} t/yr) and recovery ${fmt(p.recovery)} from the process twin, ${p.model_version}, ${p.input_hash}` : `process-twin result not used: ${p.why}`}`));
  }
  if (run.status !== "done") { out.push(h("p", { class: run.status === "failed" ? "error" : "muted" }, run.error || run.status)); return out; }
  const { flow, estimated } = runFlows(net, res, run.days);
  const mapBox = h("div", { id: "run-map-box" });
  runMap(run).then((m) => mapBox.replaceChildren(m)).catch((e) => mapBox.replaceChildren(h("p", { class: "error" }, e.message)));
  out.push(h("h3", {}, "Map: flows per lane"), mapBox,
    h("h3", {}, "Flows by stage and country"), h("div", { class: "graph-box" }, sankey(net, flow, { years: run.days / 365 })),
    estimated ? h("p", { class: "muted small" }, "Estimated from the run's KPIs: what reached demand, drawn back up the chain by the arcs' ratios and shared among alternative sources by capacity × fill rate (the run reports no per-lane flows).") : null);
  const shaded = periods({ ...sc, start: run.start, days: run.days });
  const monthly = (id, f) => ((res.nodes[id] || {}).monthly || []).map((m) => ({ t: mid(m.month), v: f(m) }));
  const demand = net.nodes.filter((n) => n.demand_per_period > 0).map((n) => n.id);
  const shortIds = Object.entries(res.nodes).filter(([, v]) => meanOf(v.fill_rate) < 0.999).map(([id]) => id);
  const fillIds = [...new Set([...demand, ...shortIds])].slice(0, 8);
  out.push(h("h3", {}, "Over time"), h("div", { class: "charts" },
    timeChart(fillIds.map((id) => ({ name: id, points: monthly(id, (m) => 100 * meanOf(m.fill_rate)) })), { title: "fill rate by month" + (mc ? " (mean over runs)" : ""), unit: "%", bands: shaded, yMin: 0, cls: "timechart fill-chart" }),
    timeChart(demand.map((id) => ({ name: id, points: monthly(id, (m) => meanOf(m.inventory_end)) })), { title: "inventory at month end" + (mc ? " (mean)" : ""), unit: "t", bands: shaded, cls: "timechart inventory-chart" })),
    h("p", { class: "muted small" }, h("span", { class: "key", style: "background:#d6272824" }, "shock"), " ", h("span", { class: "key", style: "background:#f2b70530" }, "export control in force")));
  if (mc) {
    const fan = fanChart(res, fillIds.slice(0, 3), "fill_rate", { title: "fill rate by month, P10–P90 over the runs", unit: "%", scale: 100 });
    const dist = distChart(res, fillIds, "lost", { title: "demand lost", unit: "t" });
    out.push(h("h3", {}, "Monte Carlo distributions"), h("div", { class: "charts", id: "mc-charts" }, fan || h("p", { class: "muted", id: "fan-missing" }, "No fan chart: this run's months carry means only (the study reports no monthly quantiles)."), dist));
  }
  const ids = Object.keys(res.nodes).sort();
  out.push(h("table", { id: "run-nodes" },
    h("tr", {}, h("th", {}, "node"), h("th", {}, "fill rate"), h("th", {}, "lost (t)"), h("th", {}, "stockout days (d)"), h("th", {}, mc ? "P(stockout)" : "first stockout")),
    ...ids.map((id) => {
      const v = res.nodes[id];
      return mc
        ? h("tr", {}, h("td", {}, id), h("td", { class: "num" }, `${pct(v.fill_rate.mean)}` + (v.fill_rate.ci95 ? ` ± ${pct(v.fill_rate.ci95)}` : "") + ` (P50 ${pct(v.fill_rate.p50)})`), h("td", { class: "num" }, `${fmt(Math.round(v.lost.mean))} (P95 ${fmt(Math.round(v.lost.p95))})`), h("td", { class: "num" }, fmt(v.stockout_days.mean)), h("td", { class: "num" }, pct(v.p_stockout)))
        : h("tr", {}, h("td", {}, id), h("td", { class: "num" }, pct(v.fill_rate)), h("td", { class: "num" }, fmt(Math.round(v.lost))), h("td", { class: "num" }, String(v.stockout_days)), h("td", {}, v.first_stockout || "–"));
    })));
  return out;
}

// --- scenario form --------------------------------------------------------------

// scenarioForm renders the form of a scenario object; each input carries the
// data-path the server names in its errors (days, shocks[0].node, …). On any
// change it calls onChange with the updated scenario, keeping keys the
// form does not show.
function scenarioForm(sc, nodeIds, onChange) {
  const set = (path, v) => {
    const out = structuredClone(sc);
    let o = out;
    const keys = path.match(/[^.[\]]+/g).map((k) => (/^\d+$/.test(k) ? +k : k));
    for (const k of keys.slice(0, -1)) o = o[k];
    const last = keys[keys.length - 1];
    if (v === undefined || v === "" || (typeof v === "number" && isNaN(v))) delete o[last]; else o[last] = v;
    onChange(out);
  };
  const field = (label, path, input, unit) => {
    input.dataset.path = path;
    input.addEventListener("change", () => set(path, input.type === "checkbox" ? input.checked || undefined : input.type === "number" ? (input.value === "" ? undefined : +input.value) : input.value));
    return h("label", { class: "field" }, h("span", { class: "lbl" }, label), input, unit ? h("span", { class: "unit" }, unit) : null);
  };
  const num = (v, attrs = {}) => h("input", { type: "number", step: "any", value: v ?? "", ...attrs });
  const txt = (v, attrs = {}) => h("input", { type: "text", value: v ?? "", ...attrs });
  const list = (key, title, fresh, row) => h("fieldset", { "data-path": key }, h("legend", {}, title),
    ...(sc[key] || []).map((x, i) => h("div", { class: "item row" }, row(x, `${key}[${i}]`),
      h("button", { type: "button", class: "secondary small", onclick: () => { const out = structuredClone(sc); out[key].splice(i, 1); if (!out[key].length) delete out[key]; onChange(out); } }, "remove"))),
    h("button", { type: "button", class: "secondary small", onclick: () => { const out = structuredClone(sc); out[key] = [...(out[key] || []), fresh()]; onChange(out); } }, "add"));
  const nodes = h("datalist", { id: "scenario-nodes" }, nodeIds.map((n) => h("option", { value: n })));
  const graph = h("input", { type: "checkbox" });
  graph.checked = !!sc.graph;
  return h("div", { class: "scenario-form" }, nodes,
    h("div", { class: "row" }, field("name", "name", txt(sc.name, { size: 30 }))),
    h("div", { class: "row" }, field("graph network", "graph", graph), field("as of", "asOf", txt(sc.asOf, { placeholder: "now", size: 12 })),
      field("start", "start", h("input", { type: "date", value: sc.start || "" })), field("horizon", "days", num(sc.days, { step: 1, min: 1 }), "d")),
    h("div", { class: "row" }, field("runs", "runs", num(sc.runs, { step: 1, min: 1, placeholder: "1" }), "(>1: Monte Carlo)"), field("seed", "seed", num(sc.seed, { step: 1, min: 0 }))),
    list("shocks", "Shocks", () => ({ node: "", kind: "capacity", from: sc.start || "2025-01-01", to: sc.start || "2025-01-31", capacity_factor: 0.5 }), (x, p) => [
      field("node", `${p}.node`, txt(x.node, { list: "scenario-nodes", size: 12 })), field("kind", `${p}.kind`, txt(x.kind, { size: 9 })),
      field("from", `${p}.from`, h("input", { type: "date", value: x.from || "" })), field("to", `${p}.to`, h("input", { type: "date", value: x.to || "" })),
      field("capacity kept", `${p}.capacity_factor`, num(x.capacity_factor, { min: 0 }), "×")]),
    list("controls", "Export controls", () => ({ name: "CN-2025-18", builtin: "CN-2025-18" }), (x, p) => {
      const b = h("select", {}, h("option", { value: "" }, "(custom)"), builtins.map((c) => h("option", { value: c }, c)));
      b.value = x.builtin || "";
      return [field("name", `${p}.name`, txt(x.name, { size: 12 })), field("built-in", `${p}.builtin`, b), field("country", `${p}.country`, txt(x.country, { size: 3, placeholder: "CN" }))];
    }),
    list("random_shocks", "Random shocks (Monte Carlo)", () => ({ name: "outage", nodes: [], prob_per_day: 0.005, duration_days: 30, capacity_factor: 0.5 }), (x, p) => {
      const ns = txt((x.nodes || []).join(", "), { size: 14, placeholder: "node, node" });
      ns.dataset.path = `${p}.nodes`;
      ns.addEventListener("change", () => set(`${p}.nodes`, ns.value.split(",").map((s) => s.trim()).filter(Boolean)));
      return [field("name", `${p}.name`, txt(x.name, { size: 10 })), h("label", { class: "field" }, h("span", { class: "lbl" }, "nodes"), ns),
        field("P(start) per day", `${p}.prob_per_day`, num(x.prob_per_day, { min: 0 })), field("duration", `${p}.duration_days`, num(x.duration_days, { min: 0 }), "d"),
        field("capacity kept", `${p}.capacity_factor`, num(x.capacity_factor, { min: 0 }), "×")];
    }));
}

// --- page -------------------------------------------------------------------

export async function supplyPage(main, arg, onCleanup = () => {}) {
  const status = h("p", { class: "muted", id: "supply-status" });
  const results = h("div", { id: "supply-results" });
  const stressBox = h("div", { id: "supply-stress" });
  const runsBox = h("div", { id: "supply-runs" });
  const compareBox = h("div", { id: "supply-compare" });
  const preset = h("select", { id: "supply-preset" }, ...Object.entries(presets).map(([k, p]) => h("option", { value: k }, p.name)));
  const editor = h("textarea", { id: "supply-editor", rows: 22, spellcheck: "false", "data-path": "" });
  const jsonErr = h("p", { class: "error", id: "supply-json-error" });
  const formBox = h("div", { id: "supply-form" });
  const errors = h("ul", { class: "form-errors", id: "supply-errors" });
  const bar = h("progress", { id: "supply-progress", max: 1, value: 0, hidden: true });
  const cancel = h("button", { class: "danger", id: "supply-cancel", hidden: true }, "Cancel");
  let nodeIds = [];
  // The JSON is the scenario; the form is a view of it, redrawn when the
  // JSON parses, and writes back to it on every change.
  const fromJSON = () => {
    let sc;
    try { sc = JSON.parse(editor.value); jsonErr.textContent = ""; } catch (e) { jsonErr.textContent = "not JSON: " + e.message; return; }
    if (!sc || typeof sc !== "object" || Array.isArray(sc)) { jsonErr.textContent = "a scenario is a JSON object"; return; }
    formBox.replaceChildren(scenarioForm(sc, nodeIds, (next) => { editor.value = JSON.stringify(next, null, 2); fromJSON(); }));
  };
  editor.addEventListener("input", fromJSON);
  const setPreset = () => { editor.value = JSON.stringify(presets[preset.value], null, 2); fromJSON(); };
  preset.addEventListener("change", setPreset);
  const workspace = h("div", { class: "workspace" }, formBox, h("div", {}, editor, jsonErr));

  async function showRun(id) {
    const { data: run } = await call("GET", `/scenarios/${encodeURIComponent(id)}`);
    results.replaceChildren(...renderRun(run));
    if (run.status === "done" && run.scenario && run.scenario.network) results.append(orgPanel(run, call));
  }

  async function runScenario() {
    fieldErrors(workspace.parentElement, null);
    status.textContent = "running…";
    let body;
    try { body = JSON.parse(editor.value); } catch (e) { status.textContent = ""; jsonErr.textContent = "the scenario is not JSON: " + e.message; return; }
    try {
      const { status: st, data: run } = await call("POST", "/scenarios", body);
      if (st === 202) {
        bar.hidden = false; bar.max = run.runs; bar.value = 0;
        cancel.hidden = false;
        const outcome = await new Promise((resolve) => {
          const es = new EventSource(`/scenarios/${encodeURIComponent(run.id)}/progress`);
          onCleanup(() => es.close());
          cancel.onclick = async () => {
            cancel.disabled = true;
            status.textContent = "cancelling…";
            // DELETE answers once the study has stopped, with the stored run.
            try {
              const { data: stopped } = await call("DELETE", `/scenarios/${encodeURIComponent(run.id)}`);
              es.close();
              resolve(stopped && stopped.status ? stopped.status : "cancelled");
            } catch (e) {
              // 409: the study ended before the cancel; its progress says how.
              if (e.status !== 409) { es.close(); resolve(e.status === 404 || e.status === 405 ? "nocancel" : "error: " + e.message); }
            } finally { cancel.disabled = false; }
          };
          es.addEventListener("progress", (m) => {
            const p = JSON.parse(m.data);
            bar.value = p.done;
            status.textContent = `${p.status}: ${p.done}/${p.total} runs`;
            if (p.status !== "running") { es.close(); resolve(p.status); }
          });
          es.onerror = () => { es.close(); resolve("lost"); };
        });
        bar.hidden = true;
        cancel.hidden = true;
        if (outcome === "nocancel") { status.textContent = `this server cannot cancel a study (no DELETE /scenarios/{id}); run ${run.id} goes on in the background`; await listRuns(run.id); return; }
        if (outcome === "cancelled" || outcome === "canceled") { status.textContent = `run ${run.id} cancelled`; await listRuns(run.id); await showRun(run.id).catch(() => {}); return; }
      }
      status.textContent = `run ${run.id} stored in the twin graph`;
      await showRun(run.id);
      await listRuns(run.id);
    } catch (e) {
      status.textContent = "";
      const n = fieldErrors(workspace.parentElement, e);
      status.textContent = n > 1 ? `${n} errors, each shown at its field` : "the server refused the scenario: see the field";
    }
  }

  async function listRuns(selected) {
    const { data } = await call("GET", "/scenarios");
    const runs = data.value;
    if (runs.length < 2) compareBox.replaceChildren(h("p", { class: "muted" }, "Store two runs to compare them side by side."));
    if (runs.length === 0) { runsBox.replaceChildren(h("p", { class: "muted" }, "No stored run yet: edit a scenario and press Run.")); return runs; }
    runsBox.replaceChildren(h("table", { id: "runs-table" },
      h("tr", {}, h("th", {}, "run"), h("th", {}, "runs × horizon"), h("th", {}, "fill rate"), h("th", {}, "lost (t)"), h("th", {}, "first stockout")),
      ...runs.map((r) => h("tr", { class: r.id === selected ? "selected" : "", title: `${r.id} · created ${(r.createdAt || "").slice(0, 19).replace("T", " ")} · ${r.graph ? "twin graph as of " + (r.asOf || "").slice(0, 19).replace("T", " ") : "own network"}` },
        h("td", {}, h("a", { href: `#/supply/${encodeURIComponent(r.id)}` }, r.name || r.id)),
        h("td", { class: "num" }, r.status === "done" ? `${r.runs} × ${r.days} d` : `${r.status} ${r.progress ? r.progress.done + "/" + r.progress.total : ""}`),
        h("td", { class: "num" }, pct(r.kpis?.demandFillRate)),
        h("td", { class: "num" }, r.kpis ? fmt(Math.round(r.kpis.lostTonnes)) : "–"),
        h("td", {}, r.kpis?.firstStockout || "–")))));
    const a = h("select", { id: "cmp-a" }, ...runs.map((r) => h("option", { value: r.id }, r.name || r.id)));
    const b = h("select", { id: "cmp-b" }, ...runs.map((r) => h("option", { value: r.id }, r.name || r.id)));
    if (runs.length > 1) b.value = runs[1].id;
    const out = h("div", {});
    const go = async () => {
      try {
        const [{ data: c }, ...full] = await Promise.all([call("GET", `/scenarios/compare?ids=${encodeURIComponent(a.value)},${encodeURIComponent(b.value)}`),
          call("GET", `/scenarios/${encodeURIComponent(a.value)}`), call("GET", `/scenarios/${encodeURIComponent(b.value)}`)]);
        out.replaceChildren(renderCompare(c, full.map((x) => x.data)));
      } catch (e) { out.replaceChildren(h("p", { class: "error" }, e.message)); }
    };
    if (runs.length < 2) return runs;
    compareBox.replaceChildren(h("div", { class: "row" }, a, "vs", b, h("button", { class: "secondary", id: "cmp-go", onclick: go }, "Compare")), out);
    if (runs.length > 1 && a.value !== b.value) await go();
    return runs;
  }

  async function stress() {
    const raw = document.getElementById("stress-ttr").value;
    stressBox.replaceChildren(h("p", { class: "muted" }, "solving…"));
    // No TTR of the page's own: the server applies its default and says
    // which it used.
    try {
      const { data } = await call("POST", "/scenarios/stress", raw === "" ? {} : { ttrPeriods: +raw });
      stressBox.replaceChildren(renderStress(data));
    } catch (e) { stressBox.replaceChildren(h("p", { class: "error" }, e.message)); }
  }

  main.replaceChildren(
    h("h2", {}, "Supply chain"),
    h("p", { class: "muted" }, "Scenarios run on the network of the twin graph (facility twins and their feeds edges, as of a date); separation plants take capacity and recovery from their process-twin results. Every run is stored as a ScenarioRun twin."),
    h("div", { class: "scenario-box" }, h("h3", {}, "Scenario"),
      h("div", { class: "row" }, preset, h("button", { id: "supply-run", onclick: runScenario }, "Run"), bar, cancel, status), errors, workspace),
    h("div", { class: "split" }, h("div", {}, h("h3", {}, "Stored runs"), runsBox), h("div", {}, h("h3", {}, "Side by side"), compareBox)),
    results,
    h("h3", {}, "Stress test of the graph's network"),
    h("div", { class: "row" }, h("label", {}, "time to recover ", h("input", { id: "stress-ttr", type: "number", min: 1, style: "width:6rem", placeholder: "server default" }), " periods "),
      h("button", { class: "secondary", onclick: stress }, "Solve"),
      h("span", { class: "muted" }, "empty: the server's default TTR, named with the result")),
    stressBox);
  setPreset();
  const runs = await listRuns(arg);
  const pick = arg || (runs[0] && runs[0].id);
  await Promise.all([pick ? showRun(pick).catch((e) => results.replaceChildren(h("p", { class: "error" }, e.message))) : null, stress()]);
  nodeIds = [...new Set([...results.querySelectorAll("#run-nodes td:first-child")].map((td) => td.textContent))];
  fromJSON();
}

// renderStress shows the stress table with the units and definitions the
// server sends (the TTR it used, what REI means); where the server sends
// none, the columns say what is known.
function renderStress(data) {
  const rows = data.scenarios;
  const lg = data.legend || {};
  const units = lg.units || data.units || {};
  const defs = lg.definitions || data.definitions || {};
  const per = lg.periods || data.periods || "periods";
  const u = (k, d) => units[k] || d;
  const th = (k, label, d) => h("th", { title: defs[k] || "" }, `${label} (${u(k, d)})`);
  return h("div", {},
    lg.default_ttr_periods !== undefined ? h("p", { id: "stress-ttr-used" }, lg.default_ttr_used ? "Each node alone, down for " : "The network's own scenarios; the default TTR would be ",
      h("b", {}, `${fmt(lg.default_ttr_periods)} ${per}`), lg.default_ttr_source ? ` (${lg.default_ttr_source})` : "", ".") : null,
    h("table", { id: "stress-table" },
      h("tr", {}, h("th", {}, "disrupted"), th("ttr", "TTR", per), th("tts", "TTS", per), th("shortage_periods", "shortage", per), th("lost_units", "lost", "t"), th("rei", "REI", "0–1"), h("th", { title: defs.exposed || "" }, "exposed")),
      ...rows.map((r) => h("tr", { class: r.exposed ? "exposed" : "" },
        h("td", {}, r.name || (r.disrupted && r.disrupted.length === 0 ? "baseline (nothing disrupted)" : "")), h("td", { class: "num" }, fmt(r.ttr)), h("td", { class: "num" }, (r.tts_capped ? "≥ " : "") + fmt(+r.tts.toPrecision(4))),
        h("td", { class: "num" }, fmt(+r.shortage_periods.toPrecision(4))), h("td", { class: "num" }, fmt(Math.round(r.lost_units))), h("td", { class: "num" }, r.rei.toFixed(3)),
        h("td", {}, r.exposed ? "TTS < TTR" : "")))),
    Object.keys(defs).length
      ? h("dl", { id: "stress-definitions", class: "defs" }, Object.entries(defs).filter(([k]) => ["ttr", "tts", "shortage_periods", "lost_units", "rei", "exposed"].includes(k)).map(([k, v]) => [h("dt", {}, k === "shortage_periods" ? "shortage" : k === "lost_units" ? "lost" : k.toUpperCase()), h("dd", {}, v, units[k] ? h("span", { class: "muted" }, ` — unit: ${units[k]}`) : "")]))
      : h("p", { class: "muted small", id: "stress-definitions" }, "REI: risk exposure index (the server sent no definition with this result)."),
    h("p", { class: "muted" }, `Graph as of ${(data.asOf || "").slice(0, 19).replace("T", " ")}; sorted by exposure (exposed first, by shortage, then by risk exposure index).`));
}

// renderCompare shows two runs side by side. Runs over different horizons
// or start dates are not comparable: the table says so and shows no
// differences. A difference shows its confidence: exact between single
// runs, the interval the server gives for studies, or that none is known.
function renderCompare(c, full = []) {
  const [a, b] = c.runs;
  // ci95 is the half-width of a study mean's 95 % interval; a difference of
  // two independent means has sqrt(ciA² + ciB²) (with common random numbers
  // the true interval is narrower: this errs wide).
  const ciOf = (run, id) => { const n = run && run.result && run.result.nodes && run.result.nodes[id]; return n && n.fill_rate && typeof n.fill_rate === "object" ? n.fill_rate.ci95 : undefined; };
  const diffCI = (key) => {
    if (!key.startsWith("node:")) return undefined;
    const id = key.slice(5), x = ciOf(full[0], id) || 0, y = ciOf(full[1], id) || 0;
    return x || y ? Math.sqrt(x * x + y * y) : undefined;
  };
  const sameHorizon = a.days === b.days && a.start === b.start;
  const mc = a.runs > 1 || b.runs > 1;
  const shown = (d, f) => f(d) !== f(0) && f(d) !== f(-0) && !/^[-+]?0(\.0+)?\s*%?$/.test(f(d).trim());
  const row = (label, vs, f, key) => {
    const d = vs[0] != null && vs[1] != null ? vs[1] - vs[0] : null;
    const diff = (c.diff || {})[key] || {};
    const ci = diff.ci95 ?? diffCI(key);
    const conf = !mc ? "exact (single runs)" : ci !== undefined ? `±${f(ci)} (95 %)` : "no interval reported for this figure";
    // A change inside its interval is not shown as one.
    const real = d != null && shown(d, f) && !(mc && ci !== undefined && Math.abs(d) <= ci);
    return h("tr", {}, h("td", {}, label), h("td", { class: "num" }, vs[0] == null ? "–" : f(vs[0])), h("td", { class: "num" }, vs[1] == null ? "–" : f(vs[1])),
      h("td", { class: "num " + (sameHorizon && real ? "changed" : "") }, !sameHorizon || d == null ? "" : real ? (d > 0 ? "+" : "") + f(d) : shown(d, f) ? `${d > 0 ? "+" : ""}${f(d)} (within the interval)` : "no change"),
      h("td", { class: "muted small" }, sameHorizon && d != null ? conf : ""));
  };
  const nodes = Object.keys(c.nodes).sort().filter((id) => { const v = c.nodes[id]; return v[0] !== v[1]; });
  return h("div", {},
    sameHorizon ? null : h("p", { class: "error", id: "compare-horizon" }, `Not comparable: ${a.name || a.id} runs ${a.days} d from ${a.start}, ${b.name || b.id} ${b.days} d from ${b.start}. Totals over different horizons differ by construction; no differences are shown.`),
    h("table", { id: "compare-table" },
      h("tr", {}, h("th", {}, ""), h("th", {}, `${a.name || a.id} (${a.days} d)`), h("th", {}, `${b.name || b.id} (${b.days} d)`), h("th", {}, "change"), h("th", {}, "confidence")),
      row("demand fill rate", c.kpis.demandFillRate || [], pct, "demandFillRate"),
      row("demand lost (t)", c.kpis.lostTonnes || [], (v) => fmt(Math.round(v)), "lostTonnes"),
      ...nodes.map((id) => row(`${id} fill rate`, c.nodes[id], pct, "node:" + id)),
      nodes.length ? null : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "every node's fill rate is the same in both runs"))));
}
