// Lodestone dashboard: hash-routed pages over the public API.
import { api, events } from "./api.js";
import { lineChart, graphView, fmt, shortTime } from "./charts.js";
import { processPage } from "./process.js";
import { supplyPage } from "./supply.js";

const main = document.getElementById("main");
let cleanup = []; // closers of the current page (event streams)

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c.nodeType ? c : String(c));
  return e;
}

function show(...nodes) { main.replaceChildren(...nodes); }
function fail(err) { return h("p", { class: "error" }, String(err.message || err)); }
const text = (v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : v === undefined ? "" : String(v));
const display = (m) => (m && typeof m === "object" ? m.en || Object.values(m)[0] : m) || "";

function setLive(on) { document.getElementById("live").classList.toggle("on", !!on); }

async function route() {
  for (const c of cleanup) c();
  cleanup = [];
  const hash = location.hash.replace(/^#\/?/, "");
  const [page, ...rest] = hash.split("/");
  const arg = decodeURIComponent(rest.join("/"));
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === page || (page === "twin" && a.dataset.page === "twins"));
  try {
    switch (page) {
      case "models": return await modelsPage(arg);
      case "twins": return await twinsPage(arg);
      case "twin": return await twinPage(arg);
      case "graph": return await graphPage(arg);
      case "process": return await processPage(main, arg);
      case "supply": return await supplyPage(main, arg, (f) => cleanup.push(f));
      case "query": return await queryPage();
      case "events": return eventsPage();
      default: return await homePage();
    }
  } catch (err) {
    show(fail(err));
  }
}

async function count(q) {
  try { const r = await api.query(q); return r.value[0] ? Object.values(r.value[0])[0] : 0; } catch { return "?"; }
}

async function homePage() {
  const [models, twins, rels] = await Promise.all([
    api.models().then((r) => r.value.length).catch(() => "?"),
    count("SELECT COUNT() FROM DIGITALTWINS"),
    count("SELECT COUNT() FROM RELATIONSHIPS"),
  ]);
  show(
    h("h2", {}, "Twin graph"),
    h("div", { class: "cards" },
      h("a", { class: "card", href: "#/models" }, h("h3", {}, String(models)), "models"),
      h("a", { class: "card", href: "#/twins" }, h("h3", { id: "twin-count" }, String(twins)), "twins"),
      h("div", { class: "card" }, h("h3", {}, String(rels)), "relationships")),
    h("p", { class: "muted" }, "Browse the models, search twins, walk the graph, or ask a question in the query console."));
}

// --- models ---------------------------------------------------------------

function extendsOf(def) {
  const e = def && def.extends;
  if (!e) return [];
  return (Array.isArray(e) ? e : [e]).map((x) => (typeof x === "string" ? x : x["@id"])).filter(Boolean);
}

async function modelsPage(selected) {
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
  const left = h("div", {}, h("h2", {}, `Models (${models.length})`), tree(roots));
  const right = h("div", { id: "model-detail" });
  show(h("div", { class: "split" }, left, right));
  if (selected) await modelDetail(right, byId.get(selected));
}

async function modelDetail(box, m) {
  if (!m) return;
  box.replaceChildren(h("h2", {}, display(m.displayName) || m.id), h("p", { class: "muted" }, m.id), h("p", {}, display(m.description)));
  let props = [];
  try { props = (await api.modelProperties(m.id)).value; } catch (err) { box.append(fail(err)); }
  box.append(h("table", {}, h("tr", {}, h("th", {}, "name"), h("th", {}, "kind"), h("th", {}, "schema"), h("th", {}, "unit"), h("th", {}, "from")),
    props.map((p) => h("tr", {}, h("td", {}, p.name), h("td", {}, p.kind), h("td", {}, text(p.schema)), h("td", {}, p.unit || ""), h("td", { class: "muted" }, p.definedIn === m.id ? "" : p.definedIn || "")))));
  box.append(h("p", {}, h("a", { href: `#/twins/${encodeURIComponent(m.id)}` }, "Twins of this model →")));
}

// --- twins ----------------------------------------------------------------

function escapeQ(s) { return s.replace(/\\/g, "\\\\").replace(/'/g, "\\'"); }

async function twinsPage(model) {
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
  show(h("h2", {}, "Twins", model ? h("span", { class: "tag" }, model) : null), h("div", { class: "row" }, input), table, more);
  await run(false);
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
// whose values differ from the entry before (all of them for the first).
function changes(history) {
  let prev = {};
  return history.map((e) => {
    const cur = Object.fromEntries(Object.entries(e.twin || {}).filter(([k]) => !k.startsWith("$")));
    const diff = {};
    for (const [k, v] of Object.entries(cur)) if (JSON.stringify(prev[k]) !== JSON.stringify(v)) diff[k] = v;
    for (const k of Object.keys(prev)) if (!(k in cur)) diff[k] = null;
    prev = cur;
    return [e, diff];
  });
}

async function twinPage(id) {
  const twinBox = h("div", { id: "twin-props" });
  const relBox = h("div", { id: "twin-rels" });
  const histBox = h("div", { id: "twin-history" });
  show(h("h2", {}, id, " ", h("a", { class: "tag", href: `#/graph/${encodeURIComponent(id)}` }, "graph"), " ", h("a", { class: "tag", href: `#/process/${encodeURIComponent(id)}`, id: "process-link" }, "process")), twinBox, h("h3", {}, "Relationships"), relBox, h("h3", {}, "History"), histBox);
  let units = new Map();
  let last = {};
  async function load(flash) {
    const t = await api.twin(id);
    const pl = document.getElementById("process-link");
    if (pl) pl.style.display = /SXCascade/.test(t.$metadata.$model) ? "" : "none";
    if (units.size === 0) {
      try { for (const p of (await api.modelProperties(t.$metadata.$model)).value) units.set(p.name, p.unit || ""); } catch { /* model may be gone */ }
    }
    const rows = Object.entries(t).filter(([k]) => !k.startsWith("$")).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => {
      const changed = flash && JSON.stringify(last[k]) !== JSON.stringify(v);
      const md = (t.$metadata && t.$metadata[k]) || {};
      return h("tr", { class: changed ? "flash" : "", "data-prop": k }, h("td", {}, k), h("td", { class: typeof v === "number" ? "num" : "", "data-value": k }, typeof v === "number" ? fmt(v) : text(v)), h("td", {}, units.get(k) || ""), h("td", { class: "muted time", title: md.lastUpdateTime || "" }, shortTime(md.lastUpdateTime)));
    });
    last = t;
    twinBox.replaceChildren(h("p", { class: "muted" }, "model ", h("a", { href: `#/models/${encodeURIComponent(t.$metadata.$model)}` }, t.$metadata.$model), " · etag ", t.$etag),
      h("table", {}, h("tr", {}, h("th", {}, "property"), h("th", {}, "value"), h("th", {}, "unit"), h("th", {}, "last update")), rows));
    try {
      const hist = (await api.history(id)).value;
      // One small chart per numeric property, each on its own scale and
      // unit; properties that changed come first.
      const series = numericSeries(hist).map((s) => ({ ...s, unit: units.get(s.name) || "" }));
      const varies = (s) => new Set(s.points.map((p) => p.v)).size > 1;
      series.sort((a, b) => varies(b) - varies(a) || a.name.localeCompare(b.name));
      const charts = series.length ? series.slice(0, 12).map((s) => lineChart([s], { width: 360, height: 150 })) : [lineChart([])];
      histBox.replaceChildren(h("div", { class: "charts" }, charts),
        h("table", {}, h("tr", {}, h("th", {}, "time"), h("th", {}, "change"), h("th", {}, "properties changed (null: removed)")),
          changes(hist).reverse().slice(0, 50).map(([e, diff]) => h("tr", {}, h("td", { class: "time", title: e.time }, shortTime(e.time)), h("td", {}, e.kind), h("td", {}, h("code", {}, text(diff)))))));
    } catch (err) { histBox.replaceChildren(fail(err)); }
  }
  await load(false);
  const [out, inc] = await Promise.all([api.outgoing(id).catch(() => ({ value: [] })), api.incoming(id).catch(() => ({ value: [] }))]);
  relBox.replaceChildren(h("table", {}, h("tr", {}, h("th", {}, "direction"), h("th", {}, "name"), h("th", {}, "twin"), h("th", {}, "properties")),
    out.value.map((r) => h("tr", {}, h("td", {}, "→"), h("td", {}, r.$relationshipName), h("td", {}, h("a", { href: `#/twin/${encodeURIComponent(r.$targetId)}` }, r.$targetId)), h("td", {}, h("code", {}, text(Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("$")))))))),
    inc.value.map((r) => h("tr", {}, h("td", {}, "←"), h("td", {}, r.$relationshipName), h("td", {}, h("a", { href: `#/twin/${encodeURIComponent(r.$sourceId)}` }, r.$sourceId)), h("td", {})))));
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

// --- graph ----------------------------------------------------------------

async function graphPage(id) {
  const input = h("input", { type: "text", id: "graph-root", value: id || "", placeholder: "start twin id" });
  const box = h("div", { class: "graph-box", id: "graph-box" });
  const info = h("p", { class: "muted" });
  const nodes = new Map(), edges = new Map();
  const cursors = new Map();
  async function expand(root, cursor) {
    const res = await api.neighbourhood(root, 1, 100, cursor);
    for (const n of res.nodes) nodes.set(n.id, n);
    for (const e of res.edges) edges.set(e.id + "|" + e.source, e);
    cursors.set(root, res.nextCursor || null);
    draw(root);
  }
  function draw(focus) {
    box.replaceChildren(graphView([...nodes.values()], [...edges.values()], { focus, onNode: (nid) => expand(nid).catch((err) => box.append(fail(err))) }));
    const pending = [...cursors.entries()].filter(([, c]) => c);
    info.replaceChildren(`${nodes.size} twins, ${edges.size} relationships shown. Click a twin to expand its neighbours. `,
      ...pending.map(([r, c]) => h("button", { class: "secondary", onclick: () => expand(r, c) }, `more of ${r}`)));
  }
  async function start() {
    nodes.clear(); edges.clear(); cursors.clear();
    if (input.value) await expand(input.value.trim());
  }
  show(h("h2", {}, "Graph"), h("div", { class: "row" }, input, h("button", { onclick: () => start().catch((err) => box.replaceChildren(fail(err))) }, "Show")), info, box);
  if (id) await start();
}

// --- query ----------------------------------------------------------------

async function queryPage() {
  const ta = h("textarea", { id: "query-text" }, "SELECT T.$dtId, T.$metadata.$model FROM DIGITALTWINS T");
  const out = h("div", { id: "query-results" });
  const stats = h("p", { class: "muted", id: "query-stats" });
  async function runQuery() {
    out.replaceChildren();
    try {
      const res = await api.query(ta.value);
      const rows = res.value;
      stats.textContent = `${rows.length} rows` + (res.queryCharge !== undefined ? ` · cost ${res.queryCharge}` : "") + (res.continuationToken ? " · more pages" : "");
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      out.append(h("table", {}, h("tr", {}, cols.map((c) => h("th", {}, c))),
        rows.slice(0, 500).map((r) => h("tr", {}, cols.map((c) => {
          const v = r[c];
          if (v && typeof v === "object" && v.$dtId) return h("td", {}, h("a", { href: `#/twin/${encodeURIComponent(v.$dtId)}` }, v.$dtId));
          return h("td", { class: typeof v === "number" ? "num" : "" }, typeof v === "number" ? fmt(v) : text(v));
        })))));
      // MATCH and JOIN results with twins and relationships also draw as a graph.
      // Rows that hold twins but no relationship (SELECT a, b … MATCH
      // (a)-[]->(b)) are drawn as a path through their twins in column order.
      const gn = new Map(), ge = [];
      for (const r of rows) {
        const twins = [];
        let rels = 0;
        for (const v of Object.values(r)) {
          const items = Array.isArray(v) ? v : [v];
          for (const x of items) {
            if (x && typeof x === "object" && x.$dtId) { gn.set(x.$dtId, { id: x.$dtId, model: x.$metadata && x.$metadata.$model }); twins.push(x.$dtId); }
            if (x && typeof x === "object" && x.$relationshipId) { rels++; ge.push({ id: x.$relationshipId, source: x.$sourceId, target: x.$targetId, name: x.$relationshipName }); }
          }
        }
        if (rels === 0) for (let i = 1; i < twins.length; i++) ge.push({ id: `${twins[i - 1]}>${twins[i]}`, source: twins[i - 1], target: twins[i], name: "" });
      }
      if (gn.size > 1 && /\bMATCH\b|\bJOIN\b/i.test(ta.value)) {
        out.prepend(h("div", { class: "graph-box" }, graphView([...gn.values()], ge.filter((e) => gn.has(e.source) && gn.has(e.target)), { height: 420, onNode: (nid) => (location.hash = `#/twin/${encodeURIComponent(nid)}`) })));
      }
    } catch (err) { stats.textContent = ""; out.append(fail(err)); }
  }
  show(h("h2", {}, "Query"), ta, h("div", { class: "row" }, h("button", { id: "query-run", onclick: runQuery }, "Run"), h("span", { class: "muted" }, "ADT query language, plus ORDER BY, GROUP BY, anchor-free MATCH and AS OF")), stats, out);
}

// --- events ---------------------------------------------------------------

function eventsPage() {
  const list = h("tbody");
  show(h("h2", {}, "Live events"), h("table", {}, h("tr", {}, h("th", {}, "time"), h("th", {}, "type"), h("th", {}, "subject")), list));
  const es = events("", (ev) => {
    list.prepend(h("tr", { class: "flash" }, h("td", { class: "time", title: ev.time || "" }, shortTime(ev.time)), h("td", {}, ev.type), h("td", {}, ev.subject ? h("a", { href: `#/twin/${encodeURIComponent(ev.subject)}` }, ev.subject) : "")));
    while (list.children.length > 200) list.lastChild.remove();
  }, setLive);
  cleanup.push(() => { es.close(); setLive(false); });
}

window.addEventListener("hashchange", route);
route();
