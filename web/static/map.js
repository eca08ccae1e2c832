// Map page (#/map, #/map/RUN): facilities on a world map by country
// (Natural Earth 1:110m boundaries, public domain, vendored), lanes between
// them, and for a supply run the flow on each lane with the countries of
// its shocks and export controls highlighted.
import { api } from "./api.js";
import { chart, colourOf, countryColour, modelLabel, fmt } from "./charts.js";
import { h, fail } from "./dom.js";

const GEO = "/vendor/world-atlas-2.0.2/countries-110m.geojson";

// ISO 3166-1 alpha-2 → numeric (the boundaries' ids), for the countries of
// the rare-earth chain and its main producers and buyers; others are
// matched by name.
const isoNumeric = {
  AO: "024", AR: "032", AT: "040", AU: "036", BD: "050", BE: "056", BI: "108", BR: "076", BY: "112", CA: "124", CD: "180", CH: "756", CL: "152",
  CN: "156", CO: "170", CZ: "203", DE: "276", DK: "208", DZ: "012", EE: "233", EG: "818", ES: "724", FI: "246", FR: "250", GB: "826", GL: "304",
  GR: "300", HU: "348", ID: "360", IE: "372", IL: "376", IN: "356", IQ: "368", IR: "364", IT: "380", JP: "392", KE: "404", KG: "417", KP: "408",
  KR: "410", KZ: "398", LA: "418", LK: "144", MA: "504", MG: "450", MM: "104", MN: "496", MW: "454", MX: "484", MY: "458", MZ: "508", NA: "516",
  NG: "566", NL: "528", NO: "578", NZ: "554", PE: "604", PH: "608", PK: "586", PL: "616", PT: "620", RO: "642", RU: "643", SA: "682", SE: "752",
  TH: "764", TR: "792", TW: "158", TZ: "834", UA: "804", UG: "800", US: "840", UZ: "860", VE: "862", VN: "704", ZA: "710", ZM: "894", ZW: "716",
};

let geo = null;

// loadWorld fetches the boundaries once, registers them with ECharts and
// computes each country's label point (centre of its largest ring's box,
// good enough at 1:110m).
export async function loadWorld() {
  if (geo) return geo;
  const res = await fetch(GEO);
  if (!res.ok) throw new Error(`map boundaries: HTTP ${res.status}`);
  const fc = await res.json();
  window.echarts.registerMap("world", fc);
  const centre = new Map(), nameOf = new Map(), byName = new Map();
  for (const f of fc.features) {
    if (!f.geometry) continue;
    const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
    let best = null, area = -1;
    for (const p of polys) {
      const ring = p[0];
      const xs = ring.map((c) => c[0]), ys = ring.map((c) => c[1]);
      const a = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
      if (a > area) { area = a; best = [(Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2]; }
    }
    centre.set(f.id, best);
    nameOf.set(f.id, f.properties.name);
    byName.set(f.properties.name.toLowerCase(), f.id);
  }
  geo = { centre, nameOf, byName };
  return geo;
}

// countryId finds the boundary of a country by ISO alpha-2 code or name.
function countryId(g, iso, name) {
  if (iso && isoNumeric[iso.toUpperCase()]) return isoNumeric[iso.toUpperCase()];
  if (name && g.byName.has(name.toLowerCase())) return g.byName.get(name.toLowerCase());
  return null;
}

// worldMap draws sites [{id, model, country (alpha-2), name, capacity}]
// and lanes [{from, to, tonnes, unit, stage}] between site ids; countries
// in highlight {CN: "control"|"shock"} are filled. Sites whose country has
// no boundary (ROW: rest of the world) are listed under the map.
export async function worldMap(sites, lanes, { highlight = {}, height = 520, id = "world-map", note = "" } = {}) {
  const g = await loadWorld();
  const placed = new Map(), unplaced = [];
  const perCountry = new Map();
  for (const s of sites) {
    const cid = countryId(g, s.country, s.countryName);
    if (!cid || !g.centre.get(cid)) { unplaced.push(s); continue; }
    const k = perCountry.get(cid) || 0;
    perCountry.set(cid, k + 1);
    const [x, y] = g.centre.get(cid);
    // Several sites in one country sit on a small ring round its centre.
    const a = k * 2.39996, r = k ? 1.2 + 0.35 * Math.sqrt(k) : 0;
    placed.set(s.id, { ...s, cid, coord: [x + r * Math.cos(a), y + r * Math.sin(a)] });
  }
  const models = [...new Set([...placed.values()].map((s) => s.model))].sort();
  const maxT = Math.max(1, ...lanes.map((l) => l.tonnes || 0));
  const laneData = lanes.filter((l) => placed.has(l.from) && placed.has(l.to) && l.from !== l.to).map((l) => ({
    coords: [placed.get(l.from).coord, placed.get(l.to).coord], value: l.tonnes, from: l.from, to: l.to, unit: l.unit || "t",
    lineStyle: { width: l.tonnes === undefined ? 1 : 0.8 + 7 * Math.sqrt(l.tonnes / maxT), color: countryColour(placed.get(l.from).country || "?"), opacity: 0.55, curveness: 0.2 },
  }));
  const regions = [];
  for (const [iso, kind] of Object.entries(highlight)) {
    const cid = countryId(g, iso);
    if (cid) regions.push({ name: g.nameOf.get(cid), itemStyle: { areaColor: kind === "shock" ? "#f4b6b3" : "#f9dd8c" }, kind });
  }
  const option = {
    animation: false,
    tooltip: { trigger: "item", formatter: (p) => {
      if (p.seriesType === "lines") return `${p.data.from} → ${p.data.to}` + (p.data.value !== undefined ? `: ${fmt(Math.round(p.data.value))} ${p.data.unit}/yr` : "");
      if (p.seriesType === "scatter") return `${p.data.name}<br>${modelLabel(p.data.model)}` + (p.data.capacity ? `<br>capacity ${fmt(p.data.capacity)} t/yr` : "");
      return p.name + (highlight && p.data && p.data.kind ? ` (${p.data.kind === "shock" ? "shock" : "export control"})` : "");
    } },
    legend: { data: models.map(modelLabel), top: 0, type: "scroll" },
    geo: { map: "world", roam: true, center: [60, 25], zoom: 1.15, itemStyle: { areaColor: "#eceae4", borderColor: "#b9b6ad", borderWidth: 0.5 }, emphasis: { itemStyle: { areaColor: "#ddd8cc" }, label: { show: false } }, regions, top: 30, bottom: 10 },
    series: [
      { type: "lines", coordinateSystem: "geo", data: laneData, zlevel: 1, effect: { show: false }, name: "lanes" },
      ...models.map((m) => ({
        type: "scatter", coordinateSystem: "geo", name: modelLabel(m), zlevel: 2, itemStyle: { color: colourOf(m), borderColor: "#fff", borderWidth: 0.8 },
        symbolSize: (v, p) => 7 + Math.min(12, Math.sqrt((p.data.capacity || 0) / 2000)),
        data: [...placed.values()].filter((s) => s.model === m).map((s) => ({ name: s.id, value: s.coord, model: s.model, capacity: s.capacity })),
      })),
    ],
  };
  const box = chart(option, { height, id, cls: "world-map" });
  box.dataset.sites = String(placed.size);
  box.dataset.lanes = String(laneData.length);
  box.dataset.highlight = Object.entries(highlight).map(([k, v]) => `${k}:${v}`).join(" ");
  const kinds = new Set(Object.values(highlight));
  return h("div", { class: "map-wrap" }, box,
    h("p", { class: "muted small" },
      kinds.has("shock") ? h("span", { class: "key", style: "background:#f4b6b3" }, "shock") : null, " ",
      kinds.has("control") ? h("span", { class: "key", style: "background:#f9dd8c" }, "export control (issuing country)") : null, " ",
      unplaced.length ? `Not on the map (no single country): ${unplaced.map((s) => s.id).join(", ")}. ` : "",
      note, " Boundaries: Natural Earth 1:110m (public domain)."));
}

// graphSites reads facilities and their lanes from the twin graph: twins
// located in a Country twin, and their feeds relationships.
export async function graphSites(asOf) {
  const snap = await api.snapshot(asOf);
  const byId = new Map(snap.twins.map((t) => [t.$dtId, t]));
  const sites = [], lanes = [];
  for (const r of snap.relationships || []) {
    if (r.$relationshipName === "locatedIn") {
      const t = byId.get(r.$sourceId), c = byId.get(r.$targetId);
      if (t && c) sites.push({ id: t.$dtId, model: t.$metadata.$model, name: t.name, country: c.isoCode, countryName: c.name, capacity: t.capacityTonnesPerYear });
    }
    if (r.$relationshipName === "feeds") lanes.push({ from: r.$sourceId, to: r.$targetId });
  }
  return { sites, lanes };
}

// runSites turns a supply run's network into sites and lanes with the
// tonnes per year of each arc (flow: tonnes over the run per arc index).
export function runSites(net, flow, years) {
  const sites = net.nodes.map((n) => ({ id: n.id, model: stageModel[n.stage] || "stage:" + n.stage, country: n.country, capacity: n.capacity_per_period ? n.capacity_per_period * 365 : undefined }));
  const lanes = net.arcs.map((a, i) => ({ from: a.from, to: a.to, tonnes: flow ? flow[i] / years : undefined, unit: stageUnit[(net.nodes.find((n) => n.id === a.from) || {}).stage] || "t" }));
  return { sites, lanes };
}
const stageModel = { mine: "dtmi:lodestone:Mine;1", separation: "dtmi:lodestone:SeparationPlant;1", metal: "dtmi:lodestone:MetalRefinery;1", magnet: "dtmi:lodestone:MagnetPlant;1", oem: "dtmi:lodestone:OEM;1", stockpile: "dtmi:lodestone:Stockpile;1" };
export const stageUnit = { mine: "t REO", concentrator: "t REO", separation: "t REO", metal: "t RE metal", magnet: "t NdFeB", oem: "t NdFeB", stockpile: "t" };

export async function mapPage(main, runId, params) {
  const asOf = params.get("asOf") || "";
  const box = h("div", { id: "map-box" });
  main.replaceChildren(h("h2", {}, "Map", runId ? h("span", { class: "tag" }, "run " + runId) : null),
    h("p", { class: "muted" }, runId ? "Flows per lane of the run; shocks and export controls highlighted by country." : "Facilities of the twin graph by country and their feeds lanes. Open a supply run for its flows."),
    box);
  try {
    if (runId) {
      const { runMap } = await import("./supply.js");
      const run = await api.call("GET", `/scenarios/${encodeURIComponent(runId)}`);
      box.replaceChildren(await runMap(run));
    } else {
      const { sites, lanes } = await graphSites(asOf);
      box.replaceChildren(await worldMap(sites, lanes, { note: `${sites.length} facilities, ${lanes.length} lanes.` }));
    }
  } catch (err) { box.replaceChildren(fail(err)); }
}
