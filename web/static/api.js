// Thin client of the Lodestone HTTP API used by the dashboard pages.

export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || "";
  }
}

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
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

const enc = encodeURIComponent;

export const api = {
  models: () => call("GET", "/models?includeModelDefinition=true"),
  modelProperties: (id) => call("GET", `/api/v1/models/${enc(id)}/properties`),
  twin: (id) => call("GET", `/digitaltwins/${enc(id)}`),
  patchTwin: (id, ops) => call("PATCH", `/digitaltwins/${enc(id)}`, ops, { "Content-Type": "application/json-patch+json" }),
  history: (id) => call("GET", `/digitaltwins/${enc(id)}/history`),
  outgoing: (id) => call("GET", `/digitaltwins/${enc(id)}/relationships`),
  incoming: (id) => call("GET", `/digitaltwins/${enc(id)}/incomingrelationships`),
  neighbourhood: (id, depth, limit, cursor) =>
    call("GET", `/api/v1/graph/neighbourhood?id=${enc(id)}&depth=${depth}&limit=${limit}` + (cursor ? `&cursor=${enc(cursor)}` : "")),
  query: (query, continuationToken) => call("POST", "/query", continuationToken ? { query, continuationToken } : { query }),
};

// events opens a Server-Sent Events stream with an optional filter and calls
// onEvent with each CloudEvent. It returns the EventSource so callers can close it.
export function events(filter, onEvent, onState) {
  const url = "/events" + (filter ? `?filter=${enc(filter)}` : "");
  const es = new EventSource(url);
  es.onopen = () => onState && onState(true);
  es.onerror = () => onState && onState(false);
  es.onmessage = (m) => {
    try { onEvent(JSON.parse(m.data)); } catch { /* ignore malformed */ }
  };
  return es;
}
