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
