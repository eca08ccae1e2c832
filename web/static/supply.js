// Supply-chain twin page (#/supply): flows by stage and country (Sankey),
// fill rates and inventories over time with shock and export-control
// periods shaded, the stress table sorted by exposure, a scenario editor
// that runs scenarios on the twin graph's network (progress for Monte Carlo
// studies), and stored runs side by side.
import { el, fmt } from "./charts.js";

const palette = ["#8a4b08", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2", "#ff7f0e"];
const countryColour = { CN: "#d62728", ROW: "#7f7f7f", US: "#1f77b4", AU: "#2ca02c", MY: "#17becf", MM: "#9467bd", JP: "#e377c2", VN: "#bcbd22" };
const stageOrder = ["mine", "concentrator", "separation", "metal", "magnet", "oem", "stockpile", "warehouse"];
const stageUnit = { mine: "t REO", separation: "t REO", metal: "t RE metal", magnet: "t NdFeB", oem: "t NdFeB" };

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

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c.nodeType ? c : String(c));
  return e;
}

async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) { init.body = typeof body === "string" ? body : JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data && data.error) || {};
    const d = (e.details || []).map((x) => x.path).filter(Boolean);
    throw new Error((e.message || `HTTP ${res.status}`) + (d.length ? ` (field ${d.join(", ")})` : ""));
  }
  return { status: res.status, data };
}

const pct = (v) => (typeof v === "number" ? (100 * v).toFixed(1) + "%" : "–");

// --- flows ------------------------------------------------------------------

// estimateFlows returns the tonnes carried by each arc over the run,
// estimated from the KPIs (runs report no per-lane flows): each demand node
// delivers demand × days × fill rate; a node's delivered output draws on its
// inputs by the arcs' ratios, shared among alternative sources of a
// material in proportion to capacity × fill rate; upstream nodes deliver
// what their customers drew. Exported for tests.
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
  // Reverse topological order: a node is done when all its customers are.
  const pending = new Map(net.nodes.map((n) => [n.id, (outArcs.get(n.id) || []).length]));
  const queue = net.nodes.filter((n) => pending.get(n.id) === 0).map((n) => n.id);
  const flow = new Array(net.arcs.length).fill(0);
  const weight = (id) => { const n = byId.get(id); return Math.max((n.capacity_per_period || 0) * fill(id), n.stage === "stockpile" ? 0 : 1e-12); };
  while (queue.length) {
    const j = queue.shift();
    const produced = out.get(j) || 0;
    const groups = new Map();
    for (const i of inArcs.get(j) || []) {
      const m = net.arcs[i].material || net.arcs[i].from;
      (groups.get(m) || groups.set(m, []).get(m)).push(i);
    }
    for (const arcs of groups.values()) {
      const total = arcs.reduce((s, i) => s + weight(net.arcs[i].from), 0);
      for (const i of arcs) {
        const a = net.arcs[i];
        flow[i] = total > 0 ? (produced * a.ratio * weight(a.from)) / total : 0;
        out.set(a.from, (out.get(a.from) || 0) + flow[i]);
        pending.set(a.from, pending.get(a.from) - 1);
        if (pending.get(a.from) === 0) queue.push(a.from);
      }
    }
  }
  return flow;
}

// sankey draws flows aggregated by stage and country: one column per stage,
// one bar per country in it, bands between them as wide as the flow.
export function sankey(net, flow, { width = 1120, height = 420, years = 1 } = {}) {
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "sankey", role: "img" });
  const groupOf = (id) => { const n = net.nodes.find((x) => x.id === id); return { key: `${n.stage}|${n.country || "?"}`, stage: n.stage, country: n.country || "?" }; };
  const groups = new Map();
  const links = new Map();
  net.arcs.forEach((a, i) => {
    const v = flow[i] / years;
    if (!(v > 0)) return;
    const s = groupOf(a.from), t = groupOf(a.to);
    for (const g of [s, t]) if (!groups.has(g.key)) groups.set(g.key, { ...g, in: 0, out: 0 });
    groups.get(s.key).out += v;
    groups.get(t.key).in += v;
    const k = s.key + ">" + t.key;
    links.set(k, { s: s.key, t: t.key, v: (links.get(k)?.v || 0) + v });
  });
  if (groups.size === 0) { svg.appendChild(el("text", { x: 10, y: 20 }, "no flow")); return svg; }
  const stages = stageOrder.filter((s) => [...groups.values()].some((g) => g.stage === s && g.stage !== "stockpile"));
  for (const g of groups.values()) {
    g.size = Math.max(g.in, g.out);
    // A stockpile sits in the column before its customers.
    g.col = g.stage === "stockpile" ? -1 : stages.indexOf(g.stage);
  }
  for (const g of groups.values()) if (g.col < 0) {
    const t = [...links.values()].filter((l) => l.s === g.key).map((l) => groups.get(l.t).col);
    g.col = Math.max(0, Math.min(...t, stages.length) - 1);
  }
  const pad = { l: 10, r: 90, t: 26, b: 8 }, barW = 14, gap = 8;
  const cols = stages.map((_, c) => [...groups.values()].filter((g) => g.col === c).sort((a, b) => b.size - a.size));
  const scale = Math.min(...cols.filter((c) => c.length).map((c) => (height - pad.t - pad.b - gap * (c.length - 1)) / c.reduce((s, g) => s + g.size, 0)));
  const colX = (c) => pad.l + (c / Math.max(stages.length - 1, 1)) * (width - pad.l - pad.r - barW);
  cols.forEach((col, c) => {
    let y = pad.t;
    for (const g of col) { g.x = colX(c); g.y = y; g.h = Math.max(g.size * scale, 1); g.inY = y; g.outY = y; y += g.h + gap; }
  });
  stages.forEach((s, c) => svg.appendChild(el("text", { x: colX(c) + (c === stages.length - 1 ? barW : 0), y: 14, "text-anchor": c === stages.length - 1 ? "end" : c ? "middle" : "start", "font-weight": 600 }, `${s} (${stageUnit[s] || "t"}/yr)`)));
  const ls = [...links.values()].sort((a, b) => groups.get(a.s).y - groups.get(b.s).y || groups.get(a.t).y - groups.get(b.t).y);
  for (const l of ls) {
    const s = groups.get(l.s), t = groups.get(l.t), w = Math.max(l.v * scale, 0.5);
    const y0 = s.outY + w / 2, y1 = t.inY + w / 2;
    s.outY += w; t.inY += w;
    const x0 = s.x + barW, x1 = t.x, xm = (x0 + x1) / 2;
    const p = el("path", { d: `M${x0},${y0} C${xm},${y0} ${xm},${y1} ${x1},${y1}`, fill: "none", stroke: countryColour[s.country] || "#999", "stroke-opacity": 0.35, "stroke-width": w, class: "link" });
    p.appendChild(el("title", {}, `${s.stage} ${s.country} → ${t.stage} ${t.country}: ${fmt(Math.round(l.v))} t/yr`));
    svg.appendChild(p);
  }
  for (const g of groups.values()) {
    const r = el("rect", { x: g.x, y: g.y, width: barW, height: g.h, fill: countryColour[g.country] || "#555", "data-group": `${g.stage}|${g.country}` });
    r.appendChild(el("title", {}, `${g.stage} ${g.country}: ${fmt(Math.round(g.size))} t/yr`));
    svg.appendChild(r);
    if (g.h >= 9) svg.appendChild(el("text", { x: g.x + barW + 3, y: g.y + Math.min(g.h / 2, 12) + 4 }, `${g.country} ${fmt(Math.round(g.size))}`));
  }
  return svg;
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

// timeChart draws monthly series [{name, points:[{month, v}]}] with the
// periods shaded.
export function timeChart(series, shaded, { width = 540, height = 230, title = "", unit = "", start, end, yMin } = {}) {
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "timechart" });
  const pad = { l: 58, r: 10, t: 22 + 13 * Math.ceil(series.length / 3), b: 22 };
  const t0 = Date.parse(start + "T00:00:00Z"), t1 = Date.parse(end + "T00:00:00Z") + 86400e3;
  const mid = (m) => Date.parse(m + "-15T00:00:00Z");
  const vals = series.flatMap((s) => s.points.map((p) => p.v)).filter((v) => isFinite(v));
  let v0 = yMin !== undefined ? yMin : Math.min(0, ...vals), v1 = Math.max(...vals, v0 + 1e-9);
  if (v1 - v0 < 1e-9) v1 = v0 + 1;
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - ((v - v0) / (v1 - v0)) * (height - pad.t - pad.b);
  svg.appendChild(el("text", { x: pad.l, y: 13, "font-weight": 600 }, title + (unit ? ` (${unit})` : "")));
  for (const p of shaded) {
    const a = Math.max(t0, Date.parse(p.from + "T00:00:00Z")), b = Math.min(t1, Date.parse(p.to + "T00:00:00Z") + 86400e3);
    const r = el("rect", { x: x(a), y: pad.t, width: Math.max(x(b) - x(a), 1), height: height - pad.t - pad.b, fill: p.kind === "shock" ? "#d62728" : "#f2b705", "fill-opacity": 0.14, class: `shade ${p.kind}` });
    r.appendChild(el("title", {}, `${p.kind}: ${p.label} ${p.from} → ${p.to}`));
    svg.appendChild(r);
  }
  svg.appendChild(el("line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#999" }));
  svg.appendChild(el("line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#999" }));
  for (const v of [v0, (v0 + v1) / 2, v1]) svg.appendChild(el("text", { x: 4, y: y(v) + 4 }, fmt(+v.toPrecision(3))));
  for (let yr = new Date(t0).getUTCFullYear(); yr <= new Date(t1).getUTCFullYear(); yr++) {
    const t = Date.parse(`${yr}-01-01T00:00:00Z`);
    if (t < t0 || x(t) > width - pad.r - 14) continue;
    svg.appendChild(el("line", { x1: x(t), y1: height - pad.b, x2: x(t), y2: height - pad.b + 4, stroke: "#999" }));
    svg.appendChild(el("text", { x: x(t), y: height - 6, "text-anchor": "middle" }, String(yr)));
  }
  series.forEach((s, i) => {
    const c = palette[i % palette.length];
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${x(mid(p.month)).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    svg.appendChild(el("path", { d, fill: "none", stroke: c, "stroke-width": 1.6, "data-series": s.name }));
    svg.appendChild(el("text", { x: pad.l + 6 + (i % 3) * 160, y: 26 + 13 * Math.floor(i / 3), fill: c, class: "legend" }, s.name));
  });
  return svg;
}

// --- page -------------------------------------------------------------------

export async function supplyPage(main, arg, onCleanup = () => {}) {
  const status = h("p", { class: "muted", id: "supply-status" });
  const results = h("div", { id: "supply-results" });
  const stressBox = h("div", { id: "supply-stress" });
  const runsBox = h("div", { id: "supply-runs" });
  const compareBox = h("div", { id: "supply-compare" });
  const preset = h("select", { id: "supply-preset" }, ...Object.entries(presets).map(([k, p]) => h("option", { value: k }, p.name)));
  const editor = h("textarea", { id: "supply-editor", rows: 12, spellcheck: "false" });
  const setPreset = () => { editor.value = JSON.stringify(presets[preset.value], null, 2); };
  preset.addEventListener("change", setPreset);
  setPreset();
  const bar = h("progress", { id: "supply-progress", max: 1, value: 0, hidden: true });

  async function showRun(id) {
    const { data: run } = await call("GET", `/scenarios/${encodeURIComponent(id)}`);
    results.replaceChildren(...renderRun(run));
  }

  async function runScenario() {
    status.textContent = "running…";
    let body;
    try { body = JSON.parse(editor.value); } catch (e) { status.textContent = "the scenario is not JSON: " + e.message; return; }
    try {
      const { status: st, data: run } = await call("POST", "/scenarios", body);
      if (st === 202) {
        bar.hidden = false; bar.max = run.runs; bar.value = 0;
        await new Promise((resolve) => {
          const es = new EventSource(`/scenarios/${encodeURIComponent(run.id)}/progress`);
          onCleanup(() => es.close());
          es.addEventListener("progress", (m) => {
            const p = JSON.parse(m.data);
            bar.value = p.done;
            status.textContent = `${p.status}: ${p.done}/${p.total} runs`;
            if (p.status !== "running") { es.close(); resolve(); }
          });
          es.onerror = () => { es.close(); resolve(); };
        });
        bar.hidden = true;
      }
      status.textContent = `run ${run.id} stored in the twin graph`;
      await showRun(run.id);
      await listRuns(run.id);
    } catch (e) {
      status.textContent = "";
      results.replaceChildren(h("p", { class: "error" }, e.message));
    }
  }

  async function listRuns(selected) {
    const { data } = await call("GET", "/scenarios");
    const runs = data.value;
    if (runs.length < 2) compareBox.replaceChildren(h("p", { class: "muted" }, "Store two runs to compare them side by side."));
    if (runs.length === 0) { runsBox.replaceChildren(h("p", { class: "muted" }, "No stored run yet: edit a scenario and press Run.")); return runs; }
    runsBox.replaceChildren(h("table", { id: "runs-table" },
      h("tr", {}, h("th", {}, "run"), h("th", {}, "runs"), h("th", {}, "fill rate"), h("th", {}, "lost (t)"), h("th", {}, "first stockout")),
      ...runs.map((r) => h("tr", { class: r.id === selected ? "selected" : "", title: `${r.id} · created ${(r.createdAt || "").slice(0, 19).replace("T", " ")} · ${r.graph ? "twin graph as of " + (r.asOf || "").slice(0, 19).replace("T", " ") : "own network"}` },
        h("td", {}, h("a", { href: `#/supply/${encodeURIComponent(r.id)}` }, r.name || r.id)),
        h("td", { class: "num" }, r.status === "done" ? String(r.runs) : `${r.status} ${r.progress ? r.progress.done + "/" + r.progress.total : ""}`),
        h("td", { class: "num" }, pct(r.kpis?.demandFillRate)),
        h("td", { class: "num" }, r.kpis ? fmt(Math.round(r.kpis.lostTonnes)) : "–"),
        h("td", {}, r.kpis?.firstStockout || "–")))));
    const a = h("select", { id: "cmp-a" }, ...runs.map((r) => h("option", { value: r.id }, r.name || r.id)));
    const b = h("select", { id: "cmp-b" }, ...runs.map((r) => h("option", { value: r.id }, r.name || r.id)));
    if (runs.length > 1) b.value = runs[1].id;
    const out = h("div", {});
    const go = async () => {
      try { const { data: c } = await call("GET", `/scenarios/compare?ids=${encodeURIComponent(a.value)},${encodeURIComponent(b.value)}`); out.replaceChildren(renderCompare(c)); } catch (e) { out.replaceChildren(h("p", { class: "error" }, e.message)); }
    };
    if (runs.length < 2) return runs;
    compareBox.replaceChildren(h("div", { class: "row" }, a, "vs", b, h("button", { class: "secondary", id: "cmp-go", onclick: go }, "Compare")), out);
    if (runs.length > 1 && a.value !== b.value) await go();
    return runs;
  }

  async function stress() {
    const ttr = +document.getElementById("stress-ttr").value;
    stressBox.replaceChildren(h("p", { class: "muted" }, "solving…"));
    try {
      const { data } = await call("POST", "/scenarios/stress", { ttrPeriods: ttr });
      stressBox.replaceChildren(renderStress(data));
    } catch (e) { stressBox.replaceChildren(h("p", { class: "error" }, e.message)); }
  }

  main.replaceChildren(
    h("style", {}, pageCSS),
    h("h2", {}, "Supply chain"),
    h("p", { class: "muted" }, "Scenarios run on the network of the twin graph (facility twins and their feeds edges, as of a date); separation plants take capacity and recovery from their process-twin results. Every run is stored as a ScenarioRun twin."),
    h("div", { class: "split" },
      h("div", {}, h("h3", {}, "Scenario"), h("div", { class: "row" }, preset, h("button", { id: "supply-run", onclick: runScenario }, "Run"), bar), editor, status),
      h("div", {}, h("h3", {}, "Stored runs"), runsBox, h("h3", {}, "Side by side"), compareBox)),
    results,
    h("h3", {}, "Stress test of the graph's network"),
    h("div", { class: "row" }, h("label", {}, "time to recover (days) ", h("input", { id: "stress-ttr", type: "number", value: 120, min: 1, style: "width:6rem" })),
      h("button", { class: "secondary", onclick: stress }, "Solve"),
      h("span", { class: "muted" }, "a choice: qualifying a new supplier takes 4–7 months (research note c.8); 120 days is the low end")),
    stressBox);
  const runs = await listRuns(arg);
  const pick = arg || (runs[0] && runs[0].id);
  await Promise.all([pick ? showRun(pick).catch((e) => results.replaceChildren(h("p", { class: "error" }, e.message))) : null, stress()]);
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
    h("p", { class: "muted" }, `input ${run.inputHash} · ${run.modelVersion}`)];
  for (const p of run.provenance || []) {
    out.push(h("p", { class: "muted provenance" }, `${p.node}: ${p.used ? `capacity ${fmt(p.capacity_tonnes_per_year)} t/yr (facility ${fmt(p.facility_capacity_tonnes_per_year)}) and recovery ${fmt(p.recovery)} from the process twin, ${p.model_version}, ${p.input_hash}` : `process-twin result not used: ${p.why}`}`));
  }
  if (run.status !== "done") { out.push(h("p", { class: run.status === "failed" ? "error" : "muted" }, run.error || run.status)); return out; }
  const flow = estimateFlows(net, res.nodes, run.days);
  out.push(h("h3", {}, "Flows by stage and country"), h("div", { class: "graph-box" }, sankey(net, flow, { years: run.days / 365 })),
    h("p", { class: "muted" }, "Estimated from the run's KPIs: what reached demand, drawn back up the chain by the arcs' ratios and shared among alternative sources by capacity × fill rate (runs report no per-lane flows). Columns are in their own units."));
  const shaded = periods({ ...sc, start: run.start, days: run.days });
  const end = addDays(run.start, run.days - 1);
  const monthly = (id, f) => ((res.nodes[id] || {}).monthly || []).map((m) => ({ month: m.month, v: f(m) }));
  const demand = net.nodes.filter((n) => n.demand_per_period > 0).map((n) => n.id);
  const shortIds = Object.entries(res.nodes).filter(([, v]) => (mc ? v.fill_rate.mean : v.fill_rate) < 0.999).map(([id]) => id);
  const fillIds = [...new Set([...demand, ...shortIds])].slice(0, 8);
  out.push(h("h3", {}, "Over time"), h("div", { class: "charts" },
    timeChart(fillIds.map((id) => ({ name: id, points: monthly(id, (m) => m.fill_rate) })), shaded, { title: "fill rate by month" + (mc ? " (mean over runs)" : ""), start: run.start, end, yMin: 0 }),
    timeChart(demand.map((id) => ({ name: id, points: monthly(id, (m) => m.inventory_end) })), shaded, { title: "inventory at month end" + (mc ? " (mean)" : ""), unit: "t", start: run.start, end })),
    h("p", { class: "muted" }, h("span", { style: "background:#d6272824;padding:0 .4rem" }, "shock"), " ", h("span", { style: "background:#f2b70524;padding:0 .4rem" }, "export control in force")));
  const ids = Object.keys(res.nodes).sort();
  out.push(h("table", { id: "run-nodes" },
    h("tr", {}, h("th", {}, "node"), h("th", {}, "fill rate"), h("th", {}, "lost (t)"), h("th", {}, "stockout days"), h("th", {}, mc ? "P(stockout)" : "first stockout")),
    ...ids.map((id) => {
      const v = res.nodes[id];
      return mc
        ? h("tr", {}, h("td", {}, id), h("td", { class: "num" }, `${pct(v.fill_rate.mean)} (P50 ${pct(v.fill_rate.p50)})`), h("td", { class: "num" }, `${fmt(Math.round(v.lost.mean))} (P95 ${fmt(Math.round(v.lost.p95))})`), h("td", { class: "num" }, fmt(v.stockout_days.mean)), h("td", { class: "num" }, pct(v.p_stockout)))
        : h("tr", {}, h("td", {}, id), h("td", { class: "num" }, pct(v.fill_rate)), h("td", { class: "num" }, fmt(Math.round(v.lost))), h("td", { class: "num" }, String(v.stockout_days)), h("td", {}, v.first_stockout || "–"));
    })));
  return out;
}

// pageCSS styles this page's own elements (the shared style.css is
// another page's concern).
const pageCSS = `
#stress-table tr.exposed td { background:#fbe9e7; }
#stress-table tr.exposed td:last-child { color:var(--bad); font-weight:600; }
#runs-table tr.selected td { background:#fff7e6; }
#compare-table td.changed { color:var(--accent); font-weight:600; }
#supply-editor { min-height:16rem; }
#runs-table { font-size:13px; }
#runs-table td:first-child { max-width:16rem; }
svg.sankey path.link:hover { stroke-opacity:.6; }
`;

function card(big, small) { return h("div", { class: "card" }, h("h3", {}, big), small); }

function renderStress(data) {
  const rows = data.scenarios;
  return h("div", {},
    h("table", { id: "stress-table" },
      h("tr", {}, h("th", {}, "disrupted"), h("th", {}, `TTR (${data.periods})`), h("th", {}, `TTS (${data.periods})`), h("th", {}, "shortage"), h("th", {}, "lost (t)"), h("th", {}, "REI"), h("th", {}, "exposed")),
      ...rows.map((r) => h("tr", { class: r.exposed ? "exposed" : "" },
        h("td", {}, r.name), h("td", { class: "num" }, fmt(r.ttr)), h("td", { class: "num" }, (r.tts_capped ? "≥ " : "") + fmt(+r.tts.toPrecision(4))),
        h("td", { class: "num" }, fmt(+r.shortage_periods.toPrecision(4))), h("td", { class: "num" }, fmt(Math.round(r.lost_units))), h("td", { class: "num" }, r.rei.toFixed(3)),
        h("td", {}, r.exposed ? "TTS < TTR" : "")))),
    h("p", { class: "muted" }, `Graph as of ${(data.asOf || "").slice(0, 19).replace("T", " ")}; each node alone, sorted by exposure (exposed first, by shortage, then by risk exposure index).`));
}

function renderCompare(c) {
  const [a, b] = c.runs;
  const row = (label, vs, f) => {
    const d = vs[0] != null && vs[1] != null ? vs[1] - vs[0] : null;
    return h("tr", {}, h("td", {}, label), h("td", { class: "num" }, vs[0] == null ? "–" : f(vs[0])), h("td", { class: "num" }, vs[1] == null ? "–" : f(vs[1])),
      h("td", { class: "num " + (d && Math.abs(d) > 1e-9 ? "changed" : "") }, d == null ? "" : (d > 0 ? "+" : "") + f(d)));
  };
  const nodes = Object.keys(c.nodes).sort().filter((id) => { const v = c.nodes[id]; return v[0] !== v[1]; });
  return h("table", { id: "compare-table" },
    h("tr", {}, h("th", {}, ""), h("th", {}, a.name || a.id), h("th", {}, b.name || b.id), h("th", {}, "change")),
    row("demand fill rate", c.kpis.demandFillRate || [], pct),
    row("demand lost (t)", c.kpis.lostTonnes || [], (v) => fmt(Math.round(v))),
    ...nodes.map((id) => row(`${id} fill rate`, c.nodes[id], pct)),
    nodes.length ? null : h("tr", {}, h("td", { colspan: 4, class: "muted" }, "every node's fill rate is the same in both runs")));
}
