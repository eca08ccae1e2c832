// Small SVG charts drawn without a library: a time-series line chart and a
// force-directed graph layout for a twin's neighbourhood.

const NS = "http://www.w3.org/2000/svg";

export function el(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const palette = ["#8a4b08", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#bcbd22", "#7f7f7f"];

// lineChart draws series [{name, points:[{t:Date, v:number}]}] into an SVG.
export function lineChart(series, { width = 560, height = 220, unit = "" } = {}) {
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) {
    svg.appendChild(el("text", { x: 10, y: 20 }, "no numeric history yet"));
    return svg;
  }
  const pad = { l: 56, r: 10, t: 10 + 14 * series.length, b: 28 };
  let t0 = Math.min(...pts.map((p) => +p.t)), t1 = Math.max(...pts.map((p) => +p.t));
  let v0 = Math.min(...pts.map((p) => p.v)), v1 = Math.max(...pts.map((p) => p.v));
  if (t0 === t1) { t0 -= 1000; t1 += 1000; }
  if (v0 === v1) { v0 -= Math.abs(v0) * 0.1 || 1; v1 += Math.abs(v1) * 0.1 || 1; }
  const x = (t) => pad.l + ((+t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - ((v - v0) / (v1 - v0)) * (height - pad.t - pad.b);
  svg.appendChild(el("line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#999" }));
  svg.appendChild(el("line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#999" }));
  for (const v of [v0, (v0 + v1) / 2, v1]) {
    svg.appendChild(el("text", { x: 4, y: y(v) + 4 }, fmt(v)));
  }
  svg.appendChild(el("text", { x: pad.l, y: height - 8 }, axisTime(t0, t1 - t0)));
  svg.appendChild(el("text", { x: width - pad.r, y: height - 8, "text-anchor": "end" }, axisTime(t1, t1 - t0)));
  series.forEach((s, i) => {
    const c = palette[i % palette.length];
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    svg.appendChild(el("path", { d, fill: "none", stroke: c, "stroke-width": 1.6 }));
    for (const p of s.points) svg.appendChild(el("circle", { cx: x(p.t), cy: y(p.v), r: 2.5, fill: c }));
    const u = s.unit || unit;
    svg.appendChild(el("text", { x: pad.l + 8, y: pad.t + 12 + i * 14, fill: c, class: "legend" }, s.name + (u ? ` (${u})` : "")));
  });
  return svg;
}

// axisTime labels a time axis: the clock time when the span is under a
// day, the date otherwise.
function axisTime(t, span) {
  const iso = new Date(t).toISOString();
  return span < 86400e3 ? iso.slice(11, 19) + "Z" : iso.slice(0, 10);
}

// shortTime shows an RFC 3339 time to the second ("2026-11-27 01:43:17Z").
export function shortTime(s) {
  if (typeof s !== "string") return "";
  return s.replace("T", " ").replace(/\.\d+(Z|[+-]\d\d:\d\d)$/, "$1");
}

export function fmt(v) {
  if (typeof v !== "number") return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return +v.toPrecision(6) + "";
}

// forceLayout places nodes [{id}] joined by edges [{source,target}] with a
// fixed number of spring-electric iterations; deterministic for the same input.
export function forceLayout(nodes, edges, width, height) {
  const n = nodes.length;
  const pos = new Map();
  nodes.forEach((nd, i) => {
    const a = (2 * Math.PI * i) / Math.max(n, 1);
    const r = Math.min(width, height) * 0.35;
    pos.set(nd.id, { x: (width - 130) / 2 + r * Math.cos(a), y: height / 2 + r * Math.sin(a), dx: 0, dy: 0 });
  });
  const k = Math.sqrt((width * height) / Math.max(n, 1)) * 0.6;
  const iters = n > 300 ? 60 : 150;
  for (let it = 0; it < iters; it++) {
    const temp = (1 - it / iters) * k;
    for (const p of pos.values()) { p.dx = 0; p.dy = 0; }
    const ps = [...pos.values()];
    for (let i = 0; i < ps.length; i++) {
      for (let j = i + 1; j < ps.length; j++) {
        const a = ps[i], b = ps[j];
        let dx = a.x - b.x, dy = a.y - b.y;
        const d2 = dx * dx + dy * dy || 0.01, d = Math.sqrt(d2);
        const f = (k * k) / d;
        dx = (dx / d) * f; dy = (dy / d) * f;
        a.dx += dx; a.dy += dy; b.dx -= dx; b.dy -= dy;
      }
    }
    for (const e of edges) {
      const a = pos.get(e.source), b = pos.get(e.target);
      if (!a || !b) continue;
      let dx = a.x - b.x, dy = a.y - b.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 0.01;
      const f = (d * d) / k;
      dx = (dx / d) * f; dy = (dy / d) * f;
      a.dx -= dx; a.dy -= dy; b.dx += dx; b.dy += dy;
    }
    for (const p of pos.values()) {
      const d = Math.sqrt(p.dx * p.dx + p.dy * p.dy) || 1;
      // Keep room on the right for the node's label.
      p.x = Math.min(width - 150, Math.max(20, p.x + (p.dx / d) * Math.min(d, temp)));
      p.y = Math.min(height - 20, Math.max(20, p.y + (p.dy / d) * Math.min(d, temp)));
    }
  }
  // Fit the drawing to the box: springs and clamps can leave it off to one
  // side or bunched in the middle. The right margin leaves room for labels.
  if (n > 1) {
    const ps = [...pos.values()];
    const x0 = Math.min(...ps.map((p) => p.x)), x1 = Math.max(...ps.map((p) => p.x));
    const y0 = Math.min(...ps.map((p) => p.y)), y1 = Math.max(...ps.map((p) => p.y));
    const box = { l: 30, r: width - 150, t: 24, b: height - 24 };
    const s = Math.min((box.r - box.l) / Math.max(x1 - x0, 1), (box.b - box.t) / Math.max(y1 - y0, 1), 3);
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    for (const p of ps) {
      p.x = (box.l + box.r) / 2 + (p.x - cx) * s;
      p.y = (box.t + box.b) / 2 + (p.y - cy) * s;
    }
  } else if (n === 1) {
    const p = [...pos.values()][0];
    p.x = (width - 130) / 2; p.y = height / 2;
  }
  return pos;
}

// graphView renders nodes and edges as an SVG; onNode is called with a node id on click.
export function graphView(nodes, edges, { width = 900, height = 560, focus, onNode } = {}) {
  const svg = el("svg", { width: "100%", height, viewBox: `0 0 ${width} ${height}`, class: "graph" });
  const pos = forceLayout(nodes, edges, width, height);
  const defs = el("defs");
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 16, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
  marker.appendChild(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#888" }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  for (const e of edges) {
    const a = pos.get(e.source), b = pos.get(e.target);
    if (!a || !b) continue;
    svg.appendChild(el("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: "#bbb", "marker-end": "url(#arrow)" }));
    if (edges.length < 80) svg.appendChild(el("text", { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, class: "muted", "font-size": 10 }, e.name || ""));
  }
  const models = [...new Set(nodes.map((n) => n.model || ""))];
  for (const nd of nodes) {
    const p = pos.get(nd.id);
    const g = el("g", { transform: `translate(${p.x},${p.y})`, "data-id": nd.id, style: "cursor:pointer" });
    g.appendChild(el("circle", { r: nd.id === focus ? 9 : 6, fill: palette[models.indexOf(nd.model || "") % palette.length], stroke: "#fff" }));
    // Many twins: only the focus keeps its label; the others show theirs
    // on hover (and in the tooltip).
    g.appendChild(el("text", { x: 9, y: 4, class: nodes.length > 60 && nd.id !== focus ? "hover-label" : "" }, nd.id));
    const title = el("title", {}, `${nd.id}\n${nd.model || ""}`);
    g.appendChild(title);
    if (onNode) g.addEventListener("click", () => onNode(nd.id));
    svg.appendChild(g);
  }
  return svg;
}
