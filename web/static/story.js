// The story page (#/story, issue 16): mine to magnet on the demo, layer by
// layer, with live numbers. Each step calls the public API, shows the call
// it made and the numbers it got; every number is in an element with
// data-k (its name) and data-v (the value as the API gave it), so the
// browser test can compare them with the API.
//
// The documents the steps send (the reference plant's scale-up, the
// estimator's readings, the org scenario and the investment SPEC) come from
// GET /demo/story, which serves the bundled files of examples/org and
// examples/plant; nothing here is a number of its own.
import { chart, timeChart, fmt } from "./charts.js";
import { h, fail, citations } from "./dom.js";
import { stageProfiles } from "./process.js";
import { runMap, runFlows, sankey, periods } from "./supply.js";

async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) { init.body = typeof body === "string" ? body : JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) throw new Error(`${method} ${path}: ${(data && data.error && data.error.message) || res.status}`);
  return data;
}

const enc = encodeURIComponent;
const pct = (v) => (typeof v === "number" ? (100 * v).toFixed(1) + " %" : "–");
const daysBetween = (a, b) => Math.round((Date.parse(b) - Date.parse(a)) / 86400e3);
const raw = (v) => (typeof v === "object" ? JSON.stringify(v) : String(v));

// num is a number of the story: its label, the value shown and the value
// as the API gave it (data-v).
function num(k, label, v, shown) {
  return h("div", { class: "card story-num" }, h("h3", { "data-k": k, "data-v": raw(v) }, shown === undefined ? fmt(v) : shown), label);
}

// apiCalls lists the calls a step made.
function apiCalls(...calls) {
  return h("p", { class: "api-calls muted small" }, "API: ", calls.map((c, i) => [i ? " · " : "", h("code", {}, c)]));
}

// headlines names the number of each step that the summary at the top of
// the page repeats.
const headlines = { cascade: "cascade-recovery-nd", plant: "alarm-kind", capacity: "capacity", shock: "first-stockout", org: "latency-cost", invest: "best-objective", trust: "verify-ok" };

// summaryCard repeats a step's headline number at the top of the page; a
// click scrolls to the step.
function summaryCard(sec, n, id, title) {
  const card = h("a", { class: "card story-sum", href: "javascript:void 0", "data-step": id, onclick: () => sec.scrollIntoView({ behavior: "smooth" }) },
    h("h3", {}, "…"), h("span", { class: "muted" }, `${n}. ${title}`));
  sec.done.then(() => {
    const num = sec.querySelector(`[data-k="${headlines[id]}"]`);
    card.querySelector("h3").textContent = sec.dataset.state === "done" && num ? num.textContent : "failed";
    if (num) card.append(h("div", { class: "small" }, num.parentElement.lastChild.textContent));
  });
  return card;
}

// step renders a section that fills itself with what run returns; its
// data-state is loading, done or error.
function step(n, id, title, lead, run) {
  const body = h("div", { class: "story-body" }, h("p", { class: "muted" }, "Loading…"));
  const sec = h("section", { class: "story-step", id: `step-${id}`, "data-state": "loading" },
    h("h2", {}, h("span", { class: "story-n" }, String(n)), " ", title), h("p", { class: "story-lead" }, lead), body);
  sec.title = title;
  sec.n = n;
  sec.key = id;
  sec.done = (async () => {
    try {
      body.replaceChildren(...(await run()).flat().filter(Boolean));
      sec.dataset.state = "done";
    } catch (err) {
      body.replaceChildren(fail(err));
      sec.dataset.state = "error";
    }
  })();
  return sec;
}

// --- the steps ------------------------------------------------------------------

async function cascadeStep(story, state) {
  const path = `/digitaltwins/${enc(story.cascade)}/simulate`;
  const r = await call("POST", path, story.simulate);
  state.simulate = r;
  const res = r.result || {};
  const rec = r.recovery || {}, pur = r.purity || {};
  return [
    h("div", { class: "cards" },
      num("cascade-stages", "stages (mixer-settlers)", (res.stages || []).length),
      num("cascade-recovery-nd", "Nd recovered to the loaded organic", rec.organic_Nd, pct(rec.organic_Nd)),
      num("cascade-purity-nd", "Nd purity of the loaded organic", pur.organic_Nd, pct(pur.organic_Nd)),
      num("cascade-recovery-pr", "Pr recovered to the raffinate", rec.aqueous_Pr, pct(rec.aqueous_Pr))),
    h("div", { class: "charts" }, stageProfiles(res.stages || [])),
    h("p", { class: "muted small" }, `${r.modelVersion} · ${r.inputHash} · ${res.status}, ${res.iterations} iterations. `, h("a", { href: `#/process/${enc(story.cascade)}` }, "the cascade's process view →")),
    apiCalls(`POST ${path}`),
  ];
}

async function plantStep(story) {
  const tPath = `/digitaltwins/${enc(story.analyser)}/telemetry?name=assay&limit=1000`;
  const aPath = `/plant/equipment/${enc(story.plant)}/availability`;
  const [tel, est, av] = await Promise.all([
    call("GET", tPath), call("POST", "/plant/estimate", story.estimate), call("POST", aPath)]);
  const points = (tel.value || []).map((p) => ({ t: Date.parse(p.sourceTime), v: Object.values(p.value || {})[0] }));
  const alarms = est.alarms || [];
  const drift = alarms.find((a) => a.sensor) || alarms[0];
  // The availability from the equipment models (failure records → fit
  // per model → each train's block diagram), or why there is none.
  const avail = av.computed ? av.availability : null;
  const driftAt = drift && points.length ? points[0].t + drift.t_h * 3600e3 : null;
  return [
    h("div", { class: "cards" },
      num("telemetry-count", `readings of ${story.sensor} replayed into ${story.analyser}`, points.length),
      drift ? num("alarm-kind", `estimator alarm on ${drift.sensor || "the filter"}`, drift.kind) : num("alarm-kind", "estimator alarms", "none"),
      drift ? num("alarm-t", "alarm raised at (hours of the replay)", drift.t_h, fmt(+drift.t_h.toFixed(2)) + " h") : null,
      num("availability", "plant availability from its equipment models", avail, av.computed ? pct(avail) : "not computed")),
    h("div", { class: "charts" }, chart({
      animation: false, title: { text: `replayed readings of ${story.sensor} (Nd, mg/L)`, left: "left", textStyle: { fontSize: 12 } }, tooltip: { trigger: "axis" },
      grid: { left: 64, right: 24, top: 40, bottom: 30 }, xAxis: { type: "time" }, yAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => fmt(v) } },
      series: [{ type: "line", name: story.sensor, showSymbol: false, data: points.map((p) => [p.t, p.v]),
        markLine: driftAt ? { symbol: "none", label: { formatter: drift.kind, position: "insideEndTop" }, lineStyle: { color: "#b3261e" }, data: [{ xAxis: driftAt }] } : undefined }],
    }, { height: 240, id: "story-telemetry" })),
    h("p", { class: "muted small" }, "The readings are synthetic, drawn from the dynamic cascade model with seeded noise (examples/plant/ndpr-drift.json, regenerated by ",
      h("code", {}, "go test ./plant/estimate -run TestRunSpec -update"), "); the sensor reads 5 σ high from 10 h. The extended Kalman filter raises ", h("b", {}, drift ? drift.kind : "no alarm"),
      ". ", av.computed ? `Availability ${pct(avail)}: ${av.source}` : h("span", { id: "availability-reason" },
        `The availability is computed from the equipment's failure records (a fit per equipment model, MTBF and MTTR, each train's block diagram); the reference plant has none — no public life data for SX equipment was found — so it is ${av.reason}. The capacity below assumes 1 and says so in its terms.`)),
    apiCalls(`GET ${tPath}`, "POST /plant/estimate", `POST ${aPath}`),
  ];
}

async function capacityStep(story, state, run) {
  const path = `/digitaltwins/${enc(story.plant)}/provenance`;
  const prov = await call("GET", path);
  const link = (state.simulate && state.simulate.plantLink) || {};
  const cap = link.capacity || {};
  const entities = Object.keys(prov.entity || {});
  const refs = entities.filter((e) => e.startsWith("bib:")).map((e) => e.slice(4));
  const node = ((run.scenario && run.scenario.network && run.scenario.network.nodes) || []).find((n) => n.id === story.networkNode) || {};
  const netCap = node.capacity_per_period * 365;
  return [
    h("div", { class: "cards" },
      num("capacity", `effective capacity of ${story.plant} (t REO/yr)`, cap.tonnes_reo_per_year, fmt(Math.round(cap.tonnes_reo_per_year))),
      num("provenance-entities", "provenance entities (PROV-JSON)", entities.length),
      num("provenance-refs", "bibliography references", refs.length),
      num("network-capacity", `${story.networkNode} in the network (t REO/yr)`, netCap, fmt(Math.round(netCap)))),
    h("table", { id: "capacity-terms" }, h("tr", {}, h("th", {}, "term"), h("th", {}, "value"), h("th", {}, "source")),
      (cap.terms || []).map((t) => h("tr", {}, h("td", {}, t.name), h("td", { class: "num" }, fmt(t.value)), h("td", {}, citations(t.source))))),
    h("p", { class: "muted small" }, cap.formula ? `capacity = ${cap.formula}. ` : "",
      `The reference plant borrows its scale from ${story.networkNode} and feeds nothing, so the network leaves it out: its capacity is shown beside the node's, not fed into it, because its recovery comes from a synthetic bench-scale cascade and its trains are assumed — linking it would replace a published figure with illustrative ones. The network's node: `, citations(node.source || "")),
    apiCalls(`POST /digitaltwins/${story.cascade}/simulate (above)`, `GET ${path}`),
  ];
}

async function shockStep(story, run) {
  const k = run.kpis || {};
  const res = run.result || { nodes: {} };
  const net = (run.scenario && run.scenario.network) || { nodes: [], arcs: [] };
  const { flow } = runFlows(net, res, run.days);
  const mapBox = h("div", { id: "story-map-box" });
  runMap(run).then((m) => mapBox.replaceChildren(m)).catch((e) => mapBox.replaceChildren(fail(e)));
  const demand = net.nodes.filter((n) => n.demand_per_period > 0).map((n) => n.id);
  const monthly = (id) => ((res.nodes[id] || {}).monthly || []).map((m) => ({ t: Date.parse(m.month + "-15"), v: 100 * m.fill_rate }));
  const row = res.nodes["oem-row"] || {};
  return [
    h("div", { class: "cards" },
      num("fill-rate", "demand fill rate, all OEMs", k.demandFillRate, pct(k.demandFillRate)),
      num("lost", "demand lost (t NdFeB)", k.lostTonnes, fmt(Math.round(k.lostTonnes))),
      num("first-stockout", "first stockout", k.firstStockout || "none"),
      num("oem-row-fill", "fill rate of the OEMs outside China", row.fill_rate, pct(row.fill_rate))),
    h("h3", {}, "Flows per lane"), mapBox,
    h("h3", {}, "Flows by stage and country"), h("div", { class: "graph-box" }, sankey(net, flow, { years: run.days / 365 })),
    h("div", { class: "charts" }, timeChart(demand.map((id) => ({ name: id, points: monthly(id) })), { title: "fill rate by month (export control in force shaded)", unit: "%", yMin: 0, id: "story-fill", bands: periods({ ...run.scenario, start: run.start, days: run.days }) })),
    h("p", { class: "muted small" }, `Run ${run.id} · ${run.days} days from ${run.start} · `, (run.scenario.controls || []).map((c) => citations(c.source || c.name)),
      " · ", h("a", { href: `#/supply/${enc(run.id)}` }, "open the run →")),
    apiCalls("GET /scenarios", `GET /scenarios/${run.id}`),
  ];
}

// orgOnGraph links the actors and rules the demo loaded as OrgActor and
// DecisionRule twins (the same ones as the scenario's org section).
function orgOnGraph(story) {
  const link = (id) => h("a", { href: `#/twin/${enc(id)}` }, id);
  const list = (ids) => (ids || []).flatMap((id, i) => (i ? [", ", link(id)] : [link(id)]));
  return h("p", { id: "org-twins", "data-k": "org-twins", "data-v": [...(story.orgActors || []), ...(story.orgRules || [])].join(",") },
    "On the twin graph: actors ", ...list(story.orgActors), " (OrgActor twins) and rules ", ...list(story.orgRules),
    " (DecisionRule twins); ", h("code", {}, "POST /org/run?graph=true"), " runs them over the graph's network.");
}

async function orgStep(story) {
  const r = await call("POST", "/org/run?seed=1", story.orgScenario);
  const d = (r.decisions || [])[0] || {};
  const zero = (r.zero_latency || {}).lost;
  const zd = ((r.zero_latency || {}).decisions || [])[0] || {};
  const rule = ((story.orgScenario.org || {}).rules || []).find((x) => x.id === d.rule) || {};
  return [
    h("div", { class: "cards" },
      num("decision-signal-day", `signal: ${d.signal} ${fmt(d.value)} (below ${fmt((rule.when || {}).below)})`, d.signal_day),
      num("decision-effective-day", `effective after ${rule.latency_days} + ${(rule.approval || {}).latency_days} days (${(d.approved_by || []).join(", ")})`, d.effective_day),
      num("org-lost", "demand lost with the decision (t)", r.lost, fmt(Math.round(r.lost))),
      num("zero-lost", "lost had nobody waited (t)", zero, fmt(Math.round(zero))),
      num("latency-cost", "cost of the latencies (t)", r.latency_cost, fmt(Math.round(r.latency_cost)))),
    h("p", { id: "org-counterfactual" }, `The decision took effect on ${d.effective_day}, ${daysBetween(d.signal_day, d.effective_day)} days after its signal. `,
      zd.effective_day ? `With no latency it would have taken effect on ${zd.effective_day}: ${fmt(Math.round(zero))} t lost instead of ${fmt(Math.round(r.lost))} t.` : ""),
    h("table", { id: "org-timeline" }, h("tr", {}, h("th", {}, "day"), h("th", {}, "kind"), h("th", {}, "rule"), h("th", {}, "by")),
      (r.timeline || []).map((e) => h("tr", {}, h("td", {}, e.day), h("td", {}, e.kind), h("td", {}, e.rule), h("td", {}, e.by || "")))),
    orgOnGraph(story),
    h("p", { class: "muted small" }, citations(story.orgScenario.description || "")),
    apiCalls("POST /org/run?seed=1 (examples/org/april-2025.json)"),
  ];
}

async function investStep(story) {
  const r = await call("POST", "/org/invest", story.invest);
  const f = r.frontier || [];
  const best = r.best || {};
  const option = {
    animation: false, title: { text: `efficient frontier: ${r.objective} over ${r.runs} runs (95 % CI)`, textStyle: { fontSize: 12 } },
    tooltip: { trigger: "item", formatter: (p) => (p.data && p.data.label) || "" },
    grid: { left: 70, right: 20, top: 36, bottom: 40 },
    xAxis: { type: "value", name: "cost (USD)", axisLabel: { formatter: (v) => fmt(v / 1e6) + "M" } }, yAxis: { type: "value", name: "lost (t)", scale: true },
    series: [
      { type: "line", step: "end", data: f.map((p) => ({ value: [p.cost, p.objective], label: (p.candidates.join(" + ") || "no investment") + `: ${fmt(Math.round(p.objective))} t` })), symbolSize: 8 },
      { type: "custom", renderItem: (params, api) => { const lo = api.coord([api.value(0), api.value(1)]), hi = api.coord([api.value(0), api.value(2)]); return { type: "line", shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: { stroke: "#8a4b08" } }; },
        data: f.map((p) => [p.cost, p.ci[0], p.ci[1]]) },
    ],
  };
  return [
    h("div", { class: "cards" },
      num("baseline-objective", "expected loss with no investment (t)", r.baseline.objective, fmt(Math.round(r.baseline.objective))),
      num("best-objective", `best: ${best.candidates.join(" + ") || "nothing"} (t)`, best.objective, fmt(Math.round(best.objective))),
      num("best-cost", "its cost (USD)", best.cost, fmt(best.cost / 1e6) + " M"),
      num("frontier-size", `portfolios on the frontier (${r.evaluated} evaluated)`, f.length)),
    h("div", { class: "charts" }, chart(option, { height: 280, id: "story-frontier" })),
    h("table", { id: "invest-candidates" }, h("tr", {}, h("th", {}, "candidate"), h("th", {}, "kind"), h("th", {}, "source")),
      (story.invest.candidates || []).map((c) => h("tr", {}, h("td", {}, c.id), h("td", {}, c.kind), h("td", {}, citations(c.source || ""))))),
    apiCalls(`POST /org/invest (${r.runs} runs, seed ${r.seed}, examples/org/april-2025-invest.json)`),
  ];
}

async function trustStep(story, run) {
  const cPath = `/credibility/${enc(run.id)}`;
  const cred = await call("GET", cPath);
  let ver = null, verErr = null;
  try { ver = await call("GET", "/verify"); } catch (e) { verErr = e; }
  const grade = (n) => ((cred.filters || []).find((f) => f.name === n) || {}).grade;
  return [
    h("div", { class: "cards" },
      num("grade-data", "data defensibility", grade("data")),
      num("grade-model", "model defensibility", grade("model")),
      num("grade-operational", "operational defensibility", grade("operational")),
      ver ? num("verify-ok", `verify: ${ver.tree_size} log entries, ${ver.versions} versions, ${ver.mismatches.length} mismatches`, ver.ok, ver.ok ? "passes" : "FAILS")
        : num("verify-ok", "verify", null, "no log")),
    h("table", { id: "credibility-filters" }, h("tr", {}, h("th", {}, "filter"), h("th", {}, "grade"), h("th", {}, "why")),
      (cred.filters || []).map((f) => h("tr", {}, h("td", {}, f.name), h("td", {}, f.grade), h("td", {}, f.why)))),
    verErr ? h("p", { class: "muted small", id: "verify-missing" }, verErr.message) : h("p", { class: "muted small" }, `Checkpoint signed by ${ver.origin}: every version in the store matches the transparency log.`),
    apiCalls(`GET ${cPath}`, "GET /verify"),
  ];
}

// storyPage renders the story into main.
export async function storyPage(main) {
  let story;
  try { story = await call("GET", "/demo/story"); } catch (err) {
    throw new Error(`The story runs on the demo's data: start the server with lodestone demo (${err.message}).`);
  }
  const list = await call("GET", "/scenarios");
  const entry = (list.value || []).find((r) => r.name === story.scenarioName);
  if (!entry) throw new Error(`no stored run named "${story.scenarioName}": start the demo afresh (lodestone demo --reset)`);
  const run = await call("GET", `/scenarios/${enc(entry.id)}`);
  const state = {};
  main.replaceChildren(
    h("h2", { id: "story-title" }, "Mine to magnet: one story through the layers"),
    h("p", { class: "muted" }, "Each step below calls the API of this server and shows what it answered: a cascade's recovery sets a separation plant's capacity; ",
      "an export control propagates through the network; a procurement rule with its latency decides how long the OEMs run short; every number carries its source and the record is tamper-evident."),
    h("div", { class: "cards story-summary", id: "story-summary" }),
    h("div", { id: "story-steps" }));
  const steps = main.querySelector("#story-steps");
  const summary = main.querySelector("#story-summary");
  const s1 = step(1, "cascade", "The cascade", "The reference plant's Pr/Nd cascade (P507, 60 mixer-settlers) simulated at steady state: stage profiles, purity and recovery.", () => cascadeStep(story, state));
  steps.append(s1);
  summary.append(summaryCard(s1, 1, "cascade", s1.title));
  await s1.done;
  const secs = [
    step(2, "plant", "The plant", "Analyser readings replayed as telemetry, the soft sensor (an extended Kalman filter on the dynamic cascade) and its alarm, the plant's availability.", () => plantStep(story)),
    step(3, "capacity", "Capacity, with provenance", "The cascade's recovery and the plant's scale set the separation plant's capacity; each term has its source, and the twin's provenance records where every value came from.", () => capacityStep(story, state, run)),
    step(4, "shock", "The April 2025 shock", "MOFCOM & GAC Announcement No. 18 (4 April 2025) on the 2024 network: licences with a review of about 45 business days.", () => shockStep(story, run)),
    step(5, "org", "Procurement decides, late", "The OEMs' buyer asks for the US stockpile when cover runs low; the agency approves after its own latency. The counterfactual: the same rule with no latency.", () => orgStep(story)),
    step(6, "invest", "The investment frontier", "Candidate investments against the same shock, over common Monte Carlo runs: the cheapest portfolio for each level of expected loss.", () => investStep(story)),
    step(7, "trust", "Credibility and verify", "The run's credibility report (data, model, operations) and a verification of the whole store against the transparency log.", () => trustStep(story, run)),
  ];
  steps.append(...secs);
  summary.append(...secs.map((sec) => summaryCard(sec, sec.n, sec.key, sec.title)));
  await Promise.all(secs.map((s) => s.done));
  main.dataset.story = "done";
}
