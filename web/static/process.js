// Process twin page: run an SXCascade twin's simulation and draw its stage
// profiles (log scale, both phases) and, for a binary split, a
// McCabe–Thiele style diagram of the stages.
import { el, fmt } from "./charts.js";

const palette = ["#8a4b08", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2", "#ff7f0e"];

// metalsOf lists the elements present in the stage profiles, without
// protons, anions and extractants (they are not metals being separated).
export function metalsOf(stages) {
  const skip = new Set(["H", "HSO4", "SO4", "Cl", "NO3", "H2C2O4", "C2O4", "DEHPA", "PC88A", "P507", "Cyanex272", "Na", "NH4"]);
  const s = new Set();
  for (const st of stages) for (const k of Object.keys(st.aqueous_mg_per_L || {})) if (!skip.has(k)) s.add(k);
  return [...s].sort();
}

// stageProfiles draws mg/L by stage for each metal: aqueous solid, organic dashed, log scale.
export function stageProfiles(stages, { width = 640, height = 300 } = {}) {
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "profiles", role: "img" });
  const metals = metalsOf(stages);
  const pad = { l: 60, r: 110, t: 12, b: 32 };
  const vals = [];
  for (const st of stages) for (const m of metals) for (const ph of ["aqueous_mg_per_L", "organic_mg_per_L"]) {
    const v = (st[ph] || {})[m];
    if (v > 0) vals.push(v);
  }
  if (vals.length === 0) { svg.appendChild(el("text", { x: 10, y: 20 }, "no metal in the cascade")); return svg; }
  let lo = Math.log10(Math.max(Math.min(...vals), 1e-6)), hi = Math.log10(Math.max(...vals));
  lo = Math.floor(Math.max(lo, hi - 9)); hi = Math.ceil(hi);
  if (lo === hi) lo -= 1;
  const n = stages.length;
  const x = (s) => pad.l + ((s - 1) / Math.max(n - 1, 1)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (height - pad.t - pad.b);
  svg.appendChild(el("line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#999" }));
  svg.appendChild(el("line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#999" }));
  for (let d = lo; d <= hi; d++) {
    svg.appendChild(el("text", { x: 4, y: y(10 ** d) + 4 }, `1e${d}`));
    svg.appendChild(el("line", { x1: pad.l, y1: y(10 ** d), x2: width - pad.r, y2: y(10 ** d), stroke: "#eee" }));
  }
  for (const st of stages) if (n <= 30 || st.stage % 5 === 0 || st.stage === 1) svg.appendChild(el("text", { x: x(st.stage) - 4, y: height - pad.b + 14 }, String(st.stage)));
  svg.appendChild(el("text", { x: (width - pad.r) / 2, y: height - 4 }, "stage (organic 1 → N, aqueous N → 1)"));
  metals.forEach((m, i) => {
    const c = palette[i % palette.length];
    for (const [ph, dash] of [["aqueous_mg_per_L", ""], ["organic_mg_per_L", "5,3"]]) {
      const d = stages.map((st, j) => `${j ? "L" : "M"}${x(st.stage).toFixed(1)},${y((st[ph] || {})[m] || 0).toFixed(1)}`).join(" ");
      svg.appendChild(el("path", { d, fill: "none", stroke: c, "stroke-width": 1.6, "stroke-dasharray": dash, "data-metal": m, "data-phase": ph }));
    }
    svg.appendChild(el("text", { x: width - pad.r + 8, y: pad.t + 14 + i * 14, fill: c }, m));
  });
  svg.appendChild(el("text", { x: width - pad.r + 8, y: height - pad.b - 18 }, "— aqueous"));
  svg.appendChild(el("text", { x: width - pad.r + 8, y: height - pad.b - 4 }, "- - organic"));
  return svg;
}

// mccabeThiele draws, for metals a (more extractable) and b, the fraction of
// a among the two in the aqueous (x) and organic (y) of every stage, the
// stage-to-stage steps, and the equilibrium curve y = βx / (1 + (β−1)x)
// with β the mean D_a/D_b over the stages.
export function mccabeThiele(stages, a, b, { size = 320 } = {}) {
  const svg = el("svg", { width: size, height: size, viewBox: `0 0 ${size} ${size}`, class: "mccabe", role: "img" });
  const pad = 36, w = size - 2 * pad;
  const px = (v) => pad + v * w, py = (v) => size - pad - v * w;
  svg.appendChild(el("rect", { x: pad, y: pad, width: w, height: w, fill: "none", stroke: "#999" }));
  svg.appendChild(el("line", { x1: px(0), y1: py(0), x2: px(1), y2: py(1), stroke: "#ccc" }));
  svg.appendChild(el("text", { x: pad, y: size - 8 }, `x = ${a}/(${a}+${b}) aqueous`));
  svg.appendChild(el("text", { x: 4, y: pad - 10 }, `y = ${a}/(${a}+${b}) organic`));
  const frac = (m) => { const va = m[a] || 0, vb = m[b] || 0; return va + vb > 0 ? va / (va + vb) : NaN; };
  const betas = stages.map((st) => (st.D && st.D[a] && st.D[b] ? st.D[a] / st.D[b] : NaN)).filter((v) => isFinite(v) && v > 0);
  const beta = betas.length ? Math.exp(betas.reduce((s, v) => s + Math.log(v), 0) / betas.length) : NaN;
  if (isFinite(beta)) {
    let d = "";
    for (let i = 0; i <= 50; i++) { const xv = i / 50, yv = (beta * xv) / (1 + (beta - 1) * xv); d += `${i ? "L" : "M"}${px(xv).toFixed(1)},${py(yv).toFixed(1)}`; }
    svg.appendChild(el("path", { d, fill: "none", stroke: "#1f77b4", "stroke-width": 1.4 }));
    svg.appendChild(el("text", { x: px(0.55), y: py(0.2) }, `β = ${fmt(beta)}`));
  }
  const pts = stages.map((st) => ({ s: st.stage, x: frac(st.aqueous_mg_per_L || {}), y: frac(st.organic_mg_per_L || {}) })).filter((p) => isFinite(p.x) && isFinite(p.y));
  let steps = "";
  pts.forEach((p, i) => {
    steps += `${i ? "L" : "M"}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`;
    if (i + 1 < pts.length) steps += `L${px(pts[i + 1].x).toFixed(1)},${py(p.y).toFixed(1)}`;
  });
  svg.appendChild(el("path", { d: steps, fill: "none", stroke: "#8a4b08", "stroke-width": 1.4 }));
  for (const p of pts) {
    const c = el("circle", { cx: px(p.x), cy: py(p.y), r: 2.5, fill: "#8a4b08" });
    c.appendChild(el("title", {}, `stage ${p.s}: x=${fmt(p.x)} y=${fmt(p.y)}`));
    svg.appendChild(c);
  }
  return svg;
}

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c.nodeType ? c : String(c));
  return e;
}

// processPage shows an SXCascade twin and runs its simulation.
export async function processPage(main, id) {
  const out = h("div", { id: "process-result" });
  const status = h("p", { class: "muted", id: "process-status" });
  async function run(dryRun) {
    status.textContent = "simulating…";
    out.replaceChildren();
    const res = await fetch(`/digitaltwins/${encodeURIComponent(id)}/simulate`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ dryRun }) });
    const body = await res.json();
    if (!res.ok) { status.textContent = ""; out.append(h("p", { class: "error" }, (body.error && body.error.message) || `HTTP ${res.status}`)); return; }
    const r = body.result;
    status.textContent = `${r.converged ? "converged" : "NOT CONVERGED"} in ${r.iterations} iterations, mass-balance closure ${fmt(r.closure_max)}` + (body.written.length ? ` · results written to ${body.written.join(", ")}` : " · dry run");
    const metals = metalsOf(r.stages);
    const table = h("table", {}, h("tr", {}, h("th", {}, "product"), ...metals.map((m) => h("th", {}, m))),
      ...Object.keys(r.recovery || {}).sort().map((p) => h("tr", {}, h("td", {}, `${p} recovery`), ...metals.map((m) => h("td", { class: "num" }, fmt((r.recovery[p] || {})[m] ?? NaN))))),
      ...Object.keys(r.purity || {}).sort().map((p) => h("tr", {}, h("td", {}, `${p} purity`), ...metals.map((m) => h("td", { class: "num" }, fmt((r.purity[p] || {})[m] ?? NaN))))));
    out.append(h("h3", {}, "Stage profiles"), stageProfiles(r.stages));
    if (metals.length >= 2) {
      const pick = h("select", { id: "mt-pair" }, ...pairs(metals).map(([a, b]) => h("option", { value: `${a}/${b}` }, `${a} / ${b}`)));
      const box = h("div", {});
      const draw = () => { const [a, b] = pick.value.split("/"); box.replaceChildren(mccabeThiele(r.stages, a, b)); };
      pick.addEventListener("change", draw);
      out.append(h("h3", {}, "McCabe–Thiele (binary split)"), h("div", { class: "row" }, pick), box);
      draw();
    }
    out.append(h("h3", {}, "Recovery and purity"), table,
      h("p", { class: "muted" }, `${fmt(body.summary.throughputCapacityTonnesReoPerYear)} t REO/yr · input ${body.inputHash.slice(0, 19)}… · ${body.modelVersion}`),
      h("ul", { class: "muted" }, ...body.assumptions.map((a) => h("li", {}, a))));
  }
  main.replaceChildren(h("h2", {}, "Process twin ", h("a", { href: `#/twin/${encodeURIComponent(id)}` }, id)),
    h("div", { class: "row" }, h("button", { id: "simulate", onclick: () => run(false).catch((e) => (status.textContent = e.message)) }, "Simulate and write back"),
      h("button", { class: "secondary", onclick: () => run(true).catch((e) => (status.textContent = e.message)) }, "Dry run")),
    status, out);
  // A dry run is cheap (milliseconds): show the profiles at once.
  await run(true).catch((e) => (status.textContent = e.message));
}

function pairs(ms) {
  const out = [];
  for (let i = 0; i < ms.length; i++) for (let j = 0; j < ms.length; j++) if (i !== j) out.push([ms[i], ms[j]]);
  return out;
}
