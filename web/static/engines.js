// Engine workbench (#/process/engine/KEY): run one process engine through
// its API route (POST /process/…) on a spec, starting from the bundled
// examples (GET /process/examples), and draw its result: SX steady state
// (flowsheet, streams, profiles), design (McCabe–Thiele), dynamics (time
// series), precipitation and calcination balances, plant flowsheet with
// its stream table.
import { api, APIError } from "./api.js";
import { chart, fmt } from "./charts.js";
import { h, fail } from "./dom.js";
import { flowsheet, streamTable, stageProfiles } from "./process.js";

// engines are the routes of the process engines, their CLI commands and
// their result views; the route is also the key of the example folder.
export const engines = [
  { key: "sx", name: "SX steady state (cascade profiles, recovery, purity)", cli: "lodestone sx simulate SPEC.json", route: "/process/sx/simulate", view: sxView },
  { key: "sx-design", name: "SX design (Xu's theory, McCabe–Thiele)", cli: "lodestone sx design SPEC.json", route: "/process/sx/design", view: designView },
  { key: "sx-dynamic", name: "SX dynamics (time series with disturbances)", cli: "lodestone sx dynamic SPEC.json", route: "/process/sx/dynamic", view: dynamicView },
  { key: "precip", name: "Precipitation balance", cli: "lodestone precip simulate SPEC.json", route: "/process/precip/simulate", view: precipView },
  { key: "calcine", name: "Calcination balance", cli: "lodestone calcine simulate SPEC.json", route: "/process/calcine/simulate", view: calcineView },
  { key: "flowsheet", name: "Plant flowsheet (SX → precipitation → calcination, stream table)", cli: "lodestone flowsheet run SPEC.json", route: "/process/flowsheet/run", view: plantView },
];

const table = (id, head, rows) => h("table", { id }, h("tr", {}, head.map((c) => h("th", {}, c))), rows.map((r) => h("tr", {}, r.map((c) => h("td", { class: typeof c === "number" ? "num" : "" }, typeof c === "number" ? fmt(c) : c)))));
const keys = (...maps) => [...new Set(maps.flatMap((m) => Object.keys(m || {})))].sort();

function sxView(spec, r) {
  return [h("p", { class: "muted", id: "engine-summary" }, `${r.converged ? "converged" : "NOT CONVERGED"} in ${r.iterations} iterations, closure ${fmt(r.closure_max)}`),
    h("h3", {}, "Flowsheet"), flowsheet(spec, r), h("h3", {}, "Streams"), streamTable(spec, r), h("h3", {}, "Stage profiles"), stageProfiles(r.stages)];
}

// mccabeThiele steps Xu's constant-flow idealisation of an aqueous-feed
// binary design (RE mole fractions of A; organic flow S, aqueous W+1 in
// extraction and W in scrub, per mol fed) from the raffinate, switching to
// the scrub operating line past the lines' intersection, as the design
// package's own stage-by-stage check does.
function mccabeThiele(spec, o) {
  const beta = spec.beta, fA = spec.feed_fraction_A, PA = spec.purity_A, PB = spec.purity_B;
  const S = o.S, W = o.W, L = W + 1, fa = o.fA_prime, fb = 1 - o.fA_prime;
  const eq = (x) => (beta * x) / (1 + (beta - 1) * x);
  const x1 = 1 - PB, yInt = (L * fA - fb * x1) / S;
  const steps = [[x1, x1]];
  let x = x1, n = 0;
  for (let i = 1; i <= 500; i++) {
    const y = eq(x);
    steps.push([x, y]);
    if (y >= PA) break;
    if (!n && y >= yInt) n = i;
    x = n ? (S * y - fa * PA) / W : (S * y + fb * x1) / L;
    steps.push([x, y]);
  }
  const series = [
    { name: "y = x", type: "line", data: [[0, 0], [1, 1]], symbol: "none", lineStyle: { color: "#999", type: "dotted" } },
    { name: `equilibrium, β = ${fmt(beta)}`, type: "line", symbol: "none", color: "#1f77b4", data: Array.from({ length: 51 }, (_, i) => [i / 50, eq(i / 50)]) },
    { name: "extraction line", type: "line", symbol: "none", color: "#2ca02c", data: [[x1, (L * x1 - fb * x1) / S], [fA, yInt]] },
    { name: "scrub line", type: "line", symbol: "none", color: "#d62728", data: [[fA, yInt], [PA, (W * PA + fa * PA) / S]] },
    { name: "stages", type: "line", data: steps, symbol: "circle", symbolSize: 3, color: "#8a4b08" },
  ];
  const box = chart({
    animation: false, title: { text: "McCabe–Thiele (A fraction of the rare earths)", textStyle: { fontSize: 12 } }, legend: { top: 24, type: "scroll" }, grid: { left: 56, right: 16, top: 58, bottom: 40 },
    tooltip: { trigger: "item", formatter: (p) => `x = ${fmt(p.data[0])}, y = ${fmt(p.data[1])}` },
    xAxis: { type: "value", min: 0, max: 1, name: "x (aqueous)", nameLocation: "middle", nameGap: 24 }, yAxis: { type: "value", min: 0, max: 1, name: "y (organic)" }, series,
  }, { height: 380, id: "design-mccabe", cls: "mccabe" });
  box.dataset.steps = String(Math.floor(steps.length / 2));
  return box;
}

function designView(spec, o) {
  const c = o.check || {}, at = c.at_design_stages || {};
  const out = [table("design-table", ["regime", "S (min)", "W (min)", "extraction stages", "scrub stages", "feed stage", "N min"],
    [[o.regime, `${fmt(o.S)} (${fmt(o.S_min)})`, `${fmt(o.W)} (${fmt(o.W_min)})`, o.n_extraction, o.m_scrub, o.feed_stage, o.N_min]]),
  h("p", { class: "muted" }, `rigorous check (${c.model}): purity A ${fmt(at.purity_A)}, purity B ${fmt(at.purity_B)}, targets met: ${at.meets_targets}`)];
  if (typeof spec.beta === "number" && spec.feed_phase !== "organic") out.push(h("h3", {}, "McCabe–Thiele"), mccabeThiele(spec, o));
  else out.push(h("p", { class: "muted", id: "design-no-mccabe" }, "The McCabe–Thiele diagram is drawn for a binary split with an aqueous feed; this spec is a multi-component cut or has an organic feed."));
  return out;
}

function dynamicView(spec, o) {
  const names = keys(o.outlets.aqueous.mg_per_L).filter((n) => !["H", "Cl", "SO4", "Na"].includes(n));
  const series = names.flatMap((n, i) => {
    const c = ["#8a4b08", "#1f77b4", "#2ca02c", "#d62728", "#9467bd"][i % 5];
    return [{ name: `${n} raffinate`, type: "line", showSymbol: false, color: c, data: o.times_h.map((t, j) => [t, o.outlets.aqueous.mg_per_L[n][j]]) },
      { name: `${n} extract`, type: "line", showSymbol: false, color: c, lineStyle: { type: "dashed" }, data: o.times_h.map((t, j) => [t, o.outlets.organic.mg_per_L[n][j]]) }];
  });
  const marks = (spec.disturbances || []).map((d) => ({ xAxis: d.at_h, label: { formatter: `${d.kind} ${d.field}` } }));
  if (series.length) series[0].markLine = { symbol: "none", lineStyle: { color: "#999" }, data: marks };
  const box = chart({
    animation: false, title: { text: "outlets over time (mg/L); grey lines: disturbances", textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" }, legend: { top: 24, type: "scroll" },
    grid: { left: 64, right: 16, top: 58, bottom: 36 }, xAxis: { type: "value", name: "h" }, yAxis: { type: "value", name: "mg/L", scale: true }, series,
  }, { height: 340, id: "dynamic-series", cls: "timechart" });
  box.dataset.series = String(series.length);
  box.dataset.disturbances = String(marks.length);
  return [h("p", { class: "muted", id: "engine-summary" }, `${o.steps} steps over ${fmt(o.duration_h)} h; ` + (o.steady_state_reached ? `steady from ${fmt(o.time_to_steady_state_h)} h` : `steady state not reached (deviation ${fmt(o.deviation)} > ${fmt(o.steady_tolerance)})`)), box];
}

function precipView(spec, o) {
  const oa = o.oxalic_acid_mol_per_h || {};
  return [table("precip-solids", ["solid", "hydrate H2O", "mol/h", "kg/h", "precipitated"], o.solids.map((s) => [s.formula, s.hydrate_water, s.mol_per_h, s.kg_per_h, `${fmt(100 * (o.conversion[s.element] || 0))} %`])),
    h("h3", {}, "Liquor out"), table("precip-liquor", ["flow (L/h)", ...keys(o.aqueous_out.mg_per_L).map((k) => `${k} (mg/L)`)], [[o.aqueous_out.flow_L_per_h, ...keys(o.aqueous_out.mg_per_L).map((k) => o.aqueous_out.mg_per_L[k])]]),
    h("p", { class: "muted" }, `model ${o.model}; oxalic acid (mol/h) supplied ${fmt(oa.supplied)}, bound ${fmt(oa.consumed)}, required ${fmt(oa.required)}; acid released ${fmt(o.acid_released_mol_per_h)} mol/h` + (o.oxalate_limited ? "; oxalate-limited" : ""))];
}

function calcineView(spec, o) {
  const g = o.gas_out;
  return [table("calcine-product", ["oxide", "mol/s", "kg/s", "mass fraction"], o.product.oxides.map((x) => [x.formula, x.mol_per_s, x.kg_per_s, o.product.mass_fractions[x.element] ?? ""])),
    h("h3", {}, "Off-gas"), table("calcine-gas", ["mol/s", "T (K)", ...keys(g.mole_fractions).map((k) => `y ${k}`)], [[g.mol_per_s, g.temperature_K, ...keys(g.mole_fractions).map((k) => g.mole_fractions[k])]]),
    h("p", { class: "muted" }, `feed ${fmt(o.feed_kg_per_s)} kg/s, mass loss ${fmt(100 * o.mass_loss)} %, O2 demand ${fmt(o.o2_demand_mol_per_s)} mol/s, heat duty ` + (o.heat_duty_W === null ? "not computed (see notes)" : `${fmt(o.heat_duty_W)} W`)),
    h("ul", { class: "muted" }, (o.notes || []).map((n) => h("li", {}, n)))];
}

// plantView draws the plant as units joined by streams and lists every
// stream with its flow and composition.
function plantView(spec, o) {
  const liq = (name, from, to, s) => ({ name, from, to, flow: `${fmt(s.flow_L_per_h)} L/h`, c: s.mg_per_L || {} });
  const solid = (name, from, to, s) => ({ name, from, to, flow: `${fmt(s.kg_per_s * 3600)} kg/h`, c: Object.fromEntries(Object.entries(s.mass_fractions || {}).map(([k, v]) => [k, `${fmt(100 * v)} %`])) });
  const streams = [
    liq("load raffinate", "SX load", "out", o.load.raffinate), liq("loaded organic", "SX load", "SX strip", o.load.extract),
    liq("stripped organic", "SX strip", "SX load", o.strip.extract), liq("strip liquor", "SX strip", "precipitation", o.strip_liquor),
    liq("precipitation liquor", "precipitation", "out", o.precipitation.aqueous_out),
    solid("oxide product", "calcination", "product", o.calcination.product), solid("dust", "calcination", "out", o.calcination.dust),
  ];
  const units = ["SX load", "SX strip", "precipitation", "filtration", "calcination"];
  const nodes = units.map((u, i) => ({ name: u, x: i * 160, y: 100, symbol: "rect", symbolSize: [104, 36], itemStyle: { color: "#f3efe6", borderColor: "#8a4b08" }, label: { show: true, color: "#1d232a" } }));
  const links = [["SX load", "SX strip"], ["SX strip", "SX load"], ["SX strip", "precipitation"], ["precipitation", "filtration"], ["filtration", "calcination"]]
    .map(([a, b]) => ({ source: a, target: b, lineStyle: { curveness: a === "SX strip" && b === "SX load" ? 0.4 : 0.1 } }));
  const box = chart({ animation: false, series: [{ type: "graph", layout: "none", data: nodes, links, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8, lineStyle: { width: 2, color: "#1f77b4" }, label: { position: "inside" }, left: 60, right: 60, top: 30, bottom: 30 }] },
    { height: 200, id: "plant-flowsheet", cls: "flowsheet" });
  box.dataset.units = String(units.length);
  const species = keys(...streams.map((s) => s.c));
  const st = h("table", { id: "plant-streams" }, h("tr", {}, h("th", {}, "stream"), h("th", {}, "from"), h("th", {}, "to"), h("th", {}, "flow"), species.map((k) => h("th", {}, k))),
    streams.map((s) => h("tr", { "data-stream": s.name }, h("td", {}, s.name), h("td", {}, s.from), h("td", {}, s.to), h("td", { class: "num" }, s.flow),
      species.map((k) => h("td", { class: "num" }, s.c[k] === undefined ? "" : typeof s.c[k] === "number" ? fmt(s.c[k]) : s.c[k])))));
  const rg = o.reagents || {};
  return [h("p", { class: "muted", id: "engine-summary" }, `${o.converged ? "converged" : "NOT CONVERGED"} in ${o.iterations} recycle passes; ${fmt(o.reo_kg_per_h)} kg/h REO (${fmt(100 * o.reo_purity)} % REO); oxalic acid ${fmt(rg.oxalic_acid_kg_per_t_REO)} kg/t REO, ${rg.acid} ${fmt(rg.acid_kg_per_t_REO)} kg/t REO`),
    h("h3", {}, "Flowsheet"), box, h("p", { class: "muted small" }, "Liquor concentrations in mg/L; solids as mass fractions of the oxide."), h("h3", {}, "Stream table"), st,
    h("h3", {}, "Recovery and purity"), table("plant-recovery", ["metal", "recovery", "oxide mass fraction"], keys(o.recovery).map((k) => [k, o.recovery[k], o.purity[k] ?? ""]))];
}

// enginePage is the workbench of one engine.
export async function enginePage(main, key) {
  const eng = engines.find((e) => e.key === key);
  if (!eng) { main.replaceChildren(fail(`no engine ${key}`), h("a", { href: "#/process" }, "all engines")); return; }
  let examples = [];
  try { examples = (await api.call("GET", "/process/examples")).examples.filter((x) => x.engine === key); } catch (e) { examples = []; }
  const text = h("textarea", { id: "engine-spec", rows: 16, cols: 90, spellcheck: "false", "data-path": "" });
  const pick = h("select", { id: "engine-example" }, examples.map((x) => h("option", { value: x.name }, x.name)));
  const load = () => { const x = examples.find((e) => e.name === pick.value); if (x) text.value = JSON.stringify(x.spec, null, 2); };
  pick.addEventListener("change", load);
  load();
  const status = h("p", { class: "muted", id: "engine-status" });
  const out = h("div", { id: "engine-result" });
  let runs = 0;
  // run posts the spec; a result that arrives after a newer run started is
  // dropped, so the page always shows the last spec run.
  async function run() {
    const mine = ++runs;
    out.replaceChildren();
    let spec;
    try { spec = JSON.parse(text.value); } catch (e) { status.textContent = ""; out.append(h("p", { class: "error field-error", "data-for": "" }, `spec is not JSON: ${e.message}`)); return; }
    status.textContent = "running…";
    try {
      const res = await api.call("POST", eng.route, text.value);
      if (mine !== runs) return;
      status.textContent = `POST ${eng.route}: done`;
      out.append(...eng.view(spec, res));
    } catch (e) {
      if (mine !== runs) return;
      status.textContent = "";
      const d = e instanceof APIError && e.details.length ? e.details[0] : null;
      out.append(h("p", { class: "error field-error", "data-for": d ? d.path : "" }, d && d.path ? `${d.path}: ${d.message}` : e.message));
    }
  }
  main.replaceChildren(h("h2", {}, eng.name),
    h("p", { class: "muted" }, "POST ", h("code", {}, eng.route), " takes the SPEC.json of ", h("code", {}, eng.cli), " and answers its --json output. Start from a bundled example (examples/", key, "); its figures and their sources are in examples/ and docs/formats/."),
    h("div", { class: "row" }, h("label", {}, "example ", pick), h("button", { id: "engine-run", onclick: () => run() }, "Run"), h("a", { href: "#/process" }, "all process twins and engines")),
    text, status, out);
  if (examples.length) await run();
}
