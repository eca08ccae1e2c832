// Graph page (#/graph): the whole graph, a twin's neighbourhood (paged on
// the server) or the subgraph a query returns, as of any time; layouts
// force, stage lanes (mine → separation → metal → magnet → OEM) or circle;
// colours and legend by model; search with suggestions. And the query
// console (#/query), whose MATCH and JOIN results draw as a graph too.
import { api } from "./api.js";
import { graphChart, fmt, shortTime } from "./charts.js";
import { h, fail, asOfPicker } from "./dom.js";

const esc = (s) => s.replace(/\\/g, "\\\\").replace(/'/g, "\\'");

// withAsOf adds AS OF to a query after its FROM clause, unless it has one.
export function withAsOf(q, asOf) {
  if (!asOf || /\bAS\s+OF\b/i.test(q)) return q;
  return q.replace(/\bFROM\s+(DIGITALTWINS|RELATIONSHIPS)(\s+(?!(?:MATCH|WHERE|JOIN|GROUP|ORDER|AS)\b)[A-Za-z_]\w*)?/i, (m) => `${m} AS OF '${asOf}'`);
}

// subgraphOf collects the twins and relationships in query rows. Rows that
// hold twins but no relationship (SELECT a, b … MATCH (a)-[]->(b)) become a
// path through their twins in column order.
export function subgraphOf(rows) {
  const nodes = new Map(), edges = [];
  for (const r of rows) {
    const twins = [];
    let rels = 0;
    for (const v of Object.values(r)) {
      for (const x of Array.isArray(v) ? v : [v]) {
        if (x && typeof x === "object" && x.$dtId) { nodes.set(x.$dtId, { id: x.$dtId, model: x.$metadata && x.$metadata.$model, name: x.name }); twins.push(x.$dtId); }
        if (x && typeof x === "object" && x.$relationshipId) { rels++; edges.push({ id: x.$relationshipId, source: x.$sourceId, target: x.$targetId, name: x.$relationshipName }); }
      }
    }
    if (rels === 0) for (let i = 1; i < twins.length; i++) edges.push({ id: `${twins[i - 1]}>${twins[i]}`, source: twins[i - 1], target: twins[i], name: "" });
  }
  return { nodes, edges };
}

// querySubgraph runs a query and returns its subgraph; when the rows hold
// twins only, the relationships among them are fetched as well.
async function querySubgraph(q, asOf) {
  const rows = [];
  let token;
  do {
    const res = await api.query(withAsOf(q, asOf), token);
    rows.push(...res.value);
    token = res.continuationToken;
  } while (token && rows.length < 5000);
  const g = subgraphOf(rows);
  if (g.edges.length === 0 && g.nodes.size > 1 && g.nodes.size <= 500) {
    const ids = "[" + [...g.nodes.keys()].map((x) => `'${esc(x)}'`).join(",") + "]";
    const res = await api.query(withAsOf(`SELECT R FROM RELATIONSHIPS R WHERE R.$sourceId IN ${ids} AND R.$targetId IN ${ids}`, asOf));
    for (const x of res.value) g.edges.push({ id: x.R.$relationshipId, source: x.R.$sourceId, target: x.R.$targetId, name: x.R.$relationshipName });
  }
  return { g, rows };
}

export async function graphPage(main, id, params) {
  const asOf = params.get("asOf") || "";
  const q = params.get("q") || "";
  const view = id ? "twin" : q ? "query" : "all";
  let layout = params.get("layout") || (view === "all" ? "lanes" : "auto");
  const go = (p) => {
    const sp = new URLSearchParams();
    const v = { id, q, asOf, layout, ...p };
    if (v.q && !v.id) sp.set("q", v.q);
    if (v.asOf) sp.set("asOf", v.asOf);
    if (v.layout && v.layout !== "auto") sp.set("layout", v.layout);
    location.hash = `#/graph${v.id ? "/" + encodeURIComponent(v.id) : ""}` + (sp.toString() ? "?" + sp : "");
  };
  const root = h("input", { type: "text", id: "graph-root", value: id || "", placeholder: "start twin id", list: "graph-suggest" });
  const search = h("input", { type: "search", id: "graph-search", placeholder: "find a twin in the view…", list: "graph-suggest" });
  const suggest = h("datalist", { id: "graph-suggest" });
  const layoutPick = h("select", { id: "graph-layout" }, ["auto", "force", "lanes", "circle"].map((l) => h("option", { value: l }, l === "lanes" ? "stage lanes" : l)));
  layoutPick.value = layout;
  layoutPick.addEventListener("change", () => go({ layout: layoutPick.value }));
  const qText = h("textarea", { id: "graph-query", rows: 2, placeholder: "a query whose twins and relationships to draw, e.g. SELECT a, b FROM DIGITALTWINS MATCH (a)-[:feeds]->(b)" }, q);
  const box = h("div", { class: "graph-box", id: "graph-box" });
  const info = h("p", { class: "muted", id: "graph-info" });
  const nodes = new Map(), edges = new Map();
  const cursors = new Map();
  let focus = id || "";
  main.replaceChildren(h("h2", {}, "Graph", asOf ? h("span", { class: "tag", id: "asof-tag" }, "as of " + shortTime(asOf)) : null),
    h("div", { class: "row" },
      h("button", { class: view === "all" ? "" : "secondary", id: "graph-all", onclick: () => go({ id: "", q: "" }) }, "Whole graph"),
      root, h("button", { id: "graph-show", onclick: () => root.value.trim() && go({ id: root.value.trim(), q: "" }) }, "Neighbourhood"),
      "layout ", layoutPick, asOfPicker(asOf, (t) => go({ asOf: t }), "graph-asof")),
    h("div", { class: "row" }, qText, h("button", { id: "graph-query-run", onclick: () => qText.value.trim() && go({ id: "", q: qText.value.trim() }) }, "Show query")),
    h("div", { class: "row" }, search, suggest), info, box);

  function draw() {
    const ns = [...nodes.values()], es = [...edges.values()];
    box.replaceChildren(graphChart(ns, es, { layout, focus, height: ns.length > 400 ? 720 : 560, onNode: (nid) => {
      if (view === "twin" && !asOf) expand(nid).catch((err) => box.append(fail(err)));
      else location.hash = `#/twin/${encodeURIComponent(nid)}` + (asOf ? `?asOf=${encodeURIComponent(asOf)}` : "");
    } }));
    const pending = [...cursors.entries()].filter(([, c]) => c);
    info.replaceChildren(`${nodes.size} twins, ${es.length} relationships shown` + (asOf ? ` as of ${shortTime(asOf)}` : "") + ". ",
      view === "twin" && !asOf ? "Click a twin to expand its neighbours. " : "Click a twin to open it. ",
      ...pending.map(([r, c]) => h("button", { class: "secondary", onclick: () => expand(r, c) }, `more of ${r}`)));
  }
  async function expand(r, cursor) {
    const res = await api.neighbourhood(r, 1, 100, cursor);
    for (const n of res.nodes) nodes.set(n.id, n);
    for (const e of res.edges) edges.set(e.id + "|" + e.source, e);
    cursors.set(r, res.nextCursor || null);
    focus = r;
    draw();
  }
  // search suggests ids of the view (and of the graph, by prefix) and
  // focuses the one picked.
  let seq = 0;
  search.addEventListener("input", async () => {
    const s = search.value.trim().toLowerCase();
    const mine = ++seq;
    // Ids that start with the text first, then ids and names that hold it.
    const rank = (n) => (n.id.toLowerCase().startsWith(s) ? 0 : n.id.toLowerCase().includes(s) ? 1 : (n.name || "").toLowerCase().includes(s) ? 2 : 3);
    const local = [...nodes.values()].map((n) => [rank(n), n]).filter(([r]) => r < 3).sort((a, b) => a[0] - b[0] || a[1].id.localeCompare(b[1].id)).slice(0, 20).map(([, n]) => n);
    suggest.replaceChildren(...local.map((n) => h("option", { value: n.id }, n.name || "")));
    if (nodes.has(search.value.trim())) { focus = search.value.trim(); draw(); return; }
    if (local.length < 5 && s) {
      try {
        const res = await api.query(`SELECT TOP(10) T.$dtId FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, '${esc(search.value.trim())}')`);
        if (mine === seq) for (const x of res.value) if (!nodes.has(x.$dtId)) suggest.append(h("option", { value: x.$dtId, "data-remote": "1" }, "not in view: opens its neighbourhood"));
      } catch { /* optional */ }
    }
  });
  search.addEventListener("change", () => {
    const v = search.value.trim();
    if (!v) return;
    if (nodes.has(v)) { focus = v; draw(); } else if ([...suggest.options].some((o) => o.value === v && o.dataset.remote)) go({ id: v, q: "" });
  });

  try {
    if (view === "twin" && !asOf) {
      await expand(id);
    } else if (view === "query") {
      const { g } = await querySubgraph(q, asOf);
      for (const [k, n] of g.nodes) nodes.set(k, n);
      for (const e of g.edges) edges.set(e.id + "|" + e.source, e);
      draw();
    } else {
      const snap = await api.snapshot(asOf);
      const all = new Map(snap.twins.map((t) => [t.$dtId, { id: t.$dtId, model: t.$metadata.$model, name: t.name }]));
      let rels = snap.relationships || [];
      if (view === "twin") { // a neighbourhood as of a time, from the snapshot
        rels = rels.filter((r) => r.$sourceId === id || r.$targetId === id);
        const keep = new Set([id, ...rels.flatMap((r) => [r.$sourceId, r.$targetId])]);
        for (const k of [...all.keys()]) if (!keep.has(k)) all.delete(k);
      }
      for (const [k, n] of all) nodes.set(k, n);
      for (const r of rels) edges.set(r.$relationshipId + "|" + r.$sourceId, { id: r.$relationshipId, source: r.$sourceId, target: r.$targetId, name: r.$relationshipName });
      draw();
    }
  } catch (err) { box.replaceChildren(fail(err)); }
}

// --- query ----------------------------------------------------------------

export async function queryPage(main, params) {
  const ta = h("textarea", { id: "query-text" }, params.get("q") || "SELECT T.$dtId, T.$metadata.$model FROM DIGITALTWINS T");
  const out = h("div", { id: "query-results" });
  const stats = h("p", { class: "muted", id: "query-stats" });
  let asOf = "";
  async function runQuery() {
    out.replaceChildren();
    try {
      const res = await api.query(withAsOf(ta.value, asOf));
      const rows = res.value;
      stats.textContent = `${rows.length} rows` + (res.queryCharge !== undefined ? ` · cost ${res.queryCharge}` : "") + (res.continuationToken ? " · more pages" : "");
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      out.append(h("table", {}, h("tr", {}, cols.map((c) => h("th", {}, c))),
        rows.slice(0, 500).map((r) => h("tr", {}, cols.map((c) => {
          const v = r[c];
          if (v && typeof v === "object" && v.$dtId) return h("td", {}, h("a", { href: `#/twin/${encodeURIComponent(v.$dtId)}` }, v.$dtId));
          return h("td", { class: typeof v === "number" ? "num" : "" }, typeof v === "number" ? fmt(v) : typeof v === "object" && v !== null ? JSON.stringify(v) : v === undefined ? "" : String(v));
        })))));
      const g = subgraphOf(rows);
      if (g.nodes.size > 1 && /\bMATCH\b|\bJOIN\b/i.test(ta.value)) {
        out.prepend(h("div", { class: "graph-box" }, graphChart([...g.nodes.values()], g.edges, { height: 420, id: "query-graph", onNode: (nid) => (location.hash = `#/twin/${encodeURIComponent(nid)}`) })));
      }
      if (g.nodes.size > 0) out.prepend(h("p", {}, h("a", { id: "query-in-graph", href: `#/graph?q=${encodeURIComponent(ta.value)}` + (asOf ? `&asOf=${encodeURIComponent(asOf)}` : "") }, "Open the result in the graph view →")));
    } catch (err) { stats.textContent = ""; out.append(fail(err)); }
  }
  main.replaceChildren(h("h2", {}, "Query"), ta,
    h("div", { class: "row" }, h("button", { id: "query-run", onclick: runQuery }, "Run"), asOfPicker("", (t) => { asOf = t; }, "query-asof"),
      h("span", { class: "muted" }, "ADT query language, plus ORDER BY, GROUP BY, anchor-free MATCH and AS OF")), stats, out);
  if (params.get("q")) await runQuery();
}
