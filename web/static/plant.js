// Plant pages (#/plant…, issue 13): the plant twin in the dashboard.
//
//   #/plant, #/plant/equipment/ID  equipment tree of a separation plant (from
//                                  the twin graph: plant → section → unit →
//                                  subunit → maintainable item), an item's
//                                  failure records, life fit and age replacement
//   #/plant/availability           the plant's availability from its
//                                  equipment (records → fits → trains →
//                                  plant, written with its provenance), OEE
//                                  of a continuous line, block calculator
//                                  (plant_avail.js)
//   #/plant/live                   connectors and dead letters, live soft
//                                  sensors (estimates, NIS, CUSUM, alarms),
//                                  analyser telemetry, the offline estimator
//                                  (with no live one: on the stored readings)
//   #/plant/control                control strategies side by side
//   #/plant/training, …/ID         operator training console
//   #/plant/inspect                virtual inspection and the fault study
//
// Every number comes from an API answer; specs start from the bundled
// examples (GET /plant/examples) and are editable. A number shown carries
// data-k (its name) and data-v (the value as the API gave it), so the
// browser test (server/browser_plant_test.go) compares them with the API.
// Renders land in the page's own view, which the next navigation detaches.
import { api } from "./api.js";
import { chart, fmt, modelLabel, shortTime } from "./charts.js";
import { h, fail, citations } from "./dom.js";
import { availabilityPage } from "./plant_avail.js";

const enc = encodeURIComponent;
export const raw = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
export const pct = (v) => (typeof v === "number" ? (100 * v).toFixed(1) + " %" : "–");
const num = (v, unit) => (typeof v === "number" ? fmt(v) + (unit ? " " + unit : "") : v === null || v === undefined ? "–" : String(v));

// val is one number of the page in a span with data-k and data-v.
export function val(k, v, shown) { return h("span", { "data-k": k, "data-v": raw(v) }, shown === undefined ? num(v) : shown); }

// card is a headline number.
export function card(k, label, v, shown) {
  return h("div", { class: "card plant-num" }, h("h3", { "data-k": k, "data-v": raw(v) }, shown === undefined ? num(v) : shown), label);
}

// put replaces an element's children, leaving out the absent ones (a
// null child would print as "null").
export function put(el, ...c) { el.replaceChildren(...c.flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false)); }

export const apiCalls = (...calls) => h("p", { class: "api-calls muted small" }, "API: ", calls.map((c, i) => [i ? " · " : "", h("code", {}, c)]));

const tabs = [["", "Equipment"], ["availability", "Availability & OEE"], ["live", "Live telemetry"], ["control", "Control"], ["training", "Training"], ["inspect", "Inspection"]];

// The containment relationships of the ISO 14224 hierarchy in the ontology.
const containment = ["hasSection", "hasUnit", "hasStage", "hasEquipment", "hasSubunit", "hasItem"];
export const M = (name) => `dtmi:lodestone:${name};1`;

let examplesCache = null;
async function example(kind) {
  if (!examplesCache) examplesCache = api.call("GET", "/plant/examples").catch((e) => { examplesCache = null; throw e; });
  const ex = ((await examplesCache).examples || []).find((e) => e.kind === kind);
  if (!ex) throw new Error(`GET /plant/examples has no ${kind} example`);
  return ex;
}

// queryAll runs a query through every continuation page.
export async function queryAll(q) {
  const out = [];
  let tok;
  do {
    const r = await api.query(q, tok);
    out.push(...r.value);
    tok = r.continuationToken;
  } while (tok);
  return out;
}

export async function plantPage(view, arg, params) {
  const [sub, ...rest] = (arg || "").split("/");
  const key = sub === "equipment" ? "" : sub;
  const body = h("div", { id: "plant-body" }, h("p", { class: "muted" }, "Loading…"));
  put(view, 
    h("h2", {}, "Plant"),
    h("nav", { class: "subnav", id: "plant-tabs" }, tabs.map(([k, label]) => h("a", { href: "#/plant" + (k ? "/" + k : ""), "data-tab": k || "equipment", class: k === key ? "active" : "" }, label))),
    body);
  try {
    switch (sub) {
      case "availability": return await availabilityPage(body, params);
      case "live": return await livePage(body);
      case "control": return await controlPage(body);
      case "training": return await trainingPage(body, rest.join("/"));
      case "inspect": return await inspectPage(body);
      default: return await equipmentPage(body, sub === "equipment" ? rest.join("/") : "", params);
    }
  } catch (err) {
    put(body, fail(err));
  }
}

// --- equipment -------------------------------------------------------------

// plantTree reads the hierarchy under a plant: the containment
// relationships, each twin's model and name, and the failure records
// pointing at each twin ('of').
async function plantTree(root) {
  const rels = await queryAll(`SELECT R.$sourceId, R.$relationshipName, R.$targetId FROM RELATIONSHIPS R WHERE R.$relationshipName IN [${containment.map((n) => `'${n}'`).join(", ")}]`);
  const kids = new Map();
  for (const r of rels) {
    if (!kids.has(r.$sourceId)) kids.set(r.$sourceId, []);
    kids.get(r.$sourceId).push(r.$targetId);
  }
  // Depth is the longest path from the root, so a unit listed both under
  // the plant and under its section sits under the section.
  const depth = new Map([[root, 0]]);
  for (let changed = true, guard = 0; changed && guard < 20; guard++) {
    changed = false;
    for (const [src, ts] of kids) {
      if (!depth.has(src)) continue;
      for (const t of ts) if (t !== root && (depth.get(t) ?? -1) < depth.get(src) + 1) { depth.set(t, depth.get(src) + 1); changed = true; }
    }
  }
  const parent = new Map();
  for (const [src, ts] of kids) {
    if (!depth.has(src)) continue;
    for (const t of ts) if (depth.get(t) === depth.get(src) + 1 && !parent.has(t)) parent.set(t, src);
  }
  const children = new Map();
  for (const [c, p] of parent) { if (!children.has(p)) children.set(p, []); children.get(p).push(c); }
  const ids = [root, ...parent.keys()];
  const info = new Map();
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200).map((id) => `'${id.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`).join(", ");
    for (const t of await queryAll(`SELECT T.$dtId, T.$metadata.$model, T.name FROM DIGITALTWINS T WHERE T.$dtId IN [${chunk}]`)) info.set(t.$dtId, t);
  }
  const ofRels = await queryAll("SELECT R.$sourceId, R.$targetId FROM RELATIONSHIPS R WHERE R.$relationshipName = 'of'");
  const records = new Map();
  for (const r of ofRels) { if (!records.has(r.$targetId)) records.set(r.$targetId, []); records.get(r.$targetId).push(r.$sourceId); }
  return { root, children, info, records, size: ids.length };
}

// subtreeRecords counts the failure records at and below a node.
function subtreeRecords(tree, id, memo = new Map()) {
  if (memo.has(id)) return memo.get(id);
  let n = (tree.records.get(id) || []).length;
  for (const c of tree.children.get(id) || []) n += subtreeRecords(tree, c, memo);
  memo.set(id, n);
  return n;
}

// ancestors lists the path from the root to id.
function pathTo(tree, id) {
  const up = new Map();
  for (const [p, cs] of tree.children) for (const c of cs) up.set(c, p);
  const path = [];
  for (let x = id; x !== undefined; x = up.get(x)) path.unshift(x);
  return path[0] === tree.root ? path : [];
}

function treeView(tree, selected) {
  const open = new Set(pathTo(tree, selected));
  const memo = new Map();
  const node = (id) => {
    const t = tree.info.get(id) || { $dtId: id };
    const cs = (tree.children.get(id) || []).slice().sort();
    const n = subtreeRecords(tree, id, memo);
    const label = h("span", { class: "plant-node" + (id === selected ? " selected" : "") },
      h("a", { href: `#/plant/equipment/${enc(id)}`, "data-twin": id }, t.name || id), " ",
      h("span", { class: "tag" }, modelLabel(t.$model)),
      n ? h("span", { class: "tag records", title: "failure records at and below", "data-k": `records-${id}`, "data-v": String(n) }, `${n} failure record${n === 1 ? "" : "s"}`) : null);
    if (!cs.length) return h("li", {}, label);
    return h("li", {}, h("details", { open: open.has(id) || id === tree.root }, h("summary", {}, label), h("ul", { class: "tree" }, cs.map(node))));
  };
  return h("ul", { class: "tree plant-tree", id: "plant-tree", "data-twins": String(tree.size) }, node(tree.root));
}

export async function findPlants() {
  const rows = await queryAll(`SELECT T.$dtId, T.name FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${M("SeparationPlant")}')`);
  const withSections = new Set((await queryAll("SELECT R.$sourceId FROM RELATIONSHIPS R WHERE R.$relationshipName = 'hasSection'")).map((r) => r.$sourceId));
  return rows.filter((r) => withSections.has(r.$dtId));
}

async function equipmentPage(body, selected, params) {
  const plants = await findPlants();
  if (!plants.length) {
    put(body, h("p", { class: "muted", id: "plant-none" }, "No separation plant with sections (hasSection) in the graph. The demo ships the reference plant ref-sep-plant: start ", h("code", {}, "lodestone demo"), "."));
    return;
  }
  // The plant shown: ?plant=ID, else the one that holds the selected twin,
  // else the first.
  let root = params.get("plant") || (plants.find((p) => selected && selected.startsWith(p.$dtId)) || plants[0]).$dtId;
  const tree = await plantTree(root);
  if (selected && !pathTo(tree, selected).length) {
    for (const p of plants) {
      if (p.$dtId === root) continue;
      const t = await plantTree(p.$dtId);
      if (pathTo(t, selected).length) { root = p.$dtId; Object.assign(tree, t); break; }
    }
  }
  const detail = h("div", { id: "plant-detail" }, h("p", { class: "muted" }, "Choose a unit, subunit or maintainable item in the tree: its failure records, life fit and age-replacement optimum show here."));
  const picker = plants.length > 1 ? h("select", { id: "plant-pick", onchange: (e) => { location.hash = `#/plant?plant=${enc(e.target.value)}`; } }, plants.map((p) => h("option", { value: p.$dtId, selected: p.$dtId === root }, p.name || p.$dtId))) : null;
  const all = [...tree.records.values()].flat().length;
  put(body, 
    h("div", { class: "cards" },
      card("tree-twins", `twins in the hierarchy of ${root}`, tree.size),
      card("tree-records", "failure records in the graph (FailureRecord --of-->)", all)),
    picker,
    h("div", { class: "split plant-split" }, h("div", { class: "plant-tree-box" }, treeView(tree, selected)), detail),
    apiCalls("POST /query (containment relationships, twins, 'of' relationships)"));
  if (selected) {
    const sel = body.querySelector(`.plant-node.selected`);
    if (sel) sel.scrollIntoView({ block: "nearest" });
    await itemDetail(detail, selected, tree);
  }
}

async function itemDetail(box, id, tree) {
  const t = await api.twin(id);
  const recIds = tree.records.get(id) || [];
  const recs = [];
  for (let i = 0; i < recIds.length; i += 200) {
    const chunk = recIds.slice(i, i + 200).map((x) => `'${x.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`).join(", ");
    recs.push(...(await queryAll(`SELECT T FROM DIGITALTWINS T WHERE T.$dtId IN [${chunk}] AND IS_OF_MODEL(T, '${M("FailureRecord")}')`)).map((r) => r.T || r));
  }
  recs.sort((a, b) => (a.operatingTime ?? 0) - (b.operatingTime ?? 0));
  // The twin's own scalar properties (its name, notes and sources are shown apart).
  const props = Object.keys(t).filter((k) => !k.startsWith("$") && !["name", "notes", "source", "sources"].includes(k) && ["number", "string", "boolean"].includes(typeof t[k])).sort();
  const fitBox = h("div", { id: "plant-fit" });
  const repBox = h("div", { id: "plant-replace" });
  put(box, 
    h("h3", {}, t.name || id), h("p", { class: "muted small" }, h("a", { href: `#/twin/${enc(id)}` }, id), " · ", modelLabel(t.$metadata.$model)),
    props.length ? h("table", { id: "plant-item-props" }, props.map((k) => h("tr", {}, h("th", {}, k), h("td", {}, val("prop-" + k, t[k]))))) : null,
    t.notes ? h("p", { class: "muted small" }, t.notes) : null,
    t.source ? h("p", { class: "small" }, "Source: ", citations(t.source)) : null,
    h("h4", {}, `Failure records (${recs.length})`),
    recs.length
      ? h("table", { id: "plant-records" }, h("tr", {}, h("th", {}, "record"), h("th", {}, "operating time (h)"), h("th", {}, "event"), h("th", {}, "mode"), h("th", {}, "detected")),
        recs.map((r) => h("tr", { "data-record": r.$dtId }, h("td", {}, h("a", { href: `#/twin/${enc(r.$dtId)}` }, r.$dtId)), h("td", { class: "num" }, val(`record-${r.$dtId}`, r.operatingTime)),
          h("td", {}, r.suspension ? "suspension" : "failure"), h("td", {}, r.failureMode || ""), h("td", {}, shortTime(r.detectedAt || "")))))
      : h("p", { class: "muted", id: "plant-no-records" }, "No FailureRecord twin points at this twin ('of')."),
    // Failures are of equipment units, subunits and maintainable items
    // (FailureRecord.of), not of a plant or a section.
    [M("SeparationPlant"), M("PlantSection")].includes(t.$metadata.$model) ? null : recordForm(id),
    fitBox, repBox);
  if (!recs.length) return;
  await fitView(fitBox, repBox, id, t);
}

// recordForm creates a FailureRecord twin and its 'of' relationship.
function recordForm(id) {
  const time = h("input", { type: "number", step: "any", min: 0, id: "record-time", "data-path": "operatingTime", placeholder: "operating hours" });
  const kind = h("select", { id: "record-kind" }, h("option", { value: "failure" }, "failure"), h("option", { value: "suspension" }, "suspension (removed, not failed)"));
  const form = h("form", { class: "row record-form", onsubmit: async (e) => {
    e.preventDefault();
    form.querySelector(".form-errors").replaceChildren();
    const v = Number(time.value);
    if (time.value === "" || !(v >= 0)) { form.querySelector(".form-errors").append(h("li", { class: "error" }, "operatingTime: give the item's operating hours at the event (≥ 0)")); return; }
    const rid = `fr-${id}-${Date.now().toString(36)}`;
    try {
      await api.putTwin(rid, { $metadata: { $model: M("FailureRecord") }, name: `${kind.value} of ${id} at ${v} h`, operatingTime: v, suspension: kind.value === "suspension", detectedAt: new Date().toISOString(), source: "manual entry in the dashboard (#/plant)" }, true);
      await api.putRelationship(rid, "of", { $relationshipName: "of", $targetId: id });
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (err) { form.querySelector(".form-errors").append(h("li", { class: "error" }, err.message)); }
  } }, "Record ", kind, " at ", h("span", { class: "field" }, time), " h ", h("button", { id: "record-add" }, "Add"), h("ul", { class: "form-errors" }));
  return form;
}

async function fitView(fitBox, repBox, id, t) {
  const path = `/plant/equipment/${enc(id)}/reliability?distribution=auto`;
  let fit;
  try { fit = await api.call("GET", path); } catch (err) { put(fitBox, h("h4", {}, "Life fit"), fail(err), apiCalls("GET " + path)); return; }
  const cands = fit.candidates && fit.candidates.length ? fit.candidates : [fit];
  const ci = (c) => (c ? `${fmt(c[0])} – ${fmt(c[1])}` : "–");
  put(fitBox, 
    h("h4", {}, "Life fit (maximum likelihood, right-censored)"),
    h("div", { class: "cards" },
      card("fit-distribution", `chosen by AIC of ${cands.length}`, fit.distribution),
      card("fit-mttf", "MTTF (h)", fit.mttf),
      card("fit-n", `observations (${fit.failures} failures)`, fit.n)),
    h("table", { id: "plant-fit-table" }, h("tr", {}, h("th", {}, "distribution"), h("th", {}, "shape"), h("th", {}, `shape ${pct(fit.confidence)} bounds`), h("th", {}, "scale (h)"), h("th", {}, "scale bounds (h)"), h("th", {}, "MTTF (h)"), h("th", {}, "log L"), h("th", {}, "AIC")),
      cands.map((c) => h("tr", { "data-dist": c.distribution, class: c.distribution === fit.distribution ? "selected" : "" },
        h("td", {}, c.distribution, c.distribution === fit.distribution ? h("span", { class: "tag" }, "chosen") : null),
        h("td", { class: "num" }, val(`fit-${c.distribution}-shape`, c.shape)), h("td", { class: "num" }, val(`fit-${c.distribution}-shape_ci`, c.shape_ci, ci(c.shape_ci))),
        h("td", { class: "num" }, val(`fit-${c.distribution}-scale`, c.scale)), h("td", { class: "num" }, val(`fit-${c.distribution}-scale_ci`, c.scale_ci, ci(c.scale_ci))),
        h("td", { class: "num" }, val(`fit-${c.distribution}-mttf`, c.mttf)), h("td", { class: "num" }, fmt(c.log_likelihood)), h("td", { class: "num" }, val(`fit-${c.distribution}-aic`, c.aic))))),
    h("p", { class: "muted small" }, `Lognormal: shape is σ of log life, scale is its median. ${fit.bounds === "lr" ? "Likelihood-ratio" : "Fisher-matrix"} bounds at ${pct(fit.confidence)}.`),
    apiCalls("GET " + path));
  const weibull = cands.find((c) => c.distribution === "weibull");
  if (!weibull) return;
  const cp = h("input", { type: "number", step: "any", min: 0, id: "replace-cp", "data-path": "cost_preventive", value: t.costPreventive ?? "" });
  const cf = h("input", { type: "number", step: "any", min: 0, id: "replace-cf", "data-path": "cost_failure", value: t.costFailure ?? "" });
  const out = h("div", { id: "plant-replace-out" });
  const run = async () => {
    const spec = { shape: weibull.shape, scale: weibull.scale, cost_preventive: Number(cp.value), cost_failure: Number(cf.value) };
    try {
      const r = await api.call("POST", "/plant/reliability/replace", spec);
      put(out, h("div", { class: "cards" },
        card("replace-interval", r.run_to_failure ? "run to failure: no finite optimum (β ≤ 1 or costs)" : "optimum replacement age (h)", r.interval, r.interval === null ? "run to failure" : fmt(r.interval)),
        card("replace-cost-rate", "cost per hour at the optimum", r.cost_rate),
        card("replace-rtf-cost-rate", "cost per hour, run to failure", r.run_to_failure_cost_rate),
        card("replace-saving", "saving", r.saving, pct(r.saving)),
        card("replace-reliability", "reliability at the interval", r.reliability_at_interval, pct(r.reliability_at_interval))),
      apiCalls(`POST /plant/reliability/replace ${JSON.stringify(spec)}`));
    } catch (err) { put(out, fail(err)); }
  };
  const planBox = h("div", { id: "plant-plan" });
  put(repBox, h("h4", {}, "Age replacement (Weibull fit)"),
    h("form", { class: "row", id: "replace-form", onsubmit: (e) => { e.preventDefault(); run(); } },
      "cost of a planned replacement ", h("span", { class: "field" }, cp), " cost of a failure ", h("span", { class: "field" }, cf), h("button", { id: "replace-run" }, "Optimise")),
    h("p", { class: "muted small" }, t.costPreventive === undefined ? "The item carries no costPreventive/costFailure: type them (the plant's currency)." : "Costs from the item's costPreventive and costFailure."),
    out, planBox);
  planForm(planBox, id, t, weibull, cp, cf);
  if (t.costPreventive !== undefined && t.costFailure !== undefined) await run();
}

// planForm asks for the item's preventive-maintenance plan over a horizon
// (POST /plant/maintenance/plan; its optimum interval, expected failures,
// cost and availability) and can write its work orders as WorkOrder twins.
function planForm(box, id, t, weibull, cp, cf) {
  const horizon = h("input", { type: "number", step: "any", min: 0, id: "plan-horizon", "data-path": "horizon", placeholder: "hours", size: 8 });
  const mp = h("input", { type: "number", step: "any", min: 0, id: "plan-mttr-p", "data-path": "items[0].mttr_preventive", placeholder: "h", size: 5 });
  const mc = h("input", { type: "number", step: "any", min: 0, id: "plan-mttr-c", "data-path": "items[0].mttr_corrective", placeholder: "h", size: 5, value: t.meanTimeToRepair ?? "" });
  const out = h("div", { id: "plant-plan-out" });
  const spec = () => ({ horizon: Number(horizon.value), items: [{ id, shape: weibull.shape, scale: weibull.scale, cost_preventive: Number(cp.value), cost_failure: Number(cf.value), mttr_preventive: Number(mp.value), mttr_corrective: Number(mc.value) }] });
  const plan = async (write) => {
    const path = "/plant/maintenance/plan" + (write ? `?write=true&start=${enc(new Date().toISOString())}` : "");
    try {
      const r = await api.call("POST", path, spec());
      const it = r.items[0];
      put(out, h("div", { class: "cards" },
        card("plan-interval", it.optimised ? "replacement interval (h, optimum)" : "replacement interval (h)", it.interval, it.interval === null ? "run to failure" : fmt(it.interval)),
        card("plan-work-orders", `preventive work orders over ${fmt(r.horizon)} h${it.truncated ? " (list truncated)" : ""}`, it.work_orders.length),
        card("plan-failures", "expected failures", it.expected_failures),
        card("plan-cost", "expected cost", it.expected_cost),
        card("plan-availability", "availability", it.availability, pct(it.availability))),
      it.work_orders.length ? h("table", { id: "plan-orders" }, h("tr", {}, h("th", {}, "work order"), h("th", {}, "due (h)"), h("th", {}, "duration (h)")),
        it.work_orders.slice(0, 10).map((w) => h("tr", {}, h("td", {}, write ? h("a", { href: `#/twin/${enc(w.id)}` }, w.id) : w.id), h("td", { class: "num" }, fmt(w.due)), h("td", { class: "num" }, fmt(w.duration))))) : null,
      it.work_orders.length > 10 ? h("p", { class: "muted small" }, `… and ${it.work_orders.length - 10} more`) : null,
      write ? h("p", { id: "plan-written" }, `${it.work_orders.length} WorkOrder twins written (status planned, due from now), each appliesTo ${id}.`) : h("button", { class: "secondary", id: "plan-write", onclick: () => plan(true) }, "Write the work orders as twins"),
      apiCalls("POST " + path));
    } catch (err) { put(out, fail(err)); }
  };
  put(box, h("h4", {}, "Maintenance plan"),
    h("form", { class: "row", id: "plan-form", onsubmit: (e) => { e.preventDefault(); plan(false); } },
      "horizon ", h("span", { class: "field" }, horizon), " h · time to replace: planned ", h("span", { class: "field" }, mp), " h, after a failure ", h("span", { class: "field" }, mc), " h ",
      h("button", { id: "plan-run" }, "Plan")),
    h("p", { class: "muted small" }, "Uses the Weibull fit and the costs above; the interval is the age-replacement optimum."),
    out);
}

// --- live ----------------------------------------------------------------------

async function livePage(body) {
  const [conns, ests] = await Promise.all([api.call("GET", "/plant/connectors"), api.call("GET", "/plant/estimators")]);
  const cs = conns.value || [], es = ests.value || [];
  const dlBox = h("div", { id: "dead-letters" });
  const showDL = async (id) => {
    try {
      const r = await api.call("GET", `/plant/connectors/${enc(id)}/dead-letters`);
      put(dlBox, h("h4", {}, `Dead letters of ${id} (${r.value.length})`),
        h("table", { id: "dead-letter-table", "data-connector": id }, h("tr", {}, h("th", {}, "seq"), h("th", {}, "at"), h("th", {}, "source"), h("th", {}, "twin"), h("th", {}, "reason"), h("th", {}, "payload")),
          r.value.map((d) => h("tr", {}, h("td", {}, String(d.seq)), h("td", { class: "time" }, shortTime(d.at)), h("td", {}, d.source || ""), h("td", {}, d.twin || ""), h("td", { class: "error" }, d.reason), h("td", {}, h("code", {}, String(d.payload || "").slice(0, 200)))))),
        apiCalls(`GET /plant/connectors/${id}/dead-letters`));
    } catch (err) { put(dlBox, fail(err)); }
  };
  const connTable = cs.length
    ? h("table", { id: "connector-table" }, h("tr", {}, h("th", {}, "connector"), h("th", {}, "kind"), h("th", {}, "source"), h("th", {}, "state"), h("th", {}, "received"), h("th", {}, "stored"), h("th", {}, "dead-lettered"), h("th", {}, "queued"), h("th", {}, "reconnects"), h("th", {}, "latency p50 / p95 (ms)"), h("th", {}, "")),
      cs.map((c) => h("tr", { "data-connector": c.id }, h("td", {}, c.id), h("td", {}, c.kind), h("td", {}, c.source), h("td", {}, c.state, c.connected ? "" : h("span", { class: "tag" }, "disconnected")),
        h("td", { class: "num" }, val(`conn-${c.id}-received`, c.received)), h("td", { class: "num" }, val(`conn-${c.id}-stored`, c.stored)), h("td", { class: "num" }, val(`conn-${c.id}-deadLettered`, c.deadLettered)),
        h("td", { class: "num" }, `${c.queued}/${c.queueCapacity}`), h("td", { class: "num" }, String(c.reconnects)),
        h("td", { class: "num" }, c.latencyMs && c.latencyMs.n ? `${fmt(c.latencyMs.p50)} / ${fmt(c.latencyMs.p95)}` : "–"),
        h("td", {}, h("button", { class: "secondary small", "data-dl": c.id, onclick: () => showDL(c.id) }, "dead letters")))))
    : h("p", { class: "muted", id: "connectors-none" }, "No connectors run on this server. Start it with ", h("code", {}, "--connectors FILE"), " (MQTT, OPC UA; docs/formats/plant-connectors.md).");
  const estBox = h("div", { id: "estimators" });
  const telBox = h("div", { id: "plant-telemetry" });
  const offBox = h("div", { id: "offline-estimate" });
  put(body, 
    h("h3", {}, "Connectors"), connTable, dlBox, apiCalls("GET /plant/connectors"),
    h("h3", {}, "Live soft sensors"), estBox,
    h("h3", {}, "Analyser telemetry"), telBox,
    h("h3", {}, "Offline estimator run"), offBox);
  if (!es.length) {
    const stored = h("div", { id: "stored-estimate" });
    put(estBox, h("p", { class: "muted", id: "estimators-none" }, "No soft sensor runs on this server. Start it with ", h("code", {}, "--estimators FILE"), " (docs/formats/plant-estimators.md). Below, the estimator is run offline on the analyser readings stored on this server, and on the bundled readings."), apiCalls("GET /plant/estimators"), stored);
    await storedEstimate(stored).catch((err) => put(stored, fail(err)));
  } else await Promise.all(es.map(estimatorView)).then((v) => put(estBox, v, apiCalls("GET /plant/estimators", "GET /plant/estimators/{id}/alarms", "GET /digitaltwins/{twin}"))).catch((err) => put(estBox, fail(err)));
  // Each section shows its own failure; the others still render.
  const own = (box, f) => f(box).catch((err) => put(box, fail(err)));
  await Promise.all([own(telBox, (b) => telemetryView(b, es)), own(offBox, offlineEstimate)]);
}

async function estimatorView(s) {
  const [alarms, tw] = await Promise.all([
    api.call("GET", `/plant/estimators/${enc(s.id)}/alarms`).then((r) => r.value).catch(() => s.alarms || []),
    api.twin(s.twin).catch(() => null)]);
  const k = (x) => `est-${s.id}-${x}`;
  const stages = (tw && tw.stages) || [];
  // The SoftSensor model's stage fields (models/SoftSensor.json).
  const aq = (st) => st.aqueousMgPerL || {}, org = (st) => st.organicMgPerL || {};
  const els = [...new Set(stages.flatMap((st) => Object.keys(aq(st))))].sort();
  const ack = h("button", { class: "secondary", id: `ack-${s.id}`, onclick: async () => {
    try { await api.call("POST", `/plant/estimators/${enc(s.id)}/acknowledge`); ack.textContent = "acknowledged: the server certifies again within a second"; ack.disabled = true; } catch (err) { ack.after(fail(err)); }
  } }, "Acknowledge alarms");
  return [h("section", { class: "estimator", "data-estimator": s.id },
    h("h4", {}, s.id, " → ", h("a", { href: `#/twin/${enc(s.twin)}` }, s.twin), " ", h("span", { class: "tag", "data-k": k("certified"), "data-v": String(s.certified) }, s.certified ? "certified" : "uncertified")),
    h("div", { class: "cards" },
      card(k("t_h"), `filter time (h after ${shortTime(s.start)})`, s.t_h),
      card(k("readings"), `readings (${s.late} late, ${s.tooLate} too late, ${s.rejected} rejected)`, s.readings),
      card(k("nis"), `NIS over the last ${s.nis.count} of ${s.nis.window} (χ² bound ${fmt(s.nis.bound)})`, s.nis.sum),
      card(k("alarms"), "alarms (out_of_sync, sensor_drift)", alarms.length)),
    h("table", { class: "estimator-sensors" }, h("tr", {}, h("th", {}, "sensor"), h("th", {}, "telemetry"), h("th", {}, "readings"), h("th", {}, "last t (h)"), h("th", {}, "CUSUM +"), h("th", {}, "CUSUM −"), h("th", {}, "")),
      (s.sensors || []).map((x) => h("tr", {}, h("td", {}, x.id), h("td", {}, `${x.twin}.${x.telemetry}`), h("td", { class: "num" }, val(k(`sensor-${x.id}-readings`), x.readings)), h("td", { class: "num" }, fmt(x.last_t_h)),
        h("td", { class: "num" }, fmt(x.cusumPlus)), h("td", { class: "num" }, fmt(x.cusumMinus)), h("td", {}, x.isolated ? h("span", { class: "tag" }, "isolated") : "")))),
    alarms.length ? h("table", { class: "estimator-alarms" }, h("tr", {}, h("th", {}, "#"), h("th", {}, "kind"), h("th", {}, "sensor"), h("th", {}, "t (h)"), h("th", {}, "data time")),
      alarms.map((a) => h("tr", { class: "alarm" }, h("td", {}, String(a.seq)), h("td", {}, val(k(`alarm-${a.seq}-kind`), a.kind)), h("td", {}, a.sensor || "(the filter)"), h("td", { class: "num" }, fmt(a.t_h)), h("td", { class: "time" }, shortTime(a.time))))) : null,
    alarms.length ? ack : null,
    stages.length ? h("table", { class: "estimator-stages" }, h("tr", {}, h("th", {}, "stage"), els.map((e) => [h("th", {}, `${e} aq (mg/L)`), h("th", {}, `${e} org (mg/L)`)])),
      stages.map((st) => h("tr", {}, h("td", {}, String(st.stage)), els.map((e) => [h("td", { class: "num" }, val(k(`stage-${st.stage}-${e}-aq`), aq(st)[e])), h("td", { class: "num" }, val(k(`stage-${st.stage}-${e}-org`), org(st)[e]))])))) : h("p", { class: "muted" }, "No estimate written to the twin yet."),
    tw && tw.estimatedAt ? h("p", { class: "muted small" }, `estimates of ${shortTime(tw.estimatedAt)} (t = ${fmt(tw.timeH)} h) on ${s.twin}`) : null)];
}

// storedEstimate runs the estimator offline (POST /plant/estimate) on the
// readings stored on this server when no live one runs: on the demo
// (GET /demo/story names the analyser and the sensor whose readings it
// replays), the cascade, alarm settings and that sensor of the story's
// estimator file, the measurements read back from the analyser's assay
// telemetry. t_h counts hours from 00:00 UTC of the first stored
// reading's day (the demo replays from 2025-01-01T00:00Z, so t_h is the
// file's). It is labelled offline: nothing here is a live soft sensor.
async function storedEstimate(box) {
  const story = await api.call("GET", "/demo/story").catch((err) => { if (err.status === 404) return null; throw err; });
  if (!story) {
    put(box, h("p", { class: "muted", id: "stored-none" }, "This server is not the demo (no GET /demo/story): no stored readings are known to belong to an estimator's sensor."));
    return;
  }
  const est = story.estimate || {};
  const sensor = (est.sensors || []).find((x) => x.id === story.sensor);
  if (!sensor) throw new Error(`GET /demo/story: its estimate has no sensor ${story.sensor}`);
  const tPath = `/digitaltwins/${enc(story.analyser)}/telemetry?name=assay&limit=1000`;
  const tel = await api.call("GET", tPath);
  const pts = (tel.value || []).filter((p) => p.value && typeof p.value[sensor.element] === "number")
    .map((p) => ({ ms: Date.parse(p.sourceTime), v: p.value[sensor.element] })).sort((a, b) => a.ms - b.ms);
  if (!pts.length) {
    put(box, h("p", { class: "muted", id: "stored-none" }, `No ${sensor.element} assay stored on ${story.analyser} yet.`));
    return;
  }
  const d = new Date(pts[0].ms);
  const t0 = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const spec = { cascade: est.cascade, alarm: est.alarm, sensors: [sensor], measurements: pts.map((p) => ({ t_h: (p.ms - t0) / 3600e3, sensor: sensor.id, value: p.v })) };
  if (est.noise) spec.noise = est.noise;
  const out = await api.call("POST", "/plant/estimate", spec);
  const ests = out.estimates || [], alarms = out.alarms || [];
  const drift = alarms.find((a) => a.sensor);
  const last = ests[ests.length - 1];
  const phaseKey = sensor.phase === "organic" ? "organic_mg_per_L" : "aqueous_mg_per_L";
  const at = (th) => new Date(t0 + th * 3600e3).toISOString().replace(".000Z", "Z");
  const estAt = ests.map((e) => [e.t_h, ((e.stages || []).find((st) => st.stage === sensor.stage) || {})[phaseKey]?.[sensor.element]]);
  const c = chart({
    animation: false, title: { text: `${sensor.id}: stored readings and the offline estimate (stage ${sensor.stage} ${sensor.phase} ${sensor.element}, mg/L)`, textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" }, legend: { bottom: 0 },
    grid: { left: 64, right: 20, top: 36, bottom: 48 }, xAxis: { type: "value", name: "t (h)" }, yAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => fmt(v) } },
    series: [
      { type: "scatter", name: `readings of ${story.analyser}`, symbolSize: 4, data: spec.measurements.map((m) => [m.t_h, m.value]),
        markLine: { symbol: "none", lineStyle: { color: "#b3261e" }, label: { formatter: (p) => p.name, position: "insideEndTop" }, data: alarms.map((a) => ({ name: a.kind + (a.sensor ? " " + a.sensor : ""), xAxis: a.t_h })) } },
      { type: "line", name: "estimate (offline EKF)", showSymbol: false, data: estAt },
    ],
  }, { height: 260, id: "stored-chart" });
  const els = last ? [...new Set((last.stages || []).flatMap((st) => Object.keys(st.aqueous_mg_per_L || {})))].sort() : [];
  put(box,
    h("h4", {}, h("span", { class: "tag offline", id: "stored-offline" }, "OFFLINE"), ` estimator on the ${pts.length} readings stored on ${story.analyser} (not a live soft sensor)`),
    h("p", { class: "muted small" }, `The demo replays ${story.sensor} of its estimator file as ${story.analyser}'s assay telemetry (the sensor reads 5 σ high from 10 h); this run reads them back from the store and filters them with that file's cascade and alarm settings. t = 0 at ${at(0)}.`),
    h("div", { class: "cards" },
      card("stored-readings", `${sensor.element} readings read back (first at t = ${fmt(spec.measurements[0].t_h)} h)`, pts.length),
      card("stored-first-t", "first reading's t (h)", spec.measurements[0].t_h),
      card("stored-estimates", "estimates", ests.length),
      card("stored-alarms", "alarms", alarms.length),
      drift ? card("stored-drift", `first alarm naming a sensor: ${drift.sensor} at ${fmt(drift.t_h)} h (data time ${at(drift.t_h)})`, drift.kind) : null,
      last ? card("stored-certified", `estimate at ${fmt(last.t_h)} h`, last.certified, last.certified ? "certified" : "uncertified") : null),
    h("div", { class: "charts wide" }, c),
    drift && spec.sensors.length === 1 ? h("p", { class: "muted small", id: "stored-isolated" }, `After its sensor_drift the sensor is isolated and its later readings are not used (docs/formats/plant-estimate.md); with ${drift.sensor} the only sensor, the estimate stops at ${fmt(drift.t_h)} h.`) : null,
    alarms.length ? h("table", { id: "stored-alarms-table" }, h("tr", {}, h("th", {}, "t (h)"), h("th", {}, "data time"), h("th", {}, "kind"), h("th", {}, "sensor")),
      alarms.map((a, i) => h("tr", {}, h("td", { class: "num" }, val(`stored-alarm-${i}-t`, a.t_h, fmt(a.t_h))), h("td", { class: "time" }, at(a.t_h)), h("td", {}, val(`stored-alarm-${i}-kind`, a.kind)), h("td", {}, a.sensor || "(the filter)")))) : null,
    last ? h("details", {}, h("summary", {}, `the last estimate (t = ${fmt(last.t_h)} h), every stage`),
      h("table", { id: "stored-stages" }, h("tr", {}, h("th", {}, "stage"), els.map((e) => [h("th", {}, `${e} aq (mg/L)`), h("th", {}, `${e} org (mg/L)`)])),
        (last.stages || []).map((st) => h("tr", {}, h("td", {}, String(st.stage)), els.map((e) => [h("td", { class: "num" }, val(`stored-stage-${st.stage}-${e}-aq`, (st.aqueous_mg_per_L || {})[e])), h("td", { class: "num" }, val(`stored-stage-${st.stage}-${e}-org`, (st.organic_mg_per_L || {})[e]))]))))) : null,
    apiCalls("GET /demo/story", `GET ${tPath}`, "POST /plant/estimate"));
}

// telemetryView charts the assay telemetry of the plant's analysers (those
// of the live estimators first, else every Analyser twin).
async function telemetryView(box, ests) {
  let ids = [...new Set(ests.flatMap((s) => (s.sensors || []).map((x) => x.twin)))];
  if (!ids.length) ids = (await queryAll(`SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${M("Analyser")}')`)).map((r) => r.$dtId);
  const series = [];
  for (const id of ids.slice(0, 12)) {
    const r = await api.call("GET", `/digitaltwins/${enc(id)}/telemetry?name=assay&limit=1000`).catch(() => ({ value: [] }));
    const byKey = new Map();
    for (const p of r.value || []) for (const [key, v] of Object.entries(p.value || {})) {
      if (typeof v !== "number") continue;
      if (!byKey.has(key)) byKey.set(key, []);
      byKey.get(key).push([Date.parse(p.sourceTime), v]);
    }
    for (const [key, pts] of byKey) series.push({ name: `${id} ${key}`, id, data: pts });
  }
  if (!series.length) {
    put(box, h("p", { class: "muted", id: "telemetry-none" }, `No assay telemetry on the ${ids.length} analyser twin(s).`));
    return;
  }
  const total = series.reduce((n, s) => n + s.data.length, 0);
  const c = chart({
    animation: false, title: { text: "analyser assays (as stored)", textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" }, legend: { bottom: 0, type: "scroll" },
    grid: { left: 64, right: 20, top: 36, bottom: 48 }, xAxis: { type: "time" }, yAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => fmt(v) } },
    series: series.map((s) => ({ type: "line", name: s.name, showSymbol: false, data: s.data })),
  }, { height: 260, id: "plant-telemetry-chart" });
  c.dataset.series = series.map((s) => s.name).join("|");
  c.dataset.points = String(total);
  put(box, h("div", { class: "cards" }, card("telemetry-points", `assay readings of ${ids.length} analyser(s) charted`, total)), h("div", { class: "charts wide" }, c),
    apiCalls(...ids.slice(0, 3).map((id) => `GET /digitaltwins/${id}/telemetry?name=assay`)));
}

// offlineEstimate runs the bundled estimator file (POST /plant/estimate)
// and draws a sensor's innovations with ±2√S, the alarms marked.
async function offlineEstimate(box) {
  const ex = await example("estimate");
  const out = await api.call("POST", "/plant/estimate", ex.spec);
  const inn = out.innovations || [], alarms = out.alarms || [], ests = out.estimates || [];
  const sensors = [...new Set(inn.map((x) => x.sensor))];
  const drift = alarms.find((a) => a.sensor);
  const shown = drift ? drift.sensor : sensors[0];
  const mine = inn.filter((x) => x.sensor === shown);
  const c = chart({
    animation: false, title: { text: `innovations of ${shown} (mg/L) with ±2√S`, textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" }, legend: { bottom: 0 },
    grid: { left: 64, right: 20, top: 36, bottom: 48 }, xAxis: { type: "value", name: "t (h)" }, yAxis: { type: "value", axisLabel: { formatter: (v) => fmt(v) } },
    series: [
      { type: "line", name: "ν", showSymbol: false, data: mine.map((x) => [x.t_h, x.nu]),
        markLine: { symbol: "none", lineStyle: { color: "#b3261e" }, label: { formatter: (p) => p.name, position: "insideEndTop" }, data: alarms.map((a) => ({ name: a.kind + (a.sensor ? " " + a.sensor : ""), xAxis: a.t_h })) } },
      { type: "line", name: "+2√S", showSymbol: false, lineStyle: { type: "dashed" }, data: mine.map((x) => [x.t_h, 2 * Math.sqrt(x.s)]) },
      { type: "line", name: "−2√S", showSymbol: false, lineStyle: { type: "dashed" }, data: mine.map((x) => [x.t_h, -2 * Math.sqrt(x.s)]) },
    ],
  }, { height: 260, id: "offline-innovations" });
  const last = ests[ests.length - 1];
  put(box, 
    h("p", { class: "muted small" }, ex.spec.description || `examples/plant/${ex.name}.json`),
    h("div", { class: "cards" },
      card("offline-estimates", "estimates", ests.length),
      card("offline-innovations", `innovations of ${sensors.length} sensors`, inn.length),
      card("offline-alarms", "alarms", alarms.length),
      drift ? card("offline-drift", `first alarm naming a sensor: ${drift.sensor} at ${fmt(drift.t_h)} h`, drift.kind) : null,
      last ? card("offline-certified", `estimate at ${fmt(last.t_h)} h`, last.certified, last.certified ? "certified" : "uncertified") : null),
    h("div", { class: "charts wide" }, c),
    h("table", { id: "offline-alarms-table" }, h("tr", {}, h("th", {}, "t (h)"), h("th", {}, "kind"), h("th", {}, "sensor")),
      alarms.map((a, i) => h("tr", {}, h("td", { class: "num" }, val(`offline-alarm-${i}-t`, a.t_h, fmt(a.t_h))), h("td", {}, val(`offline-alarm-${i}-kind`, a.kind)), h("td", {}, a.sensor || "(the filter)")))),
    apiCalls(`GET /plant/examples (${ex.name})`, "POST /plant/estimate"));
}

// --- control -------------------------------------------------------------------

function specEditor(id, spec) {
  return h("textarea", { id, rows: 14, spellcheck: "false" }, JSON.stringify(spec, null, 2));
}

async function controlPage(body) {
  const ex = await example("control");
  const ed = specEditor("control-spec", ex.spec);
  const out = h("div", { id: "control-out" });
  const run = async () => {
    put(out, h("p", { class: "muted" }, "Running…"));
    let spec;
    try { spec = JSON.parse(ed.value); } catch (err) { put(out, fail("not JSON: " + err.message)); return; }
    try { put(out, ...controlView(await api.call("POST", "/plant/control", spec), spec)); } catch (err) { put(out, fail(err)); }
  };
  put(body, h("p", {}, ex.spec.description || ""),
    h("details", {}, h("summary", {}, `spec (examples/plant/${ex.name}.json, editable)`), ed),
    h("div", { class: "row" }, h("button", { id: "control-run", onclick: run }, "Run strategies")), out);
  await run();
}

function controlView(r, spec) {
  const ss = r.strategies || [];
  const unit = (spec.monitor || {}).measure === "fraction" ? "mass fraction" : (spec.monitor || {}).measure || "mg/L";
  const kpi = (s, key, v, shown) => h("td", { class: "num" }, val(`control-${s}-${key}`, v, shown));
  const vol = (s) => (s.reagents || []).reduce((n, x) => n + x.volume_L, 0);
  const cv = chart({
    animation: false, title: { text: `controlled variable: stage ${(spec.monitor || {}).stage} ${(spec.monitor || {}).element || ""} ${unit}`, textStyle: { fontSize: 12 } },
    tooltip: { trigger: "axis" }, legend: { bottom: 0, type: "scroll" }, grid: { left: 64, right: 20, top: 36, bottom: 56 },
    xAxis: { type: "value", name: "t (h)" }, yAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => fmt(v) } },
    series: ss.map((s, i) => ({ type: "line", name: s.name, showSymbol: false, data: s.series.t_h.map((t, j) => [t, s.series.cv[j]]),
      markLine: i === 0 ? { symbol: "none", lineStyle: { type: "dashed", color: "#666" }, label: { formatter: "setpoint" }, data: [{ yAxis: r.setpoint }] } : undefined })),
  }, { height: 300, id: "control-cv" });
  cv.dataset.series = ss.map((s) => s.name).join("|");
  const pur = chart({
    animation: false, title: { text: `product purity (${(spec.product || {}).element} in the ${(spec.product || {}).outlet}), minimum ${(spec.product || {}).min_purity}`, textStyle: { fontSize: 12 } },
    tooltip: { trigger: "axis" }, legend: { bottom: 0, type: "scroll" }, grid: { left: 64, right: 20, top: 36, bottom: 56 },
    xAxis: { type: "value", name: "t (h)" }, yAxis: { type: "value", scale: true },
    series: ss.map((s, i) => ({ type: "line", name: s.name, showSymbol: false, data: s.series.t_h.map((t, j) => [t, s.series.product_purity[j]]),
      markLine: i === 0 && spec.product ? { symbol: "none", lineStyle: { type: "dashed", color: "#b3261e" }, data: [{ yAxis: spec.product.min_purity }] } : undefined })),
  }, { height: 260, id: "control-purity" });
  return [
    h("table", { id: "control-kpis" }, h("tr", {}, h("th", {}, "strategy"), h("th", {}, `IAE (${unit}·h)`), h("th", {}, "peak deviation"), h("th", {}, "overshoot"), h("th", {}, "settling (h)"), h("th", {}, "in spec"), h("th", {}, "final purity"), h("th", {}, "reagent volume (L)")),
      ss.map((s) => h("tr", { "data-strategy": s.name }, h("td", {}, s.name), kpi(s.name, "iae", s.iae), kpi(s.name, "peak_deviation", s.peak_deviation), kpi(s.name, "overshoot_pct", s.overshoot_pct, fmt(s.overshoot_pct) + " %"),
        kpi(s.name, "settling_time_h", s.settling_time_h, s.settling_time_h === null ? "not settled" : fmt(s.settling_time_h)), kpi(s.name, "time_in_spec_fraction", s.time_in_spec_fraction, pct(s.time_in_spec_fraction)),
        kpi(s.name, "final_product_purity", s.final_product_purity), h("td", { class: "num" }, fmt(vol(s)))))),
    h("p", { class: "muted small" }, "setpoint ", val("control-setpoint", r.setpoint), ". IAE = ∫|SP − CV| dt; settling: from the first disturbance to the end of the last excursion outside the band; in spec: time the product purity met its minimum (docs/formats/plant-control.md)."),
    h("div", { class: "charts wide" }, cv, pur),
    apiCalls("POST /plant/control"),
  ];
}

// --- training ------------------------------------------------------------------

const malfunctionKinds = ["pump_trip", "analyser_failure", "feed_upset", "entrainment"];

async function trainingPage(body, id) {
  if (id) return sessionConsole(body, id);
  const [ex, list] = await Promise.all([example("training"), api.call("GET", "/plant/sessions")]);
  const scenario = ex.spec.scenario;
  const ed = specEditor("training-scenario", scenario);
  const errs = h("ul", { class: "form-errors", id: "training-errors" });
  const mk = h("select", { id: "mal-kind" }, malfunctionKinds.map((k) => h("option", { value: k }, k)));
  const at = h("input", { type: "number", step: "any", min: 0, id: "mal-at", placeholder: "at h", size: 6 });
  const inlet = h("input", { type: "number", min: 0, id: "mal-inlet", placeholder: "inlet", size: 4 });
  const factor = h("input", { type: "number", step: "any", id: "mal-factor", placeholder: "factor", size: 6 });
  const field = h("input", { type: "text", id: "mal-field", placeholder: "field (feed_upset: flow_L_per_h, mg_per_L.Nd…)", size: 28 });
  const malTable = h("table", { id: "training-malfunctions" });
  const showMalfunctions = () => {
    let s;
    try { s = JSON.parse(ed.value); } catch { return; }
    put(malTable, h("tr", {}, h("th", {}, "#"), h("th", {}, "at (h)"), h("th", {}, "malfunction"), h("th", {}, "inlet / field / factor")),
      (s.malfunctions || []).map((m, i) => h("tr", {}, h("td", {}, String(i)), h("td", { class: "num" }, fmt(m.at_h)), h("td", {}, m.kind), h("td", {}, [m.inlet, m.field, m.factor].filter((x) => x !== undefined).join(" · ")))));
  };
  ed.addEventListener("input", showMalfunctions);
  const inject = () => {
    put(errs, );
    let s;
    try { s = JSON.parse(ed.value); } catch (err) { errs.append(h("li", { class: "error" }, "not JSON: " + err.message)); return; }
    const m = { at_h: Number(at.value), kind: mk.value };
    if (inlet.value !== "") m.inlet = Number(inlet.value);
    if (field.value.trim() !== "") m.field = field.value.trim();
    if (factor.value !== "") m.factor = Number(factor.value);
    s.malfunctions = [...(s.malfunctions || []), m];
    ed.value = JSON.stringify(s, null, 2);
    showMalfunctions();
  };
  const start = async () => {
    put(errs, );
    let s;
    try { s = JSON.parse(ed.value); } catch (err) { errs.append(h("li", { class: "error" }, "not JSON: " + err.message)); return; }
    try {
      const r = await api.call("POST", "/plant/sessions", { scenario: s });
      location.hash = `#/plant/training/${enc(r.id)}`;
    } catch (err) { errs.append(h("li", { class: "error" }, err.message)); }
  };
  put(body, 
    h("h3", {}, "Start a training session"),
    h("p", {}, scenario.description || ""),
    malTable,
    h("div", { class: "row" }, "Inject a malfunction: ", mk, at, inlet, field, factor, h("button", { class: "secondary", id: "mal-add", onclick: inject }, "Add to the scenario")),
    h("details", {}, h("summary", {}, `scenario (examples/plant/${ex.name}.json, editable)`), ed),
    h("div", { class: "row" }, h("button", { id: "training-start", onclick: start }, "Start session")), errs,
    h("h3", {}, `Sessions (${list.value.length})`),
    list.value.length ? h("table", { id: "training-sessions" }, h("tr", {}, h("th", {}, "session"), h("th", {}, "events"), h("th", {}, "score")),
      list.value.map((s) => h("tr", {}, h("td", {}, h("a", { href: `#/plant/training/${enc(s.id)}` }, s.id)), h("td", { class: "num" }, String(s.events)), h("td", { class: "num" }, fmt(s.score))))) : h("p", { class: "muted" }, "No session stored yet."),
    apiCalls(`GET /plant/examples (${ex.name})`, "GET /plant/sessions", "POST /plant/sessions"));
  showMalfunctions();
}

async function sessionConsole(body, id) {
  const [st, log] = await Promise.all([api.call("GET", `/plant/sessions/${enc(id)}`), api.call("GET", `/plant/sessions/${enc(id)}/log`)]);
  const trace = [{ t: st.state.t_h, monitor: st.state.monitor, purity: st.state.product_purity }];
  const errs = h("ul", { class: "form-errors", id: "console-errors" });
  const stateBox = h("div", { id: "console-state" });
  const replayBox = h("div", { id: "console-replay" });
  const send = async (ev) => {
    put(errs, );
    try {
      const r = await api.call("POST", `/plant/sessions/${enc(id)}/events`, ev);
      // A backtrack rewinds the trace too.
      while (trace.length && trace[trace.length - 1].t > r.state.t_h) trace.pop();
      trace.push({ t: r.state.t_h, monitor: r.state.monitor, purity: r.state.product_purity });
      draw(r.state);
    } catch (err) { errs.append(h("li", { class: "error" }, err.message)); }
  };
  const sc = log.scenario;
  const to = h("input", { type: "number", step: "any", id: "console-to", size: 6 });
  const setIn = h("select", { id: "console-inlet" });
  const setV = h("input", { type: "number", step: "any", id: "console-flow", size: 8, placeholder: "L/h" });
  const snapName = h("input", { type: "text", id: "console-snap-name", size: 12, placeholder: "snapshot name" });
  const draw = (s) => {
    to.value = String(Math.min(s.end_h, +(s.t_h + 1).toFixed(6)));
    const chosen = setIn.value;
    put(setIn, s.inlets.map((x, i) => h("option", { value: i }, x.name)));
    if (chosen) setIn.value = chosen;
    const sc2 = s.score;
    const lim = sc.monitor || {};
    put(stateBox, 
      h("div", { class: "cards" },
        card("session-t", `time (h) of ${fmt(s.end_h)}${s.frozen ? " · FROZEN" : ""}`, s.t_h),
        card("session-monitor", `monitor: stage ${lim.stage} ${lim.element || ""} ${lim.measure || ""} (limits ${lim.low ?? "–"} – ${lim.high ?? "–"})`, s.monitor),
        card("session-purity", `product purity (minimum ${(sc.product || {}).min_purity})`, s.product_purity),
        card("session-score", `score (in spec ${pct(sc2.in_spec_fraction)}, alarms handled ${sc2.alarms_handled}/${sc2.alarms}, reagent ×${fmt(sc2.reagent_ratio)})`, sc2.total)),
      h("table", { id: "console-inlets" }, h("tr", {}, h("th", {}, "inlet"), h("th", {}, "flow (L/h)")), s.inlets.map((x, i) => h("tr", {}, h("td", {}, x.name), h("td", { class: "num" }, val(`session-inlet-${i}`, x.flow_L_per_h))))),
      h("h4", {}, "Alarms"),
      s.alarms.length ? h("table", { id: "console-alarms" }, h("tr", {}, h("th", {}, "#"), h("th", {}, "t (h)"), h("th", {}, "source"), h("th", {}, "acknowledged"), h("th", {}, "")),
        s.alarms.map((a, i) => h("tr", { "data-alarm": i }, h("td", {}, String(i)), h("td", { class: "num" }, fmt(a.t_h)), h("td", {}, a.source), h("td", {}, a.acknowledged_h === null || a.acknowledged_h === undefined ? "no" : `at ${fmt(a.acknowledged_h)} h${a.handled ? " (handled)" : " (late)"}`),
          h("td", {}, a.acknowledged_h === null || a.acknowledged_h === undefined ? h("button", { class: "secondary small", "data-ack": i, onclick: () => send({ kind: "acknowledge", alarm: i }) }, "acknowledge") : "")))) : h("p", { class: "muted" }, "No alarm yet."),
      h("h4", {}, "Malfunctions"),
      h("table", { id: "console-malfunctions" }, h("tr", {}, h("th", {}, "#"), h("th", {}, "at (h)"), h("th", {}, "kind"), h("th", {}, "active"), h("th", {}, "")),
        (sc.malfunctions || []).map((m, i) => h("tr", {}, h("td", {}, String(i)), h("td", { class: "num" }, fmt(m.at_h)), h("td", {}, m.kind), h("td", {}, s.malfunctions_active[i] ? "active" : ""),
          h("td", {}, s.malfunctions_active[i] ? h("button", { class: "secondary small", "data-repair": i, onclick: () => send({ kind: "repair", malfunction: i }) }, "repair") : "")))),
      h("h4", {}, "Snapshots"),
      s.snapshots.length ? h("ul", { id: "console-snapshots" }, s.snapshots.map((n) => h("li", {}, n, " ", h("button", { class: "secondary small", "data-backtrack": n, onclick: () => send({ kind: "backtrack", name: n }) }, "backtrack")))) : h("p", { class: "muted" }, "none"),
      h("div", { class: "charts wide" }, chart({
        animation: false, title: { text: "monitor and product purity at each console update", textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" }, legend: { bottom: 0 },
        grid: { left: 64, right: 20, top: 36, bottom: 48 }, xAxis: { type: "value", name: "t (h)" }, yAxis: { type: "value", scale: true },
        series: [{ type: "line", name: "monitor", data: trace.map((p) => [p.t, p.monitor]) }, { type: "line", name: "product purity", data: trace.map((p) => [p.t, p.purity]) }],
      }, { height: 220, id: "console-chart" })),
      h("p", { class: "muted small" }, `${s.events} events logged.`));
    freezeBtn.textContent = s.frozen ? "Unfreeze" : "Freeze";
    freezeBtn.dataset.frozen = String(s.frozen);
  };
  const freezeBtn = h("button", { class: "secondary", id: "console-freeze", onclick: () => send({ kind: freezeBtn.dataset.frozen === "true" ? "unfreeze" : "freeze" }) }, "Freeze");
  const replay = async () => {
    try {
      const r = await api.call("POST", `/plant/sessions/${enc(id)}/replay`);
      put(replayBox, h("div", { class: "cards" }, card("replay-score", "score on replay", r.score.total), card("replay-same", "same score as stored", r.same_score, r.same_score ? "yes" : "NO")), apiCalls(`POST /plant/sessions/${id}/replay`));
    } catch (err) { put(replayBox, fail(err)); }
  };
  put(body, 
    h("h3", {}, "Session ", h("code", { id: "session-id" }, id), " ", h("a", { class: "small", href: "#/plant/training" }, "all sessions")),
    h("p", { class: "muted small" }, sc.description || ""),
    h("div", { class: "row console-actions" },
      "advance to ", to, " h ", h("button", { id: "console-advance", onclick: () => send({ kind: "advance", to_h: Number(to.value) }) }, "Advance"),
      " · set ", setIn, " flow ", setV, h("button", { class: "secondary", id: "console-set", onclick: () => send({ kind: "set", inlet: Number(setIn.value), field: "flow_L_per_h", value: Number(setV.value) }) }, "Set"),
      " · ", freezeBtn,
      " · ", snapName, h("button", { class: "secondary", id: "console-snapshot", onclick: () => send({ kind: "snapshot", name: snapName.value.trim() }) }, "Snapshot"),
      " · ", h("button", { class: "secondary", id: "console-replay-run", onclick: replay }, "Replay")),
    errs, stateBox, replayBox,
    apiCalls(`GET /plant/sessions/${id}`, `GET /plant/sessions/${id}/log`, `POST /plant/sessions/${id}/events`, `POST /plant/sessions/${id}/replay`));
  draw(st.state);
}

// --- inspection ----------------------------------------------------------------

async function inspectPage(body) {
  const ex = await example("inspect");
  const ed = specEditor("inspect-spec", ex.spec);
  const out = h("div", { id: "inspect-out" });
  const study = h("div", { id: "fault-study" });
  const run = async () => {
    let spec;
    try { spec = JSON.parse(ed.value); } catch (err) { put(out, fail("not JSON: " + err.message)); return; }
    try { put(out, ...inspectView(await api.call("POST", "/plant/inspect", spec))); } catch (err) { put(out, fail(err)); }
  };
  const runStudy = async () => {
    put(study, h("p", { class: "muted" }, "Replaying the fault set…"));
    try { put(study, ...studyView(await api.call("POST", "/plant/inspect/fault-study", {}))); } catch (err) { put(study, fail(err)); }
  };
  put(body, 
    h("h3", {}, "Inspection round"),
    h("p", { class: "muted small" }, "Rules (limit, rate of change, frozen value, disagreement with the soft sensor's estimate, twin alarm) over time-ordered samples; the round is a checklist over the equipment."),
    h("details", {}, h("summary", {}, `rules and samples (examples/plant/${ex.name}.json, editable)`), ed),
    h("div", { class: "row" }, h("button", { id: "inspect-run", onclick: run }, "Run the rules")), out,
    h("h3", {}, "Detection time with and without the twin"),
    h("div", { class: "row" }, h("button", { class: "secondary", id: "fault-study-run", onclick: runStudy }, "Replay the fault set")), study);
  await Promise.all([run(), runStudy()]);
}

function inspectView(r) {
  const round = r.round || { items: [] };
  return [
    h("div", { class: "cards" },
      card("inspect-findings", `findings over ${fmt(round.from_h)} – ${fmt(round.to_h)} h`, (r.findings || []).length),
      card("inspect-items", "equipment on the round", round.items.length),
      card("inspect-not-covered", "equipment no rule covers", (round.not_covered || []).length)),
    h("table", { id: "inspect-findings-table" }, h("tr", {}, h("th", {}, "t (h)"), h("th", {}, "rule"), h("th", {}, "kind"), h("th", {}, "tag"), h("th", {}, "equipment"), h("th", {}, "value"), h("th", {}, "detail")),
      (r.findings || []).map((f, i) => h("tr", { "data-rule": f.rule }, h("td", { class: "num" }, val(`finding-${i}-t`, f.t_h, fmt(f.t_h))), h("td", {}, f.rule), h("td", {}, f.kind), h("td", {}, f.tag), h("td", {}, f.equipment || ""), h("td", { class: "num" }, val(`finding-${i}-value`, f.value)), h("td", {}, f.detail)))),
    h("h4", {}, "Round"),
    h("table", { id: "inspect-round" }, h("tr", {}, h("th", {}, "equipment"), h("th", {}, "status"), h("th", {}, "checks")),
      round.items.map((it) => h("tr", { class: "round-" + it.status, "data-equipment": it.equipment }, h("td", {}, it.equipment, it.name ? h("span", { class: "muted" }, " ", it.name) : null), h("td", {}, val(`round-${it.equipment}`, it.status)),
        h("td", {}, (it.checks || []).map((c) => h("div", { class: "small" }, `${c.rule} (${c.kind}, ${c.tag}): ${c.status}`, c.findings ? `, ${c.findings} finding(s) from ${fmt(c.first_t_h)} h` : "")))))),
    apiCalls("POST /plant/inspect"),
  ];
}

function studyView(r) {
  const rs = r.results || [];
  const t = (v) => (v === null || v === undefined ? "not detected" : fmt(v) + " h");
  const c = chart({
    animation: false, title: { text: "time from fault to first finding (h)", textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" }, legend: { bottom: 0 },
    grid: { left: 200, right: 20, top: 36, bottom: 40 }, xAxis: { type: "value", name: "h" }, yAxis: { type: "category", data: rs.map((x) => x.fault.name) },
    series: [{ type: "bar", name: "limit rules only", data: rs.map((x) => x.without_twin_h) }, { type: "bar", name: "with the twin", data: rs.map((x) => x.with_twin_h) }],
  }, { height: 60 + 50 * rs.length, id: "fault-study-chart" });
  return [
    h("table", { id: "fault-study-table" }, h("tr", {}, h("th", {}, "fault"), h("th", {}, "kind"), h("th", {}, "from (h)"), h("th", {}, "detected without the twin"), h("th", {}, "with the twin"), h("th", {}, "first finding with the twin"), h("th", {}, "false findings (without / with)")),
      rs.map((x, i) => h("tr", {}, h("td", {}, x.fault.name), h("td", {}, x.fault.kind), h("td", { class: "num" }, fmt(x.fault.start_h)),
        h("td", { class: "num" }, val(`study-${i}-without`, x.without_twin_h, t(x.without_twin_h))), h("td", { class: "num" }, val(`study-${i}-with`, x.with_twin_h, t(x.with_twin_h))),
        h("td", {}, x.first_with ? x.first_with.detail : ""), h("td", { class: "num" }, `${x.false_without} / ${x.false_with}`)))),
    h("div", { class: "charts wide" }, c),
    h("ul", { class: "muted small" }, (r.assumptions || []).map((a) => h("li", {}, a))),
    apiCalls("POST /plant/inspect/fault-study {} (seed " + r.seed + ", " + r.duration_h + " h, synthetic)"),
  ];
}
