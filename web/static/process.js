// Process page (#/process, #/process/ID): the process twins (SX cascades)
// and, for one, its steady state from POST /digitaltwins/{id}/simulate as
// a flowsheet diagram with a stream table, stage profiles and a
// McCabe–Thiele diagram of any binary split; the engines, each with its
// workbench (#/process/engine/KEY, engines.js).
import { api } from "./api.js";
import { engines, enginePage } from "./engines.js";
import { chart, fmt } from "./charts.js";
import { h, fail } from "./dom.js";

async function processIndex(main) {
  const [res, doc] = await Promise.all([
    api.query("SELECT T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:lodestone:SXCascade;1')"),
    api.call("GET", "/openapi.json").catch(() => ({ paths: {} })),
  ]);
  const paths = Object.keys(doc.paths || {});
  const twins = res.value.map((r) => r.T);
  main.replaceChildren(h("h2", {}, "Process twins"),
    twins.length
      ? h("table", { id: "process-twins" }, h("tr", {}, h("th", {}, "cascade"), h("th", {}, "name"), h("th", {}, "stages")),
        twins.map((t) => h("tr", {}, h("td", {}, h("a", { href: `#/process/${encodeURIComponent(t.$dtId)}` }, t.$dtId)), h("td", {}, t.name || ""), h("td", { class: "num" }, t.spec && t.spec.stages ? String(t.spec.stages) : ""))))
      : h("p", { class: "muted", id: "process-none" }, "No SXCascade twin in the graph yet. Create one (model dtmi:lodestone:SXCascade;1 with a spec, the SPEC.json of `lodestone sx simulate`) from ", h("a", { href: "#/new-twin/dtmi%3Alodestone%3ASXCascade%3B1" }, "New twin"), "."),
    h("h3", {}, "Engines"),
    h("table", { id: "process-engines" }, h("tr", {}, h("th", {}, "engine"), h("th", {}, "API route"), h("th", {}, "CLI")),
      engines.map((e) => {
        const served = paths.includes(e.route);
        return h("tr", { "data-engine": e.key }, h("td", {}, served ? h("a", { href: `#/process/engine/${e.key}` }, e.name) : e.name),
          h("td", {}, served ? h("code", {}, "POST " + e.route) : h("span", { class: "muted" }, "not served by this server: CLI only")), h("td", {}, h("code", {}, e.cli)));
      })));
}

function metalsOf(stages) {
  const skip = new Set(["H", "Cl", "SO4", "NO3", "Na", "OH", "DEHPA", "PC88A", "HEHEHP", "Cyanex272", "Cyanex923", "TBP"]);
  const seen = new Set();
  for (const s of stages) for (const k of Object.keys(s.aqueous_mg_per_L || {})) if (!skip.has(k)) seen.add(k);
  return [...seen].sort();
}

// flowsheet draws the cascade: stages in a row, the aqueous phase from the
// feed stage down to stage 1 (raffinate), the organic phase from stage 1 up
// to stage N (extract), each inlet where it enters.
export function flowsheet(spec, out) {
  const n = spec.stages || out.stages.length;
  const nodes = [], links = [];
  for (let i = 1; i <= n; i++) nodes.push({ name: `stage ${i}`, x: i * 100, y: 100, symbol: "rect", symbolSize: [56, 34], itemStyle: { color: "#f3efe6", borderColor: "#8a4b08" }, label: { show: true, color: "#1d232a" } });
  for (let i = n; i > 1; i--) links.push({ source: `stage ${i}`, target: `stage ${i - 1}`, lineStyle: { color: "#1f77b4", curveness: 0.25 }, phase: "aqueous" });
  for (let i = 1; i < n; i++) links.push({ source: `stage ${i}`, target: `stage ${i + 1}`, lineStyle: { color: "#8a4b08", curveness: 0.25 }, phase: "organic" });
  (spec.inlets || []).forEach((inl, k) => {
    const name = inl.name || `${inl.phase} in (${k + 1})`;
    nodes.push({ name, x: inl.stage * 100, y: inl.phase === "aqueous" ? 10 : 190, symbol: "roundRect", symbolSize: [90, 24], itemStyle: { color: inl.phase === "aqueous" ? "#dceaf7" : "#f5e3cf" }, label: { show: true, fontSize: 10, color: "#1d232a" } });
    links.push({ source: name, target: `stage ${inl.stage}`, lineStyle: { color: inl.phase === "aqueous" ? "#1f77b4" : "#8a4b08" } });
  });
  nodes.push({ name: "raffinate", x: 0, y: 100, symbol: "roundRect", symbolSize: [80, 24], itemStyle: { color: "#dceaf7" }, label: { show: true, fontSize: 10, color: "#1d232a" } });
  nodes.push({ name: "loaded organic", x: (n + 1) * 100, y: 100, symbol: "roundRect", symbolSize: [96, 24], itemStyle: { color: "#f5e3cf" }, label: { show: true, fontSize: 10, color: "#1d232a" } });
  links.push({ source: "stage 1", target: "raffinate", lineStyle: { color: "#1f77b4" } }, { source: `stage ${n}`, target: "loaded organic", lineStyle: { color: "#8a4b08" } });
  const option = {
    animation: false, tooltip: { formatter: (p) => (p.dataType === "edge" ? `${p.data.source} → ${p.data.target}` : p.name) },
    series: [{ type: "graph", layout: "none", data: nodes, links, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 7, lineStyle: { width: 2, opacity: 0.8 }, label: { position: "inside" }, roam: true, left: 40, right: 40, top: 20, bottom: 20 }],
  };
  const box = chart(option, { height: 220, id: "flowsheet", cls: "flowsheet" });
  box.dataset.stages = String(n);
  return h("div", {}, box, h("p", { class: "muted small" }, "Blue: aqueous, stage N → 1; brown: organic, stage 1 → N (counter-current)."));
}

// streamTable lists every stream in and out: phase, stage, flow (L/h) and
// composition (mg/L) per species.
export function streamTable(spec, out) {
  const streams = [
    ...(spec.inlets || []).map((s, k) => ({ name: s.name || `${s.phase} in (${k + 1})`, dir: "in", phase: s.phase, stage: s.stage, flow: s.flow_L_per_h, c: s.mg_per_L || {} })),
    { name: "raffinate", dir: "out", phase: "aqueous", stage: out.outlets.aqueous.stage, flow: out.outlets.aqueous.flow_L_per_h, c: out.outlets.aqueous.mg_per_L || {} },
    { name: "loaded organic", dir: "out", phase: "organic", stage: out.outlets.organic.stage, flow: out.outlets.organic.flow_L_per_h, c: out.outlets.organic.mg_per_L || {} },
  ];
  const species = [...new Set(streams.flatMap((s) => Object.keys(s.c)))].sort();
  return h("table", { id: "stream-table" },
    h("tr", {}, h("th", {}, "stream"), h("th", {}, ""), h("th", {}, "phase"), h("th", {}, "stage"), h("th", {}, "flow (L/h)"), species.map((sp) => h("th", {}, `${sp} (mg/L)`))),
    streams.map((s) => h("tr", { "data-stream": s.name }, h("td", {}, s.name), h("td", {}, s.dir), h("td", {}, s.phase), h("td", { class: "num" }, String(s.stage ?? "")), h("td", { class: "num" }, fmt(s.flow)),
      species.map((sp) => h("td", { class: "num" }, s.c[sp] === undefined ? "" : fmt(s.c[sp]))))));
}

// stageProfiles draws each metal's concentration by stage, aqueous solid
// and organic dashed, on a log axis.
export function stageProfiles(stages) {
  const metals = metalsOf(stages);
  const series = metals.flatMap((m, i) => {
    const c = ["#8a4b08", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#bcbd22", "#e377c2"][i % 8];
    const pos = (v) => (v > 0 ? v : null);
    return [
      { name: `${m} aq`, type: "line", color: c, data: stages.map((s) => [s.stage, pos((s.aqueous_mg_per_L || {})[m])]) },
      { name: `${m} org`, type: "line", color: c, lineStyle: { type: "dashed" }, data: stages.map((s) => [s.stage, pos((s.organic_mg_per_L || {})[m])]) },
    ];
  });
  return chart({
    animation: false, title: { text: "concentration by stage (mg/L)", textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" }, legend: { top: 24, type: "scroll" },
    grid: { left: 64, right: 16, top: 58, bottom: 36 }, xAxis: { type: "value", name: "stage", minInterval: 1, min: 1, max: stages.length }, yAxis: { type: "log", name: "mg/L", axisLabel: { formatter: (v) => fmt(v) } }, series,
  }, { height: 300, id: "stage-profiles", cls: "profiles" });
}

// mccabeThiele draws the binary split a/b: each stage's a-fraction in the
// aqueous (x) and organic (y), the staircase through them and the
// equilibrium curve for the mean separation factor β = D_a / D_b.
function mccabeThiele(stages, a, b) {
  const frac = (c) => { const va = c[a] || 0, vb = c[b] || 0; return va + vb > 0 ? va / (va + vb) : NaN; };
  const betas = stages.map((s) => (s.D && s.D[a] && s.D[b] ? s.D[a] / s.D[b] : NaN)).filter((v) => isFinite(v) && v > 0);
  const beta = betas.length ? Math.exp(betas.reduce((s, v) => s + Math.log(v), 0) / betas.length) : NaN;
  const pts = stages.map((s) => ({ s: s.stage, x: frac(s.aqueous_mg_per_L || {}), y: frac(s.organic_mg_per_L || {}) })).filter((p) => isFinite(p.x) && isFinite(p.y));
  const steps = [];
  pts.forEach((p, i) => { steps.push([p.x, p.y]); if (i + 1 < pts.length) steps.push([pts[i + 1].x, p.y]); });
  const series = [
    { name: "y = x", type: "line", data: [[0, 0], [1, 1]], symbol: "none", lineStyle: { color: "#999", type: "dotted" } },
    { name: "stages", type: "line", data: steps, symbol: "circle", symbolSize: 4, color: "#8a4b08" },
  ];
  if (isFinite(beta)) series.push({ name: `equilibrium, β = ${fmt(beta)}`, type: "line", symbol: "none", color: "#1f77b4", data: Array.from({ length: 51 }, (_, i) => { const x = i / 50; return [x, (beta * x) / (1 + (beta - 1) * x)]; }) });
  return chart({
    animation: false, title: { text: `McCabe–Thiele, ${a}/(${a}+${b})`, textStyle: { fontSize: 12 } }, tooltip: { trigger: "item", formatter: (p) => `x = ${fmt(p.data[0])}, y = ${fmt(p.data[1])}` },
    legend: { top: 24 }, grid: { left: 56, right: 16, top: 58, bottom: 40 },
    xAxis: { type: "value", min: 0, max: 1, name: `x (aqueous ${a} fraction)`, nameLocation: "middle", nameGap: 24 }, yAxis: { type: "value", min: 0, max: 1, name: `y (organic ${a} fraction)` }, series,
  }, { height: 360, id: "mccabe-thiele", cls: "mccabe" });
}

function pairs(ms) {
  const out = [];
  for (let i = 0; i < ms.length; i++) for (let j = i + 1; j < ms.length; j++) out.push([ms[i], ms[j]]);
  return out;
}

// processPage shows an SXCascade twin and runs its simulation.
export async function processPage(main, id) {
  if (!id) return processIndex(main);
  if (id.startsWith("engine/")) return enginePage(main, id.slice("engine/".length));
  const out = h("div", { id: "process-result" });
  const status = h("p", { class: "muted", id: "process-status" });
  let spec = {}, twin;
  try { twin = await api.twin(id); spec = twin.spec || {}; } catch (e) { main.replaceChildren(fail(e)); return; }
  if (!twin.spec) {
    // A cascade described but not specified: nothing to simulate yet.
    main.replaceChildren(h("h2", {}, "Process twin ", h("a", { href: `#/twin/${encodeURIComponent(id)}` }, id)),
      h("p", { id: "process-no-spec" }, `${twin.name || id} has no spec, so there is no flowsheet or stream table to show: the steady state needs the cascade's SPEC.json (the input of `, h("code", {}, "lodestone sx simulate"), ") in its spec property. Edit the twin to add one."),
      twin.notes ? h("p", { class: "muted" }, twin.notes) : null, h("p", {}, h("a", { href: "#/process" }, "all process twins and engines")));
    return;
  }
  async function run(dryRun) {
    status.textContent = "simulating…";
    out.replaceChildren();
    const res = await fetch(`/digitaltwins/${encodeURIComponent(id)}/simulate`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ dryRun }) });
    const body = await res.json();
    if (!res.ok) { status.textContent = ""; out.append(h("p", { class: "error" }, (body.error && body.error.message) || `HTTP ${res.status}`)); return; }
    const r = body.result;
    status.textContent = `${r.converged ? "converged" : "NOT CONVERGED"} in ${r.iterations} iterations, mass-balance closure ${fmt(r.closure_max)}` + (body.written.length ? ` · results written to ${body.written.join(", ")}` : " · dry run");
    const metals = metalsOf(r.stages);
    const table = h("table", { id: "recovery-table" }, h("tr", {}, h("th", {}, "product"), ...metals.map((m) => h("th", {}, `${m} (fraction)`))),
      ...Object.keys(r.recovery || {}).sort().map((p) => h("tr", {}, h("td", {}, `${p} recovery`), ...metals.map((m) => h("td", { class: "num" }, fmt((r.recovery[p] || {})[m] ?? NaN))))),
      ...Object.keys(r.purity || {}).sort().map((p) => h("tr", {}, h("td", {}, `${p} purity`), ...metals.map((m) => h("td", { class: "num" }, fmt((r.purity[p] || {})[m] ?? NaN))))));
    out.append(h("h3", {}, "Flowsheet"), flowsheet(spec, r), h("h3", {}, "Streams"), streamTable(spec, r),
      h("h3", {}, "Stage profiles"), stageProfiles(r.stages));
    if (metals.length >= 2) {
      const pick = h("select", { id: "mt-pair" }, ...pairs(metals).flatMap(([a, b]) => [h("option", { value: `${a}/${b}` }, `${a} / ${b}`), h("option", { value: `${b}/${a}` }, `${b} / ${a}`)]));
      const box = h("div", {});
      const draw = () => { const [a, b] = pick.value.split("/"); box.replaceChildren(mccabeThiele(r.stages, a, b)); };
      pick.addEventListener("change", draw);
      out.append(h("h3", {}, "Design: McCabe–Thiele (binary split)"), h("div", { class: "row" }, pick), box);
      draw();
    }
    const rg = r.reagents || {};
    out.append(h("h3", {}, "Recovery and purity"), table,
      h("p", { class: "muted" }, `${fmt(body.summary.throughputCapacityTonnesReoPerYear)} t REO/yr · acid ${fmt(body.summary.acidKgPerTonneReo)} kg/t REO · base ${fmt(body.summary.baseKgPerTonneReo)} kg/t REO · acid consumed ${fmt(rg.acid_consumed_mol_per_h || 0)} mol/h · input ${body.inputHash.slice(0, 19)}… · ${body.modelVersion}`),
      h("ul", { class: "muted" }, ...body.assumptions.map((a) => h("li", {}, a))));
  }
  main.replaceChildren(h("h2", {}, "Process twin ", h("a", { href: `#/twin/${encodeURIComponent(id)}` }, id)),
    h("div", { class: "row" }, h("button", { id: "simulate", onclick: () => run(false).catch((e) => (status.textContent = e.message)) }, "Simulate and write back"),
      h("button", { class: "secondary", onclick: () => run(true).catch((e) => (status.textContent = e.message)) }, "Dry run"),
      h("a", { href: "#/process" }, "all process twins and engines")),
    status, out);
  // A dry run is cheap (milliseconds): show the results at once.
  await run(true).catch((e) => (status.textContent = e.message));
}
