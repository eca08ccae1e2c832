// Thin client of the Lodestone HTTP API used by the dashboard pages.

export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || "";
    // details name the fields at fault ({path: "/capacityTonnesPerYear",
    // message}); forms show each next to its field.
    this.details = e.details || [];
  }
}

// A bearer token for servers started with --auth: the user types it into
// the token box in the header; it is kept in sessionStorage (this tab only,
// gone when the tab closes) and sent on every request to this server.
const TOKEN_KEY = "lodestone.token";

export function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lasts until reload */ }
}

// authHeaders returns the Authorization header of the token, if any.
export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

// Every same-origin fetch of the dashboard (this module's and the pages'
// own) carries the token: the pages that call fetch directly need no change.
const plainFetch = window.fetch.bind(window);
window.fetch = (input, init = {}) => {
  const t = token();
  const url = new URL(typeof input === "string" ? input : input.url, location.href);
  if (!t || url.origin !== location.origin) return plainFetch(input, init);
  const headers = new Headers(init.headers || (typeof input === "string" ? undefined : input.headers));
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${t}`);
  return plainFetch(input, { ...init, headers });
};

// The token box sits in the header, before the live dot.
function tokenBox() {
  const header = document.querySelector("header");
  if (!header || document.getElementById("token")) return;
  const box = document.createElement("input");
  box.id = "token";
  box.type = "password";
  box.autocomplete = "off";
  box.placeholder = "token";
  box.title = "Bearer token for a server started with --auth (kept in this tab's sessionStorage)";
  box.size = 12;
  box.value = token();
  box.addEventListener("change", () => {
    setToken(box.value.trim());
    location.reload();
  });
  header.insertBefore(box, document.getElementById("live"));
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", tokenBox);
else tokenBox();

async function call(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (!init.headers["Content-Type"]) init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    if (res.status === 401) document.getElementById("token")?.focus();
    throw new APIError(res.status, data);
  }
  return data;
}

const enc = encodeURIComponent;

const asOfQ = (asOf, sep = "?") => (asOf ? `${sep}asOf=${enc(asOf)}` : "");

export const api = {
  call,
  models: () => call("GET", "/models?includeModelDefinition=true"),
  uploadModels: (defs) => call("POST", "/models", defs),
  decommissionModel: (id) => call("PATCH", `/models/${enc(id)}`, [{ op: "replace", path: "/decommissioned", value: true }], { "Content-Type": "application/json-patch+json" }),
  deleteModel: (id) => call("DELETE", `/models/${enc(id)}`),
  putTwin: (id, body, create) => call("PUT", `/digitaltwins/${enc(id)}`, body, create ? { "If-None-Match": "*" } : {}),
  deleteTwin: (id) => call("DELETE", `/digitaltwins/${enc(id)}`),
  putRelationship: (id, relId, body) => call("PUT", `/digitaltwins/${enc(id)}/relationships/${enc(relId)}`, body, { "If-None-Match": "*" }),
  deleteRelationship: (id, relId) => call("DELETE", `/digitaltwins/${enc(id)}/relationships/${enc(relId)}`),
  snapshot: (asOf) => call("GET", "/snapshot" + asOfQ(asOf)),
  bibliography: () => call("GET", "/bibliography"),
  modelProperties: (id) => call("GET", `/api/v1/models/${enc(id)}/properties`),
  twin: (id, asOf) => call("GET", `/digitaltwins/${enc(id)}` + asOfQ(asOf)),
  patchTwin: (id, ops, etag) => call("PATCH", `/digitaltwins/${enc(id)}`, ops, { "Content-Type": "application/json-patch+json", ...(etag ? { "If-Match": etag } : {}) }),
  history: (id) => call("GET", `/digitaltwins/${enc(id)}/history`),
  outgoing: (id) => call("GET", `/digitaltwins/${enc(id)}/relationships`),
  incoming: (id) => call("GET", `/digitaltwins/${enc(id)}/incomingrelationships`),
  neighbourhood: (id, depth, limit, cursor) =>
    call("GET", `/api/v1/graph/neighbourhood?id=${enc(id)}&depth=${depth}&limit=${limit}` + (cursor ? `&cursor=${enc(cursor)}` : "")),
  query: (query, continuationToken) => call("POST", "/query", continuationToken ? { query, continuationToken } : { query }),
};

// events opens a Server-Sent Events stream with an optional filter and calls
// onEvent with each CloudEvent. It returns the EventSource so callers can close it.
//
// EventSource cannot send an Authorization header, so with a token the
// stream is read with fetch instead (same events, same callbacks,
// reconnecting with Last-Event-ID).
export function events(filter, onEvent, onState) {
  const url = "/events" + (filter ? `?filter=${enc(filter)}` : "");
  if (token()) return fetchEvents(url, onEvent, onState);
  const es = new EventSource(url);
  es.onopen = () => onState && onState(true);
  es.onerror = () => onState && onState(false);
  es.onmessage = (m) => {
    try { onEvent(JSON.parse(m.data)); } catch { /* ignore malformed */ }
  };
  return es;
}

// fetchEvents reads a Server-Sent Events stream with fetch (and so with the
// token); close() stops it.
function fetchEvents(url, onEvent, onState) {
  const ctl = new AbortController();
  let lastID = "";
  let closed = false;
  const dispatch = (block) => {
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(5).replace(/^ /, "");
      else if (line.startsWith("id:")) lastID = line.slice(3).trim();
    }
    if (!data) return;
    try { onEvent(JSON.parse(data)); } catch { /* ignore malformed */ }
  };
  const run = async () => {
    while (!closed) {
      try {
        const res = await fetch(url, { headers: { Accept: "text/event-stream", ...(lastID ? { "Last-Event-ID": lastID } : {}) }, signal: ctl.signal });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState && onState(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r\n?/g, "\n");
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            dispatch(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch { /* aborted or failed: retry below unless closed */ }
      if (closed) return;
      onState && onState(false);
      await new Promise((r) => setTimeout(r, 3000));
    }
  };
  run();
  return { close() { closed = true; ctl.abort(); } };
}
