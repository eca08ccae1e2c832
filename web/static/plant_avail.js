// #/plant/availability (issue 13 items 2–3): a separation plant's
// availability from its equipment models, the OEE of a continuous line and
// the closed-form block calculator. Numbers carry data-k/data-v like the
// other plant pages (plant.js), so server/browser_plant_test.go compares
// them with the API.
//
//   POST /plant/equipment/{id}/availability   records → fit per equipment
//                                             model → train block diagrams →
//                                             plant; ?write=true writes it
//   POST /plant/oee                            availability × performance × quality
//   POST /plant/availability                   series/parallel/k_of_n/standby
import { api } from "./api.js";
import { fmt } from "./charts.js";
import { h, fail, citations } from "./dom.js";
import { put, val, card, pct, apiCalls, findPlants } from "./plant.js";

const enc = encodeURIComponent;

export async function availabilityPage(body, params) {
  const plants = await findPlants();
  const chainBox = h("div", { id: "avail-chain" });
  const oeeBox = h("div", { id: "oee" });
  const blockBox = h("div", { id: "block-calc" });
  put(body,
    h("h3", {}, "Plant availability from its equipment"), chainBox,
    h("h3", {}, "OEE of a continuous line"), oeeBox,
    h("h3", {}, "Block diagram calculator"), blockBox);
  const root = params.get("plant") || (plants[0] && plants[0].$dtId);
  const plantTwin = root ? await api.twin(root).catch(() => null) : null;
  oeeForm(oeeBox, plantTwin);
  const calc = blockCalculator(blockBox);
  if (!root) {
    put(chainBox, h("p", { class: "muted", id: "plant-none" }, "No separation plant with sections (hasSection) in the graph. The demo ships the reference plant ref-sep-plant: start ", h("code", {}, "lodestone demo"), "."));
    return;
  }
  await chainView(chainBox, root, plants, calc);
}

// --- the chain: equipment → availability → capacity ------------------------------

async function chainView(box, id, plants, calc) {
  const dist = h("select", { id: "avail-distribution", "data-path": "distribution" }, ["weibull", "exponential", "lognormal", "auto"].map((d) => h("option", { value: d }, d)));
  const out = h("div", { id: "avail-out" });
  const twinBox = h("div", { id: "avail-plant-twin" });
  // figures typed for a model: {Model: {mtbf, mttr, source}}, sent instead
  // of its records.
  const figures = {};
  const run = async (write) => {
    const body = { distribution: dist.value };
    const figs = Object.entries(figures).filter(([, f]) => f.use);
    if (figs.length) body.figures = Object.fromEntries(figs.map(([m, f]) => [m, { mtbf: Number(f.mtbf.value), mttr: Number(f.mttr.value), source: f.source.value.trim() }]));
    const path = `/plant/equipment/${enc(id)}/availability${write ? "?write=true" : ""}`;
    try {
      const r = await api.call("POST", path, body);
      put(out, resultView(r, figures, () => run(false), () => run(true), calc), apiCalls(`POST ${path} ${JSON.stringify(body)}`));
    } catch (err) { put(out, fail(err), apiCalls(`POST ${path} ${JSON.stringify(body)}`)); }
    await plantTwinView(twinBox, id);
  };
  const picker = plants.length > 1 ? h("select", { id: "avail-plant", onchange: (e) => { location.hash = `#/plant/availability?plant=${enc(e.target.value)}`; } }, plants.map((p) => h("option", { value: p.$dtId, selected: p.$dtId === id }, p.name || p.$dtId))) : null;
  put(box,
    h("p", { class: "muted small" }, "The FailureRecord twins of the equipment each SX train needs, pooled by equipment model and fitted (MTBF = fitted mean life, MTTR = mean downtime of the failures), each train's block diagram (units in series, A/B pairs as cold duty/standby), the plant = the mean of its trains (docs/formats/plant-reliability.md). A model without life data can be given published MTBF/MTTR figures with their source."),
    h("div", { class: "row" }, picker, "plant ", h("a", { href: `#/twin/${enc(id)}` }, h("code", {}, id)), " · life distribution ", dist, h("button", { id: "avail-run", onclick: () => run(false) }, "Compute")),
    out, h("h4", {}, "The plant twin: availability and capacity"), twinBox);
  await run(false);
}

function resultView(r, figures, rerun, write, calc) {
  const classes = r.classes || [], trains = r.trains || [];
  const k = (x) => `avail-${x}`;
  const figureCells = (c) => {
    if (!figures[c.model]) {
      figures[c.model] = { use: false,
        mtbf: h("input", { type: "number", step: "any", min: 0, size: 7, "data-path": `figures.${c.model}.mtbf`, "data-fig": `${c.model}-mtbf`, placeholder: "MTBF h" }),
        mttr: h("input", { type: "number", step: "any", min: 0, size: 5, "data-path": `figures.${c.model}.mttr`, "data-fig": `${c.model}-mttr`, placeholder: "MTTR h" }),
        source: h("input", { type: "text", size: 18, "data-path": `figures.${c.model}.source`, "data-fig": `${c.model}-source`, placeholder: "source (required)" }) };
    }
    const f = figures[c.model];
    const use = h("input", { type: "checkbox", "data-fig": `${c.model}-use`, checked: f.use, onchange: (e) => { f.use = e.target.checked; } });
    return h("td", { class: "small" }, h("label", {}, use, " use "), f.mtbf, " ", f.mttr, " ", f.source);
  };
  const fitText = (c) => (c.fit ? `${c.fit.distribution} shape ${fmt(c.fit.shape)}, scale ${fmt(c.fit.scale)} h` : "–");
  const trainTable = (t, i) => {
    const res = t.result || null;
    const subs = (t.block && t.block.blocks) || [];
    return h("details", { "data-train": t.section },
      h("summary", {}, t.section, ": ", res ? val(k(`train-${t.section}`), res.availability, pct(res.availability)) : h("span", { class: "muted", "data-k": k(`train-${t.section}`), "data-v": "" }, "not computed"),
        ` · ${subs.length} blocks in ${t.block ? t.block.kind : "?"}`,
        res && i === 0 ? [" ", h("button", { class: "secondary small", id: "avail-to-calc", onclick: () => calc(t.block) }, "open in the calculator")] : null),
      h("table", { class: "avail-blocks" }, h("tr", {}, h("th", {}, "block"), h("th", {}, "kind"), h("th", {}, "n / k"), h("th", {}, "MTBF (h)"), h("th", {}, "MTTR (h)"), h("th", {}, "availability")),
        subs.map((b, j) => {
          const br = res && res.blocks ? res.blocks[j] : null;
          return h("tr", {}, h("td", { class: "small" }, b.name || `#${j}`), h("td", {}, b.kind), h("td", { class: "num" }, b.kind === "standby" || b.kind === "k_of_n" ? `${b.n ?? (b.blocks || []).length} / ${b.k || 1}` : ""),
            h("td", { class: "num" }, b.mtbf ? fmt(b.mtbf) : "–"), h("td", { class: "num" }, b.mttr ? fmt(b.mttr) : "–"),
            h("td", { class: "num" }, br ? val(k(`train-${t.section}-b${j}`), br.availability) : "–"));
        })));
  };
  return [
    h("div", { class: "cards" },
      card(k("computed"), "computed from the equipment models", r.computed, r.computed ? "computed" : "not computed"),
      card(k("availability"), `plant availability (mean of ${trains.length} trains)`, r.availability, r.availability === null ? "–" : pct(r.availability)),
      card(k("classes"), "equipment models the trains need", classes.length)),
    r.computed ? null : h("div", { class: "notice", id: "avail-reason" },
      h("p", {}, /^not computed/i.test(r.reason || "") ? null : h("b", {}, "Not computed: "), r.reason),
      h("p", { class: "muted small" }, "The demo's reference plant ships no life data: no public MTBF/MTTR or Weibull parameters for SX equipment were found, and none is invented here. Record failures (with their downtime) on the Equipment tab, or give a model's published figures with their source below.")),
    h("table", { id: "avail-classes" },
      h("tr", {}, h("th", {}, "equipment model"), h("th", {}, "units"), h("th", {}, "records"), h("th", {}, "failures"), h("th", {}, "fit"), h("th", {}, "MTBF (h)"), h("th", {}, "MTTR (h)"), h("th", {}, "source or what is missing"), h("th", {}, "figures instead (MTBF, MTTR, source)")),
      classes.map((c) => h("tr", { "data-class": c.model, class: c.missing ? "missing" : "" },
        h("td", {}, c.model), h("td", { class: "num" }, val(k(`class-${c.model}-units`), c.units)),
        h("td", { class: "num", title: (c.records || []).join(", ") }, val(k(`class-${c.model}-records`), (c.records || []).length)),
        h("td", { class: "num" }, val(k(`class-${c.model}-failures`), c.failures)),
        h("td", { class: "small" }, c.fit ? [val(k(`class-${c.model}-shape`), c.fit.shape, ""), val(k(`class-${c.model}-scale`), c.fit.scale, ""), fitText(c)] : "–"),
        h("td", { class: "num" }, c.mtbf ? val(k(`class-${c.model}-mtbf`), c.mtbf) : "–"), h("td", { class: "num" }, c.mttr ? val(k(`class-${c.model}-mttr`), c.mttr) : "–"),
        h("td", { class: c.missing ? "small error" : "small" }, c.missing || c.source || ""),
        figureCells(c)))),
    h("div", { class: "row" }, h("button", { class: "secondary", id: "avail-rerun", onclick: rerun }, "Compute with the figures ticked")),
    h("h4", {}, "Trains (block diagrams)"),
    trains.map(trainTable),
    r.source ? h("p", { class: "small", id: "avail-source" }, "Provenance: ", r.source) : null,
    r.written ? h("p", { id: "avail-written" }, "Written: the plant twin's availability and sources.availability (below).")
      : r.computed ? h("button", { id: "avail-write", onclick: write }, "Write it to the plant twin (?write=true)") : h("p", { class: "muted small" }, "Nothing to write: the availability is not computed."),
  ];
}

// plantTwinView shows what the supply network reads from the plant twin:
// its availability with its source and the capacity it multiplies
// (world.NetworkFromTwins: the linked cascade's throughput, else the
// nameplate, × availability; docs/formats/process-link.md).
async function plantTwinView(box, id) {
  let t;
  try { t = await api.twin(id); } catch (err) { put(box, fail(err)); return; }
  const src = t.sources || {};
  const has = typeof t.availability === "number";
  const linked = typeof t.throughputCapacityTonnesReoPerYear === "number";
  const base = linked ? t.throughputCapacityTonnesReoPerYear : t.capacityTonnesPerYear;
  const eff = typeof base === "number" ? base * (has ? t.availability : 1) : null;
  put(box,
    h("div", { class: "cards" },
      card("plant-availability", has ? "availability on the plant twin" : "no availability on the plant twin", has ? t.availability : null, has ? pct(t.availability) : "not set"),
      card("plant-capacity", "nameplate capacityTonnesPerYear (t/yr)", t.capacityTonnesPerYear ?? null),
      linked ? card("plant-throughput", "linked cascade's throughputCapacityTonnesReoPerYear (t REO/yr, before availability)", t.throughputCapacityTonnesReoPerYear) : null,
      eff === null ? null : card("plant-network-capacity", `capacity in the supply network: ${linked ? "throughput" : "nameplate"} × ${has ? "availability" : "1 (no availability)"} (t/yr)`, eff)),
    h("table", { id: "avail-provenance" },
      h("tr", {}, h("th", {}, "availability"), h("td", { class: "small", "data-k": "plant-availability-source", "data-v": src.availability || "" }, src.availability ? citations(src.availability) : "–")),
      h("tr", {}, h("th", {}, "capacity"), h("td", { class: "small" }, src.capacityTonnesPerYear ? citations(src.capacityTonnesPerYear) : t.source ? citations(t.source) : "–")),
      linked ? h("tr", {}, h("th", {}, "throughput"), h("td", { class: "small" }, citations(src.throughputCapacityTonnesReoPerYear || ""))) : null),
    h("p", { class: "muted small" }, "The network multiplies a facility's capacity by its availability (the linked cascade's throughput replaces the nameplate only when the link holds: docs/formats/process-link.md; the product shown here is of the twin's figures)."),
    apiCalls(`GET /digitaltwins/${id}`));
}

// --- OEE ---------------------------------------------------------------------------

const oeeFields = [
  ["planned_time", "planned time", "h"],
  ["run_time", "run time", "h"],
  ["nameplate_rate", "nameplate rate", "t/h"],
  ["output", "product (REO) output", "t"],
  ["in_spec_output", "in-specification output", "t"],
];

// The record of docs/formats/plant-reliability.md, an illustration of the
// format (not plant data).
const oeeDocExample = { planned_time: 720, run_time: 648, nameplate_rate: 10, output: 5832, in_spec_output: 5540.4 };

function oeeForm(box, plantTwin) {
  const inputs = Object.fromEntries(oeeFields.map(([f]) => [f, h("input", { type: "number", step: "any", min: 0, id: `oee-${f}`, "data-path": f, size: 9 })]));
  const out = h("div", { id: "oee-out" });
  const note = h("p", { class: "muted small", id: "oee-inputs-note" }, "The demo carries no production record of a line (run time, output, in-specification output): type one.");
  const run = async () => {
    const rec = Object.fromEntries(oeeFields.map(([f]) => [f, Number(inputs[f].value)]));
    for (const [f] of oeeFields) if (inputs[f].value === "") { put(out, fail(`${f}: missing`)); return; }
    try {
      const r = await api.call("POST", "/plant/oee", rec);
      put(out, h("div", { class: "cards" },
        card("oee-availability", "availability = run time ÷ planned time", r.availability, pct(r.availability)),
        card("oee-performance", "performance = output ÷ (nameplate rate × run time)", r.performance, pct(r.performance)),
        card("oee-quality", "quality = in-specification output ÷ output", r.quality, pct(r.quality)),
        card("oee-oee", "OEE = availability × performance × quality", r.oee, pct(r.oee))),
      apiCalls(`POST /plant/oee ${JSON.stringify(rec)}`));
    } catch (err) { put(out, fail(err), apiCalls(`POST /plant/oee ${JSON.stringify(rec)}`)); }
  };
  const cap = plantTwin && typeof plantTwin.capacityTonnesPerYear === "number" ? plantTwin.capacityTonnesPerYear : null;
  const fromTwin = cap === null ? null : h("button", { type: "button", class: "secondary small", id: "oee-nameplate-twin", onclick: () => {
    inputs.nameplate_rate.value = String(cap / 8760);
    put(note, `nameplate rate from ${plantTwin.$dtId}'s capacityTonnesPerYear ${fmt(cap)} t/yr ÷ 8760 h (source: `, citations(((plantTwin.sources || {}).capacityTonnesPerYear) || plantTwin.source || "none given"), "); the rest typed.");
  } }, `nameplate from ${plantTwin.$dtId} (${fmt(cap)} t/yr ÷ 8760 h)`);
  const example = h("button", { type: "button", class: "secondary small", id: "oee-doc-example", onclick: () => {
    for (const [f] of oeeFields) inputs[f].value = String(oeeDocExample[f]);
    put(note, "The example record of docs/formats/plant-reliability.md: an illustration of the format, not plant data.");
  } }, "the documented example");
  put(box,
    h("p", { class: "muted small" }, "OEE was defined for discrete machines; for a continuous SX line it is adapted (research note plant-trust §b.5, a proposal, not a standard; docs/formats/plant-reliability.md): availability = run time ÷ planned time; performance = product (REO) output ÷ (nameplate rate × run time), reported as measured above 1, not capped; quality = in-specification product ÷ total product. Times in one unit, masses in one unit, the rate in mass per time."),
    h("form", { class: "row", id: "oee-form", onsubmit: (e) => { e.preventDefault(); run(); } },
      oeeFields.map(([f, label, unit]) => h("label", { class: "field" }, label, " ", inputs[f], " ", h("span", { class: "muted small" }, unit))),
      h("button", { id: "oee-run" }, "Compute")),
    h("div", { class: "row" }, "Fill from: ", fromTwin, " ", example),
    note, out);
}

// --- block calculator ----------------------------------------------------------------

// The diagram of docs/formats/plant-reliability.md, an illustration of the
// format (its figures are not plant data).
const blockDocExample = { kind: "series", name: "SX train", blocks: [
  { kind: "unit", name: "agitator drive", mtbf: 8000, mttr: 24 },
  { kind: "standby", name: "feed pumps", n: 2, k: 1, mtbf: 3000, mttr: 8, repair_crews: 1 },
  { kind: "k_of_n", k: 2, blocks: [{ kind: "unit", availability: 0.99 }, { kind: "unit", availability: 0.99 }, { kind: "unit", availability: 0.98 }] },
] };

// blockCalculator draws the calculator and returns a function that loads
// a diagram into it and runs it.
function blockCalculator(box) {
  const ed = h("textarea", { id: "block-spec", rows: 12, spellcheck: "false" }, JSON.stringify(blockDocExample, null, 2));
  const label = h("p", { class: "muted small", id: "block-spec-label" }, "The diagram of docs/formats/plant-reliability.md (its figures illustrate the format; they are not plant data). Edit it: unit (mtbf, mttr or availability), series, parallel, k_of_n (k), standby (n, k, mtbf, mttr, repair_crews, hot).");
  const out = h("div", { id: "block-out" });
  const run = async () => {
    let spec;
    try { spec = JSON.parse(ed.value); } catch (err) { put(out, fail("not JSON: " + err.message)); return; }
    try { put(out, h("ul", { class: "tree block-tree" }, blockNode(await api.call("POST", "/plant/availability", spec), spec, "block")), apiCalls("POST /plant/availability")); } catch (err) { put(out, fail(err)); }
  };
  put(box, label, h("details", { open: true }, h("summary", {}, "diagram (JSON, editable)"), ed),
    h("div", { class: "row" }, h("button", { id: "block-run", onclick: run }, "Compute")), out);
  run();
  return (block) => {
    ed.value = JSON.stringify(block, null, 2);
    put(label, "The first train's diagram from the chain above (its figures are the chain's).");
    box.scrollIntoView({ block: "nearest" });
    return run();
  };
}

// blockNode shows a block's availability and its children's, the spec
// beside it (the result repeats the tree).
function blockNode(r, spec, path) {
  const s = spec || {};
  const what = [s.kind, s.name ? ` ${s.name}` : "", s.kind === "k_of_n" ? ` (${s.k} of ${(s.blocks || []).length})` : "", s.kind === "standby" ? ` (${s.k || 1} of ${s.n}, ${s.hot ? "hot" : "cold"}, ${s.repair_crews || 1} crew)` : "",
    s.mtbf ? ` MTBF ${fmt(s.mtbf)}` : "", s.mttr ? ` MTTR ${fmt(s.mttr)}` : ""].join("");
  return h("li", {}, h("span", {}, what, ": ", val(path, r.availability), h("span", { class: "muted small" }, ` (${pct(r.availability)})`)),
    r.blocks && r.blocks.length ? h("ul", {}, r.blocks.map((b, i) => blockNode(b, (s.blocks || [])[i], `${path}-${i}`))) : null);
}
