// Charts of the dashboard, drawn by Apache ECharts (web/static/vendor,
// loaded by index.html as the global `echarts`; docs/adr/0004). This file
// shapes data into ECharts options; it draws nothing by hand.

// chart returns a box that draws option once it is in the page and has a
// width (ECharts measures its container). The instance is on box.chart and
// box.dataset.ready is set when drawn, for tests and callers that update it.
export function chart(option, { height = 260, id, cls = "" } = {}) {
  const box = document.createElement("div");
  box.className = ("chart " + cls).trim();
  if (id) box.id = id;
  box.style.height = height + "px";
  const draw = () => {
    if (!box.isConnected || box.clientWidth === 0) { requestAnimationFrame(draw); return; }
    const c = window.echarts.init(box, null, { renderer: "canvas" });
    c.setOption(option);
    box.chart = c;
    box.dataset.ready = "1";
    if (box.onchart) box.onchart(c);
    new ResizeObserver(() => c.resize()).observe(box);
  };
  requestAnimationFrame(draw);
  return box;
}

// A qualitative palette with enough colours that the models of the
// ontology rarely share one (Tableau 20, reordered).
const palette = ["#8a4b08", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#bcbd22", "#e377c2", "#ff7f0e", "#7f7f7f",
  "#aec7e8", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#9edae5", "#dbdb8d", "#f7b6d2", "#ffbb78", "#393b79"];

// Colours fixed for the facility models, so the graph, map and Sankey
// agree; any other key gets a colour from a hash of its name, the same in
// every view and every session.
const fixed = {
  "dtmi:lodestone:Mine;1": "#8a4b08", "dtmi:lodestone:SeparationPlant;1": "#1f77b4", "dtmi:lodestone:MetalRefinery;1": "#2ca02c",
  "dtmi:lodestone:MagnetPlant;1": "#9467bd", "dtmi:lodestone:OEM;1": "#d62728", "dtmi:lodestone:Stockpile;1": "#17becf",
  "dtmi:lodestone:Country;1": "#7f7f7f", "dtmi:lodestone:Company;1": "#bcbd22", "dtmi:lodestone:Material;1": "#e377c2",
  "dtmi:lodestone:ExportControl;1": "#ff7f0e",
};

// Hashed keys take colours no fixed model has.
const modelPalette = palette.filter((c) => !Object.values(fixed).includes(c));

export function colourOf(key) {
  if (fixed[key]) return fixed[key];
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) { h ^= key.charCodeAt(i); h = Math.imul(h, 16777619); }
  return modelPalette[(h >>> 0) % modelPalette.length];
}

// Country colours of the Sankey and the map.
const countryFixed = { CN: "#d62728", ROW: "#7f7f7f", US: "#1f77b4", AU: "#2ca02c", MY: "#17becf", MM: "#9467bd", JP: "#e377c2", VN: "#bcbd22" };
const countryPalette = palette.filter((c) => !Object.values(countryFixed).includes(c));
export function countryColour(c) {
  if (countryFixed[c]) return countryFixed[c];
  let h = 2166136261;
  for (let i = 0; i < c.length; i++) { h ^= c.charCodeAt(i); h = Math.imul(h, 16777619); }
  return countryPalette[(h >>> 0) % countryPalette.length];
}

// modelLabel is the short name of a DTMI: dtmi:lodestone:Mine;1 → Mine.
export const modelLabel = (m) => (m || "").replace(/^dtmi:(?:[^:;]+:)*([^:;]+);\d+$/, "$1") || "(no model)";

// Supply-chain stages in order, and the stage a model's twins sit in.
export const stages = ["mine", "separation", "metal", "magnet", "oem"];
const stageModels = { Mine: "mine", Concentrator: "mine", SeparationPlant: "separation", SXCascade: "separation", MetalRefinery: "metal", MagnetPlant: "magnet", OEM: "oem", Stockpile: "stockpile", Warehouse: "stockpile" };
export const stageOf = (model) => stageModels[modelLabel(model)] || "";

// shortTime shows an RFC 3339 time to the second ("2026-11-27 01:43:17Z").
export function shortTime(s) {
  if (typeof s !== "string") return "";
  return s.replace("T", " ").replace(/\.\d+(Z|[+-]\d\d:\d\d)$/, "$1");
}

// fmt prints a number to six significant digits, in exponent form only
// when very large or small; -0 prints as 0.
export function fmt(v) {
  if (typeof v !== "number") return String(v);
  if (Object.is(v, -0) || v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e9 || a < 1e-3) return v.toExponential(3);
  return (+v.toPrecision(6)).toLocaleString("en-GB", { maximumFractionDigits: 6 });
}

// withUnit prints a number and its unit ("45,000 t/yr"); unit names of
// DTDL become symbols.
export function withUnit(v, unit) {
  const u = unitSymbol(unit);
  return u ? `${fmt(v)} ${u}` : fmt(v);
}

const unitSymbols = { tonne: "t", percent: "%", kilogram: "kg", kilogramPerHour: "kg/h", litrePerHour: "L/h", literPerHour: "L/h", degreeCelsius: "°C", kelvin: "K", hour: "h", day: "d", second: "s", metre: "m", cubicMetre: "m³", cubicMetrePerHour: "m³/h", milligramPerLitre: "mg/L", kilowatt: "kW", megawatt: "MW", usDollar: "USD" };
export const unitSymbol = (u) => (u ? unitSymbols[u] || u : "");

// timeChart draws series [{name, unit, points:[{t: Date|ms, v}]}] on a time
// axis; bands [{from, to, kind, label}] (dates) are shaded.
export function timeChart(series, { title = "", unit = "", height = 220, bands = [], yMin, id, cls = "timechart" } = {}) {
  const shade = (kind) => (kind === "shock" ? "rgba(214,39,40,0.14)" : "rgba(242,183,5,0.18)");
  const option = {
    animation: false,
    title: { text: title + (unit ? ` (${unit})` : ""), textStyle: { fontSize: 12 } },
    tooltip: { trigger: "axis", valueFormatter: (v) => (typeof v === "number" ? withUnit(v, unit) : v) },
    legend: { bottom: 0, type: "scroll", textStyle: { fontSize: 11 } },
    grid: { left: 56, right: 16, top: 30, bottom: 48 },
    xAxis: { type: "time" },
    yAxis: { type: "value", min: yMin, scale: yMin === undefined, axisLabel: { formatter: (v) => fmt(v) } },
    series: series.map((s, i) => ({
      name: s.name + (s.unit && s.unit !== unit ? ` (${unitSymbol(s.unit)})` : ""), type: "line", showSymbol: s.points.length < 40, symbolSize: 4,
      data: s.points.map((p) => [+p.t, p.v]), lineStyle: { width: 1.6 }, color: s.colour,
      markArea: i === 0 && bands.length ? { silent: false, data: bands.map((b) => [{ name: b.label, xAxis: Date.parse(b.from), itemStyle: { color: shade(b.kind) } }, { xAxis: Date.parse(b.to) + 86400e3 }]), label: { show: false } } : undefined,
    })),
  };
  const box = chart(option, { height, id, cls });
  box.dataset.series = series.map((s) => s.name).join("|");
  box.dataset.bands = bands.map((b) => b.kind).join("|");
  return box;
}

// lineChart is timeChart for a twin's history: one series, its unit.
export function lineChart(series, opts = {}) {
  if (!series.length || series.every((s) => s.points.length === 0)) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "no numeric history yet";
    return p;
  }
  return timeChart(series, { title: series.length === 1 ? series[0].name : "", unit: series.length === 1 ? unitSymbol(series[0].unit) : "", height: opts.height || 180, cls: "timechart history-chart" });
}

// graphChart draws twins [{id, model, name}] and relationships [{id,
// source, target, name}] as an ECharts graph series. layout: "force"
// (small graphs), "lanes" (the supply chain's stages left to right, other
// twins in a band below) or "circle" (grouped by model; any size). Colours
// and legend entries are by model. onNode(id) is called on a click.
export function graphChart(nodes, edges, { layout = "auto", height = 560, focus, onNode, id = "graph-chart" } = {}) {
  const models = [...new Set(nodes.map((n) => n.model || ""))].sort();
  const big = nodes.length > 400;
  if (layout === "auto") layout = big ? "circle" : "force";
  const pos = layout === "lanes" ? laneLayout(nodes) : layout === "circle" ? circleLayout(nodes, models) : null;
  const degree = new Map();
  for (const e of edges) { degree.set(e.source, (degree.get(e.source) || 0) + 1); degree.set(e.target, (degree.get(e.target) || 0) + 1); }
  const ids = new Set(nodes.map((n) => n.id));
  const nodeModel = new Map(nodes.map((n) => [n.id, n.model]));
  const data = nodes.map((n) => {
    const p = pos && pos.get(n.id);
    return {
      id: n.id, name: n.id, category: models.indexOf(n.model || ""), x: p ? p.x : undefined, y: p ? p.y : undefined,
      symbolSize: n.id === focus ? 18 : big ? 5 : Math.min(16, 7 + Math.sqrt(degree.get(n.id) || 0) * 1.5),
      value: n.name || "", label: { show: !big && (nodes.length <= 60 || n.id === focus || (layout === "lanes" && !!stageOf(n.model))) },
      itemStyle: n.id === focus ? { borderColor: "#000", borderWidth: 2 } : undefined,
    };
  });
  if (big && layout === "circle") return bigGraphChart(nodes, edges, models, pos, { height, id, onNode, focus });
  const links = edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ source: e.source, target: e.target, value: e.name || "",
    // In lanes, the chain's own lanes stand out; links to the band of
    // other twins (countries, companies, materials) stay faint.
    lineStyle: layout === "lanes" && !(stageOf(nodeModel.get(e.source)) && stageOf(nodeModel.get(e.target))) ? { opacity: 0.15 } : undefined }));
  const option = {
    animation: !big,
    tooltip: { formatter: (p) => (p.dataType === "edge" ? `${p.data.source} —${p.data.value}→ ${p.data.target}` : `${p.data.id}<br>${modelLabel(models[p.data.category])}${p.data.value ? "<br>" + p.data.value : ""}`) },
    legend: [{ data: models.map(modelLabel), type: "scroll", top: 0, textStyle: { fontSize: 11 } }],
    series: [{
      type: "graph", layout: pos ? "none" : "force", roam: true, draggable: !big, progressive: 2000, progressiveThreshold: 3000,
      categories: models.map((m) => ({ name: modelLabel(m), itemStyle: { color: colourOf(m) } })),
      data, links, edgeSymbol: big ? ["none", "none"] : ["none", "arrow"], edgeSymbolSize: 6,
      lineStyle: { color: "#9aa0a6", opacity: big ? 0.25 : 0.6, width: big ? 0.5 : 1, curveness: layout === "lanes" ? 0.15 : 0 },
      // Past 400 twins: no label placement and no adjacency highlight,
      // the two costs that grow with the graph on every frame.
      label: { position: "right", fontSize: 11 }, labelLayout: big ? undefined : { hideOverlap: true },
      emphasis: big ? { label: { show: true } } : { focus: "adjacency", label: { show: true } },
      force: { repulsion: nodes.length > 150 ? 60 : 180, edgeLength: [40, 110], gravity: 0.08, layoutAnimation: nodes.length < 150 },
      top: layout === "lanes" ? 66 : 36,
    }],
  };
  const box = chart(option, { height, id, cls: "graph-chart" });
  box.dataset.nodes = String(nodes.length);
  box.dataset.edges = String(links.length);
  box.dataset.layout = layout;
  box.onchart = (c) => {
    if (layout === "lanes") {
      // Lane headings follow the lanes as the view is zoomed or panned.
      const heads = () => {
        const used = stages.filter((st) => nodes.some((n) => stageOf(n.model) === st));
        c.setOption({ graphic: used.map((st) => {
          const [x] = c.convertToPixel({ seriesIndex: 0 }, [stages.indexOf(st) * 240, 0]);
          return { type: "text", id: "lane-" + st, left: x - 20, top: 36, style: { text: st, font: "600 13px system-ui", fill: "#1d232a" } };
        }) });
      };
      let first = true;
      c.on("finished", () => { if (first) { first = false; heads(); } });
      c.on("graphroam", heads);
    }
    if (onNode) c.on("click", (p) => { if (p.dataType === "node" && !String(p.data.id).startsWith("lane:")) onNode(p.data.id); }); };
  return box;
}

// bigGraphChart draws a large graph in its circle layout as ECharts'
// large-mode scatter (one series per model, so the legend and colours
// match the graph view) and one large-mode lines series on a hidden
// cartesian grid: the graph series lays out and hit-tests every element on
// each frame, which took seconds at 5,000 twins; these draw in one pass.
function bigGraphChart(nodes, edges, models, pos, { height, id, onNode, focus }) {
  const series = models.map((m) => ({ name: modelLabel(m), type: "scatter", large: true, largeThreshold: 400, symbolSize: 5,
    itemStyle: { color: colourOf(m) }, data: [], ids: [] }));
  for (const n of nodes) {
    const s = series[models.indexOf(n.model || "")];
    const p = pos.get(n.id);
    s.data.push([p.x, p.y]);
    s.ids.push(n.id);
  }
  const coords = [];
  for (const e of edges) {
    const a = pos.get(e.source), b = pos.get(e.target);
    if (a && b) coords.push({ coords: [[a.x, a.y], [b.x, b.y]] });
  }
  const idsOf = series.map((s) => s.ids);
  const option = {
    animation: false,
    tooltip: { formatter: (p) => (p.seriesType === "scatter" ? `${idsOf[p.seriesIndex - 1][p.dataIndex]}<br>${p.seriesName}` : "") },
    legend: [{ data: models.map(modelLabel), type: "scroll", top: 0, textStyle: { fontSize: 11 } }],
    grid: { top: 36, left: 8, right: 8, bottom: 8 },
    xAxis: { type: "value", show: false, scale: true }, yAxis: { type: "value", show: false, scale: true },
    dataZoom: [{ type: "inside", xAxisIndex: 0, filterMode: "none" }, { type: "inside", yAxisIndex: 0, filterMode: "none" }],
    series: [
      { type: "lines", coordinateSystem: "cartesian2d", large: true, largeThreshold: 400, silent: true, data: coords,
        lineStyle: { color: "#9aa0a6", opacity: 0.25, width: 0.5 } },
      ...series.map(({ ids, ...s }) => s),
    ],
  };
  const f = focus && pos.get(focus);
  if (f) option.series.push({ name: "focus", type: "scatter", symbolSize: 14, silent: true, z: 5, data: [[f.x, f.y]],
    itemStyle: { color: colourOf((nodes.find((n) => n.id === focus) || {}).model || ""), borderColor: "#000", borderWidth: 2 },
    label: { show: true, position: "right", formatter: focus } });
  const box = chart(option, { height, id, cls: "graph-chart" });
  box.dataset.nodes = String(nodes.length);
  box.dataset.edges = String(coords.length);
  box.dataset.layout = "circle";
  box.onchart = (c) => {
    if (onNode) c.on("click", (p) => { if (p.seriesType === "scatter") onNode(idsOf[p.seriesIndex - 1][p.dataIndex]); });
  };
  return box;
}

// laneLayout places the stages' twins in columns mine → OEM (stockpiles
// beside the stage they hold), ranked by id; other twins go in rows below.
function laneLayout(nodes) {
  const lanes = new Map();
  const others = [];
  for (const n of nodes) {
    const s = stageOf(n.model);
    const col = s === "stockpile" ? 3.5 : stages.indexOf(s);
    if (col < 0) { others.push(n); continue; }
    (lanes.get(col) || lanes.set(col, []).get(col)).push(n);
  }
  const pos = new Map();
  let rows = 0;
  for (const [col, ns] of lanes) {
    ns.sort((a, b) => a.id.localeCompare(b.id));
    ns.forEach((n, i) => pos.set(n.id, { x: col * 240, y: i * 44 + (col % 1 ? 22 : 0) }));
    rows = Math.max(rows, ns.length);
  }
  others.sort((a, b) => (a.model || "").localeCompare(b.model || "") || a.id.localeCompare(b.id));
  const perRow = Math.max(8, Math.ceil(Math.sqrt(others.length * 3)));
  others.forEach((n, i) => pos.set(n.id, { x: (i % perRow) * (960 / perRow), y: (rows + 1.5) * 44 + Math.floor(i / perRow) * 36 }));
  return pos;
}

// circleLayout puts each model's twins on an arc of one circle, sectors in
// model order: O(n), for graphs too large for a force layout.
function circleLayout(nodes, models) {
  const byModel = new Map(models.map((m) => [m, []]));
  for (const n of nodes) byModel.get(n.model || "").push(n);
  const pos = new Map();
  let i = 0;
  const total = nodes.length;
  for (const m of models) {
    const ns = byModel.get(m).sort((a, b) => a.id.localeCompare(b.id));
    for (const n of ns) {
      const a = (2 * Math.PI * i++) / total;
      const r = 1000 + (i % 3) * 30;
      pos.set(n.id, { x: r * Math.cos(a), y: r * Math.sin(a) });
    }
    i += Math.ceil(total / 200); // a gap between models
  }
  return pos;
}

// legend returns an HTML legend: [{label, colour}].
export function legend(items, id) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  if (id) ul.id = id;
  for (const it of items) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = it.colour;
    li.append(sw, it.label);
    ul.append(li);
  }
  return ul;
}
