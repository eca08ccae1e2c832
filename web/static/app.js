// Lodestone dashboard: hash-routed pages over the public API.
import { api, events } from "./api.js";
import { lineChart, fmt, shortTime, withUnit, unitSymbol, modelLabel } from "./charts.js";
import { h, fail, display, citations, asOfPicker, fieldErrors } from "./dom.js";
import { twinForm, modelDefs, forgetModels } from "./forms.js";
import { graphPage, queryPage } from "./graph.js";
import { mapPage } from "./map.js";
import { processPage } from "./process.js";
import { plantPage } from "./plant.js";
import { supplyPage } from "./supply.js";
import { storyPage } from "./story.js";

const main = document.getElementById("main");
let cleanup = []; // closers of the current page (event streams)

// routeGen counts navigations. A page renders after its data arrives; if
// the user (or a test) has moved on meanwhile, its late render must not
// replace the newer page, so every render names the navigation it serves.
let routeGen = 0;
function showAt(gen, ...nodes) { if (gen === routeGen) main.replaceChildren(...nodes); }
const text = (v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : v === undefined ? "" : String(v));

function setLive(on) { document.getElementById("live").classList.toggle("on", !!on); }

// parseHash splits "#/page/arg?k=v" into page, arg and query parameters.
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const [page, ...rest] = path.split("/");
  return { page, arg: decodeURIComponent(rest.join("/")), params: new URLSearchParams(qs || "") };
}

// inView puts a module page's view in place and hands it to the page.
function inView(view) { main.replaceChildren(view); return view; }

async function route() {
  const gen = ++routeGen;
  for (const c of cleanup) c();
  cleanup = [];
  // Pages of the other modules render into a view of their own, which the
  // next navigation detaches: their late renders land out of sight.
  const view = document.createElement("div");
  const { page, arg, params } = parseHash();
  const navOf = { twin: "twins", "new-twin": "twins", sources: "sources" };
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === (navOf[page] || page));
  const onCleanup = (f) => cleanup.push(f);
  try {
    switch (page) {
      case "models": return await modelsPage(arg);
      case "twins": return await twinsPage(arg);
      case "new-twin": return await newTwinPage(arg);
      case "twin": return await twinPage(arg, params.get("asOf") || "");
      case "graph": return await graphPage(inView(view), arg, params);
      case "map": return await mapPage(inView(view), arg, params);
      case "process": return await processPage(inView(view), arg);
      case "plant": return await plantPage(inView(view), arg, params);
      case "supply": return await supplyPage(inView(view), arg, onCleanup);
      case "story": return await storyPage(inView(view));
      case "query": return await queryPage(inView(view), params);
      case "events": return eventsPage();
      case "sources": return await sourcesPage(arg);
      default: return await homePage();
    }
  } catch (err) {
    showAt(gen, fail(err));
  }
}

async function count(q) {
  try { const r = await api.query(q); return r.value[0] ? Object.values(r.value[0])[0] : 0; } catch { return "?"; }
}

async function homePage() {
  const gen = routeGen;
  const [models, twins, rels] = await Promise.all([
    api.models().then((r) => r.value.length).catch(() => "?"),
    count("SELECT COUNT() FROM DIGITALTWINS"),
    count("SELECT COUNT() FROM RELATIONSHIPS"),
  ]);
  showAt(gen, 
    h("a", { class: "card story-link", id: "story-link", href: "#/story" }, h("h3", {}, "Mine to magnet: the story →"),
      "One walk through the layers with live numbers: a cascade's recovery, the plant, its capacity in the network, the April 2025 export control, procurement's late decision, the investment frontier, and a passing verify."),
    h("h2", {}, "Twin graph"),
    h("div", { class: "cards" },
      h("a", { class: "card", href: "#/models" }, h("h3", {}, String(models)), "models"),
      h("a", { class: "card", href: "#/twins" }, h("h3", { id: "twin-count" }, String(twins)), "twins"),
      h("a", { class: "card", href: "#/graph?view=all" }, h("h3", {}, String(rels)), "relationships"),
      h("a", { class: "card", href: "#/map" }, h("h3", {}, "Map"), "facilities by country"),
      h("a", { class: "card", href: "#/supply" }, h("h3", {}, "Scenarios"), "supply runs, Monte Carlo, stress"),
      h("a", { class: "card", href: "#/process" }, h("h3", {}, "Process"), "cascades: flowsheet, stream table, profiles")),
    h("p", { class: "muted" }, "Browse and edit models and twins, walk the graph, map the network, run supply scenarios, simulate process twins, or ask a question in the query console."));
}

// --- models ---------------------------------------------------------------

function extendsOf(def) {
  const e = def && def.extends;
  if (!e) return [];
  return (Array.isArray(e) ? e : [e]).map((x) => (typeof x === "string" ? x : x["@id"])).filter(Boolean);
}

async function modelsPage(selected) {
  const gen = routeGen;
  const res = await api.models();
  const models = res.value;
  const byId = new Map(models.map((m) => [m.id, m]));
  const children = new Map();
  const roots = [];
  for (const m of models) {
    const parents = extendsOf(m.model).filter((p) => byId.has(p));
    if (parents.length === 0) roots.push(m.id);
    for (const p of parents) {
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(m.id);
    }
  }
  const tree = (ids) => h("ul", { class: "tree" }, ids.sort().map((id) => {
    const m = byId.get(id);
    return h("li", {}, h("a", { href: `#/models/${encodeURIComponent(id)}` }, display(m.displayName) || id),
      h("span", { class: "muted" }, " ", id), m.decommissioned ? h("span", { class: "tag" }, "decommissioned") : null,
      children.has(id) ? tree(children.get(id)) : null);
  }));
  const left = h("div", {}, h("h2", {}, `Models (${models.length})`), tree(roots), uploadBox());
  const right = h("div", { id: "model-detail" });
  showAt(gen, h("div", { class: "split" }, left, right));
  if (selected) await modelDetail(right, byId.get(selected), children.has(selected));
}

// uploadBox uploads DTDL interfaces: a JSON array (or one interface) typed
// or read from files.
function uploadBox() {
  const ta = h("textarea", { id: "model-upload", rows: 6, placeholder: "DTDL interfaces as a JSON array, or choose .json files", "data-path": "" });
  const file = h("input", { type: "file", accept: ".json,application/json", multiple: true });
  file.addEventListener("change", async () => {
    const all = [];
    for (const f of file.files) { const v = JSON.parse(await f.text()); all.push(...(Array.isArray(v) ? v : [v])); }
    ta.value = JSON.stringify(all, null, 2);
  });
  const status = h("p", { class: "muted", id: "model-upload-status" });
  const form = h("form", { class: "upload", onsubmit: async (e) => {
    e.preventDefault();
    fieldErrors(form, null);
    let body;
    try { body = JSON.parse(ta.value); } catch (err) { fieldErrors(form, { message: "not JSON: " + err.message }); return; }
    try {
      const res = await api.uploadModels(Array.isArray(body) ? body : [body]);
      forgetModels();
      status.textContent = `uploaded ${res.length} model(s)`;
      const first = res[0] && res[0].id;
      location.hash = first ? `#/models/${encodeURIComponent(first)}` : "#/models";
    } catch (err) { fieldErrors(form, err); }
  } }, h("h3", {}, "Upload models"), h("div", { class: "field" }, ta), h("div", { class: "row" }, file, h("button", { id: "model-upload-go" }, "Upload")), h("ul", { class: "form-errors" }), status);
  return form;
}

async function modelDetail(box, m, extended) {
  if (!m) return;
  const err = h("ul", { class: "form-errors", id: "model-errors" });
  const act = async (what, f) => {
    err.replaceChildren();
    try { await f(); forgetModels(); location.hash = what === "delete" ? "#/models" : `#/models/${encodeURIComponent(m.id)}`; await route(); } catch (e) { err.append(h("li", { class: "error" }, e.message)); }
  };
  box.replaceChildren(h("h2", {}, display(m.displayName) || m.id), h("p", { class: "muted" }, m.id, m.decommissioned ? h("span", { class: "tag" }, "decommissioned") : null), h("p", {}, display(m.description)),
    h("div", { class: "row" },
      h("a", { class: "button", href: `#/new-twin/${encodeURIComponent(m.id)}` }, "New twin of this model"),
      m.decommissioned ? null : h("button", { class: "secondary", id: "model-decommission", onclick: () => act("decommission", () => api.decommissionModel(m.id)) }, "Decommission"),
      h("button", { class: "danger", id: "model-delete", title: extended ? "other models extend this one" : "", onclick: () => confirm(`Delete model ${m.id}?`) && act("delete", () => api.deleteModel(m.id)) }, "Delete")), err);
  let props = [];
  try { props = (await api.modelProperties(m.id)).value; } catch (e) { box.append(fail(e)); }
  box.append(h("table", {}, h("tr", {}, h("th", {}, "name"), h("th", {}, "kind"), h("th", {}, "schema"), h("th", {}, "unit"), h("th", {}, "from")),
    props.map((p) => h("tr", {}, h("td", {}, p.name), h("td", {}, p.kind), h("td", {}, p.kind === "Relationship" ? "→ " + (p.target || "any") : text(p.schema)), h("td", {}, unitSymbol(p.unit)), h("td", { class: "muted" }, p.definedIn === m.id ? "" : p.definedIn || "")))));
  box.append(h("p", {}, h("a", { href: `#/twins/${encodeURIComponent(m.id)}` }, "Twins of this model →")));
}

// --- twins ----------------------------------------------------------------

export function escapeQ(s) { return s.replace(/\\/g, "\\\\").replace(/'/g, "\\'"); }

async function twinsPage(model) {
  const gen = routeGen;
  const input = h("input", { type: "search", id: "twin-search", placeholder: "twin id starts with…" });
  const table = h("div", { id: "twin-results" });
  let token = null;
  const more = h("button", { class: "secondary", style: "display:none", onclick: () => run(true) }, "More");
  let seq = 0; // answers to earlier keystrokes that arrive late are dropped
  async function run(next) {
    const mine = ++seq;
    const q = input.value.trim();
    const conds = [];
    if (q) conds.push(`STARTSWITH(T.$dtId, '${escapeQ(q)}')`);
    if (model) conds.push(`IS_OF_MODEL(T, '${escapeQ(model)}')`);
    const query = "SELECT T FROM DIGITALTWINS T" + (conds.length ? " WHERE " + conds.join(" AND ") : "");
    try {
      const res = await api.query(query, next ? token : undefined);
      if (mine !== seq) return;
      token = res.continuationToken || null;
      const rows = res.value.map((r) => r.T || r);
      const body = rows.map((t) => h("tr", {}, h("td", {}, h("a", { href: `#/twin/${encodeURIComponent(t.$dtId)}` }, t.$dtId)), h("td", { class: "muted" }, t.$metadata && t.$metadata.$model)));
      if (!next) table.replaceChildren(h("table", {}, h("tr", {}, h("th", {}, "twin"), h("th", {}, "model")), body));
      else table.querySelector("table").append(...body);
      more.style.display = token ? "" : "none";
    } catch (err) { table.replaceChildren(fail(err)); }
  }
  input.addEventListener("input", () => run(false));
  showAt(gen, h("h2", {}, "Twins", model ? h("span", { class: "tag" }, model) : null),
    h("div", { class: "row" }, input, h("a", { class: "button", id: "new-twin", href: `#/new-twin/${encodeURIComponent(model || "")}` }, "New twin")), table, more);
  await run(false);
}

// newTwinPage creates a twin: a model, an id and the model's form.
async function newTwinPage(model) {
  const gen = routeGen;
  const defs = await modelDefs();
  const pick = h("select", { id: "new-model", "data-path": "$metadata/$model" }, h("option", { value: "" }, "choose a model"),
    [...defs.values()].filter((m) => !m.decommissioned).sort((a, b) => a.id.localeCompare(b.id)).map((m) => h("option", { value: m.id }, `${display(m.displayName) || modelLabel(m.id)} — ${m.id}`)));
  pick.value = model || "";
  pick.addEventListener("change", () => { location.hash = `#/new-twin/${encodeURIComponent(pick.value)}`; });
  const id = h("input", { type: "text", id: "new-id", "data-path": "$dtId", placeholder: "twin id, e.g. mine-xx-name" });
  const box = h("div", {});
  const errs = h("ul", { class: "form-errors" });
  const outer = h("div", { class: "new-twin" }, h("h2", {}, "New twin"), errs,
    h("div", { class: "row" }, h("span", { class: "field" }, pick), h("span", { class: "field" }, id)), box);
  showAt(gen, outer);
  if (!model) return;
  const tf = await twinForm(model, {});
  const save = h("button", { id: "new-save", onclick: async () => {
    fieldErrors(outer, null);
    const twinId = id.value.trim();
    if (!twinId) { fieldErrors(outer, { details: [{ path: "$dtId", message: "give the twin an id" }] }); return; }
    try {
      await api.putTwin(twinId, { $metadata: { $model: model }, ...tf.values() }, true);
      location.hash = `#/twin/${encodeURIComponent(twinId)}`;
    } catch (err) { fieldErrors(outer, err); }
  } }, "Create");
  box.replaceChildren(tf.form, h("div", { class: "row" }, save));
}

function numericSeries(history) {
  const series = new Map();
  for (const entry of history) {
    const t = new Date(entry.time);
    const tw = entry.twin || {};
    for (const [k, v] of Object.entries(tw)) {
      if (k.startsWith("$") || typeof v !== "number") continue;
      if (!series.has(k)) series.set(k, []);
      series.get(k).push({ t, v });
    }
  }
  return [...series.entries()].map(([name, points]) => ({ name, points }));
}

// changes pairs each history entry with what it changed: the properties
// whose values differ from the entry before, as [name, before, after]
// (all of them for the first).
export function changes(history) {
  let prev = {};
  return history.map((e) => {
    const cur = Object.fromEntries(Object.entries(e.twin || {}).filter(([k]) => !k.startsWith("$")));
    const diff = [];
    for (const [k, v] of Object.entries(cur)) if (JSON.stringify(prev[k]) !== JSON.stringify(v)) diff.push([k, prev[k], v]);
    for (const k of Object.keys(prev)) if (!(k in cur)) diff.push([k, prev[k], undefined]);
    prev = cur;
    return [e, diff];
  });
}

function valueText(v, unit) {
  if (v === undefined) return h("span", { class: "muted" }, "—");
  if (typeof v === "number") return withUnit(v, unit);
  return text(v);
}

async function twinPage(id, asOf) {
  const gen = routeGen;
  const twinBox = h("div", { id: "twin-props" });
  const relBox = h("div", { id: "twin-rels" });
  const histBox = h("div", { id: "twin-history" });
  const editBox = h("div", { id: "twin-edit" });
  const errs = h("ul", { class: "form-errors", id: "twin-errors" });
  const setAsOf = (t) => { location.hash = `#/twin/${encodeURIComponent(id)}` + (t ? `?asOf=${encodeURIComponent(t)}` : ""); };
  const head = h("div", { class: "row" },
    h("a", { class: "tag", href: `#/graph/${encodeURIComponent(id)}` + (asOf ? `?asOf=${encodeURIComponent(asOf)}` : "") }, "graph"),
    h("a", { class: "tag", href: `#/process/${encodeURIComponent(id)}`, id: "process-link" }, "process"),
    asOfPicker(asOf, setAsOf, "twin-asof"),
    asOf ? null : h("button", { class: "secondary", id: "twin-edit-open", onclick: () => openEdit() }, "Edit"),
    asOf ? null : h("button", { class: "danger", id: "twin-delete", onclick: () => del() }, "Delete"));
  showAt(gen, h("h2", {}, id, asOf ? h("span", { class: "tag", id: "asof-tag" }, "as of " + shortTime(asOf)) : null), head, errs, editBox, twinBox,
    h("h3", {}, "Relationships"), relBox, h("h3", {}, "History"), histBox);
  let units = new Map();
  const schemas = new Map();
  let last = {};
  let current = null;
  // Integers (years, counts) print as they are; measured numbers grouped.
  const num = (k, v) => (schemas.get(k) === "integer" || schemas.get(k) === "long" ? String(v) : fmt(v));
  async function del() {
    if (!confirm(`Delete twin ${id}?`)) return;
    errs.replaceChildren();
    try { await api.deleteTwin(id); location.hash = "#/twins"; } catch (e) { errs.append(h("li", { class: "error" }, e.message)); }
  }
  async function openEdit() {
    if (!current) return;
    const tf = await twinForm(current.$metadata.$model, current);
    const manual = h("input", { type: "checkbox", id: "edit-manual-source", checked: true });
    const save = h("button", { id: "twin-save", onclick: async () => {
      fieldErrors(tf.form, null);
      const ops = tf.changes(current);
      if (!ops.length) { editBox.replaceChildren(); return; }
      // A changed value no longer comes from its cited source: record the
      // edit as its source (the server records who made it).
      if (tf.hasSources && manual.checked) {
        const stamp = `manual edit in the dashboard, ${new Date().toISOString().slice(0, 10)}`;
        const changed = ops.filter((o) => o.op !== "remove").map((o) => o.path.slice(1));
        if (changed.length) {
          if (current.sources && typeof current.sources === "object") for (const k of changed) ops.push({ op: "add", path: `/sources/${k}`, value: stamp });
          else ops.push({ op: "add", path: "/sources", value: Object.fromEntries(changed.map((k) => [k, stamp])) });
        }
      }
      try { await api.patchTwin(id, ops, current.$etag); editBox.replaceChildren(); await load(true); } catch (e) { fieldErrors(tf.form, e); }
    } }, "Save");
    editBox.replaceChildren(h("h3", {}, "Edit"), tf.form,
      h("div", { class: "row" }, save, h("button", { class: "secondary", type: "button", onclick: () => editBox.replaceChildren() }, "Cancel"),
        tf.hasSources ? h("label", {}, manual, " record “manual edit” as the source of changed values") : null));
  }
  async function load(flash) {
    const t = await api.twin(id, asOf);
    current = t;
    const pl = document.getElementById("process-link");
    if (pl) pl.style.display = /SXCascade/.test(t.$metadata.$model) ? "" : "none";
    if (units.size === 0) {
      try { for (const p of (await api.modelProperties(t.$metadata.$model)).value) { units.set(p.name, p.unit || ""); schemas.set(p.name, p.schema); } } catch { /* model may be gone */ }
    }
    const sources = t.sources && typeof t.sources === "object" ? t.sources : {};
    const rows = Object.entries(t).filter(([k]) => !k.startsWith("$") && k !== "sources").sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => {
      const changed = flash && JSON.stringify(last[k]) !== JSON.stringify(v);
      const md = (t.$metadata && t.$metadata[k]) || {};
      return h("tr", { class: changed ? "flash" : "", "data-prop": k }, h("td", {}, k),
        h("td", { class: typeof v === "number" ? "num" : "", "data-value": k }, typeof v === "number" ? num(k, v) : k === "source" ? citations(v) : text(v)),
        h("td", {}, unitSymbol(units.get(k))),
        h("td", { class: "small" }, sources[k] ? citations(sources[k]) : ""),
        h("td", { class: "muted time", title: md.lastUpdateTime || "" }, shortTime(md.lastUpdateTime)));
    });
    last = t;
    twinBox.replaceChildren(h("p", { class: "muted" }, "model ", h("a", { href: `#/models/${encodeURIComponent(t.$metadata.$model)}` }, t.$metadata.$model), " · etag ", t.$etag),
      h("table", {}, h("tr", {}, h("th", {}, "property"), h("th", {}, "value"), h("th", {}, "unit"), h("th", {}, "source"), h("th", {}, "last update")), rows));
    try {
      let hist = (await api.history(id)).value;
      if (asOf) hist = hist.filter((e) => e.time <= asOf);
      // Charts only for properties that changed: a constant has nothing
      // to show over time (it is in the table above).
      const series = numericSeries(hist).map((s) => ({ ...s, unit: units.get(s.name) || "" }));
      const varies = series.filter((s) => new Set(s.points.map((p) => p.v)).size > 1);
      const rowsH = changes(hist).reverse().slice(0, 50).map(([e, diff]) => h("tr", { class: "history-entry" },
        h("td", { class: "time", title: e.time }, h("a", { href: `#/twin/${encodeURIComponent(id)}?asOf=${encodeURIComponent(e.time)}` }, shortTime(e.time))),
        h("td", {}, e.kind),
        h("td", {}, h("table", { class: "diff" }, diff.map(([k, before, after]) => h("tr", { "data-prop": k },
          h("td", {}, k), h("td", { class: "before" }, valueText(before, units.get(k))), h("td", {}, "→"), h("td", { class: "after" }, valueText(after, units.get(k)))))))));
      histBox.replaceChildren(
        varies.length ? h("div", { class: "charts" }, varies.slice(0, 8).map((s) => lineChart([s]))) : h("p", { class: "muted" }, "No numeric property has changed: nothing to chart."),
        h("table", { id: "history-table" }, h("tr", {}, h("th", {}, "time"), h("th", {}, "change"), h("th", {}, "what changed (before → after)")), rowsH));
    } catch (err) { histBox.replaceChildren(fail(err)); }
  }
  await load(false);
  await loadRels();
  async function loadRels() {
    let out, inc;
    if (asOf) {
      const q = (w) => api.query(`SELECT R FROM RELATIONSHIPS R AS OF '${asOf}' WHERE R.${w} = '${id.replace(/'/g, "\\'")}'`).then((r) => ({ value: r.value.map((x) => x.R) })).catch(() => ({ value: [] }));
      [out, inc] = await Promise.all([q("$sourceId"), q("$targetId")]);
    } else {
      [out, inc] = await Promise.all([api.outgoing(id).catch(() => ({ value: [] })), api.incoming(id).catch(() => ({ value: [] }))]);
    }
    const delRel = async (src, relId) => {
      if (!confirm(`Delete relationship ${relId}?`)) return;
      errs.replaceChildren();
      try { await api.deleteRelationship(src, relId); await loadRels(); } catch (e) { errs.append(h("li", { class: "error" }, e.message)); }
    };
    const props = (r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("$")));
    relBox.replaceChildren(h("table", { id: "rels-table" }, h("tr", {}, h("th", {}, "direction"), h("th", {}, "name"), h("th", {}, "twin"), h("th", {}, "properties"), h("th", {}, "")),
      out.value.map((r) => h("tr", { "data-rel": r.$relationshipId }, h("td", {}, "→"), h("td", {}, r.$relationshipName), h("td", {}, h("a", { href: `#/twin/${encodeURIComponent(r.$targetId)}` }, r.$targetId)), h("td", {}, h("code", {}, text(props(r)))),
        h("td", {}, asOf ? "" : h("button", { class: "danger small", onclick: () => delRel(id, r.$relationshipId) }, "delete")))),
      inc.value.map((r) => h("tr", { "data-rel": r.$relationshipId }, h("td", {}, "←"), h("td", {}, r.$relationshipName), h("td", {}, h("a", { href: `#/twin/${encodeURIComponent(r.$sourceId)}` }, r.$sourceId)), h("td", {}),
        h("td", {}, asOf ? "" : h("button", { class: "danger small", onclick: () => delRel(r.$sourceId, r.$relationshipId) }, "delete"))))),
    asOf || !current ? null : await relForm(current, loadRels));
  }
  if (asOf) return; // a past state does not change
  // A burst of events reloads the twin once per round trip, not once per
  // event: while a reload runs, further events only mark it stale.
  let loading = false, stale = false;
  async function reload() {
    if (loading) { stale = true; return; }
    loading = true;
    try {
      do { stale = false; await load(true).catch(() => {}); } while (stale);
    } finally { loading = false; }
  }
  const es = events(`subject=${id}`, reload, setLive);
  cleanup.push(() => { es.close(); setLive(false); });
}

// relForm adds a relationship from the twin: a name its model declares, a
// target (suggested by id prefix) and an id made of both.
async function relForm(t, done) {
  const rels = (await api.modelProperties(t.$metadata.$model)).value.filter((p) => p.kind === "Relationship");
  if (!rels.length) return null;
  const name = h("select", { id: "rel-name", "data-path": "$relationshipName" }, rels.map((r) => h("option", { value: r.name }, `${r.name} → ${modelLabel(r.target) || "any"}`)));
  const list = h("datalist", { id: "rel-targets" });
  const target = h("input", { type: "text", id: "rel-target", list: "rel-targets", placeholder: "target twin id", "data-path": "$targetId" });
  let seq = 0;
  target.addEventListener("input", async () => {
    const mine = ++seq;
    const r = rels.find((x) => x.name === name.value);
    const conds = [`STARTSWITH(T.$dtId, '${escapeQ(target.value)}')`];
    if (r && r.target) conds.push(`IS_OF_MODEL(T, '${escapeQ(r.target)}')`);
    try {
      const res = await api.query(`SELECT TOP(20) T.$dtId FROM DIGITALTWINS T WHERE ${conds.join(" AND ")}`);
      if (mine === seq) list.replaceChildren(...res.value.map((x) => h("option", { value: x.$dtId })));
    } catch { /* suggestions are optional */ }
  });
  const form = h("form", { class: "rel-form", onsubmit: async (e) => {
    e.preventDefault();
    fieldErrors(form, null);
    const tid = target.value.trim();
    if (!tid) { fieldErrors(form, { details: [{ path: "$targetId", message: "name the target twin" }] }); return; }
    const relId = `${t.$dtId}.${name.value}.${tid}`;
    try { await api.putRelationship(t.$dtId, relId, { $relationshipName: name.value, $targetId: tid }); await done(); } catch (err) { fieldErrors(form, err); }
  } }, h("div", { class: "row" }, "Add relationship ", h("span", { class: "field" }, name), h("span", { class: "field" }, target, list), h("button", { id: "rel-add" }, "Add")), h("ul", { class: "form-errors" }));
  return form;
}

// --- sources --------------------------------------------------------------

async function sourcesPage(key) {
  const gen = routeGen;
  let bib;
  try { bib = await api.bibliography(); } catch (err) {
    showAt(gen, h("h2", {}, "Sources"), h("p", { class: "muted", id: "sources-missing" }, key ? `Citation [${key}]: ` : "",
      "this server does not serve the bibliography (GET /bibliography: ", err.message, "). The entries are in world/data/bibliography.json of the source tree."));
    return;
  }
  const entries = bib.entries || bib.value || [];
  showAt(gen, h("h2", {}, "Sources"), bib.description ? h("p", { class: "muted" }, bib.description) : null,
    h("table", { id: "sources-table" }, h("tr", {}, h("th", {}, "key"), h("th", {}, "reference"), h("th", {}, "kind"), h("th", {}, "note")),
      entries.map((e) => h("tr", { id: "src-" + e.key, class: e.key === key ? "selected" : "" }, h("td", {}, h("b", {}, e.key)),
        h("td", {}, e.author ? e.author + " " : "", e.year ? `(${e.year}) ` : "(n.d.) ", h("i", {}, e.title), e.publisher ? `. ${e.publisher}` : "", e.identifier ? `. ${e.identifier}` : "",
          e.url ? h("span", {}, ". ", h("a", { href: e.url, rel: "noreferrer", target: "_blank" }, e.url)) : "", e.table ? `, table ${e.table}` : "", e.page ? `, p. ${e.page}` : ""),
        h("td", {}, e.kind || ""), h("td", { class: "muted small" }, e.note || "")))));
  const sel = key && document.getElementById("src-" + key);
  if (sel) sel.scrollIntoView({ block: "center" });
}

// --- events ---------------------------------------------------------------

function eventsPage() {
  const gen = routeGen;
  const list = h("tbody");
  showAt(gen, h("h2", {}, "Live events"), h("table", {}, h("tr", {}, h("th", {}, "time"), h("th", {}, "type"), h("th", {}, "subject")), list));
  const es = events("", (ev) => {
    list.prepend(h("tr", { class: "flash" }, h("td", { class: "time", title: ev.time || "" }, shortTime(ev.time)), h("td", {}, ev.type), h("td", {}, ev.subject ? h("a", { href: `#/twin/${encodeURIComponent(ev.subject)}` }, ev.subject) : "")));
    while (list.children.length > 200) list.lastChild.remove();
  }, setLive);
  cleanup.push(() => { es.close(); setLive(false); });
}

window.addEventListener("hashchange", route);
route();
