// Twin forms built from a model's DTDL: one field per writable property,
// typed by its schema (numbers with their unit, enums as choices, objects
// and maps as JSON), the property's source next to it.
import { api } from "./api.js";
import { h, citations, display } from "./dom.js";
import { unitSymbol } from "./charts.js";

let defsCache = null;

// modelDefs returns the definitions of all models by id (cached per page
// load; uploads clear it).
export async function modelDefs(refresh) {
  if (!defsCache || refresh) {
    const res = await api.models();
    defsCache = new Map(res.value.map((m) => [m.id, m]));
  }
  return defsCache;
}
export function forgetModels() { defsCache = null; }

const arr = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

// enumValues finds the enum values of a property by walking the model and
// what it extends (inline schemas and the model's own "schemas").
export function enumValues(defs, modelId, prop) {
  const seen = new Set();
  const walk = (id) => {
    if (!id || seen.has(id)) return null;
    seen.add(id);
    const m = defs.get(id);
    const def = m && m.model;
    if (!def) return null;
    for (const c of arr(def.contents)) {
      if (c.name !== prop) continue;
      let s = c.schema;
      if (typeof s === "string") s = arr(def.schemas).find((x) => x["@id"] === s) || s;
      if (s && typeof s === "object" && arr(s["@type"]).includes("Enum")) return arr(s.enumValues).map((v) => ({ value: v.enumValue, label: display(v.displayName) || v.name || String(v.enumValue) }));
    }
    for (const p of arr(def.extends)) { const r = walk(typeof p === "string" ? p : p["@id"]); if (r) return r; }
    return null;
  };
  return walk(modelId) || [];
}

const numeric = new Set(["double", "float", "integer", "long"]);

// twinForm returns {form, values(), changes(original)} for a model's
// writable properties, filled from twin (may be empty).
export async function twinForm(modelId, twin = {}) {
  const [props, defs] = await Promise.all([api.modelProperties(modelId).then((r) => r.value), modelDefs()]);
  const sources = (twin && twin.sources) || {};
  const fields = [];
  const rows = [];
  for (const p of props.filter((p) => p.kind === "Property" && p.writable !== false && p.name !== "sources")) {
    const v = twin[p.name];
    let input;
    const schema = typeof p.schema === "string" ? p.schema : "object";
    const enums = schema === "Enum" ? enumValues(defs, modelId, p.name) : [];
    if (numeric.has(schema)) {
      input = h("input", { type: "number", step: schema === "integer" || schema === "long" ? 1 : "any", value: typeof v === "number" ? String(v) : "" });
    } else if (schema === "boolean") {
      input = h("select", {}, h("option", { value: "" }, "(unset)"), h("option", { value: "true" }, "true"), h("option", { value: "false" }, "false"));
      input.value = v === true ? "true" : v === false ? "false" : "";
    } else if (enums.length) {
      input = h("select", {}, h("option", { value: "" }, "(unset)"), enums.map((e) => h("option", { value: String(e.value) }, e.label === String(e.value) ? e.label : `${e.label} (${e.value})`)));
      input.value = v === undefined ? "" : String(v);
    } else if (["string", "date", "dateTime", "time", "duration"].includes(schema)) {
      input = h("input", { type: "text", value: v === undefined ? "" : String(v), placeholder: schema === "string" ? "" : schema });
    } else {
      input = h("textarea", { rows: 2, placeholder: `${schema} as JSON` }, v === undefined ? "" : JSON.stringify(v));
    }
    input.dataset.path = p.name;
    input.name = p.name;
    input.id = "field-" + p.name;
    fields.push({ p, input, schema, enums });
    const unit = unitSymbol(p.unit);
    rows.push(h("tr", { class: "field", "data-prop": p.name },
      h("td", {}, h("label", { for: input.id }, p.name), p.definedIn && p.definedIn !== modelId ? h("div", { class: "muted small" }, p.definedIn.replace(/^dtmi:lodestone:/, "")) : null),
      h("td", {}, input), h("td", { class: "unit" }, unit || (schema !== "string" ? h("span", { class: "muted" }, schema) : "")),
      h("td", { class: "muted small" }, sources[p.name] ? citations(sources[p.name]) : "")));
  }
  const form = h("form", { class: "twin-form", onsubmit: (e) => e.preventDefault() },
    h("ul", { class: "form-errors" }),
    h("table", {}, h("tr", {}, h("th", {}, "property"), h("th", {}, "value"), h("th", {}, "unit"), h("th", {}, "source")), rows));
  const parse = (f) => {
    const raw = f.input.value.trim();
    if (raw === "") return undefined;
    if (numeric.has(f.schema)) return Number(raw);
    if (f.schema === "boolean") return raw === "true";
    if (f.enums.length) { const e = f.enums.find((x) => String(x.value) === raw); return e ? e.value : raw; }
    if (f.input.tagName === "TEXTAREA") { try { return JSON.parse(raw); } catch { return raw; } }
    return raw;
  };
  return {
    form,
    hasSources: props.some((p) => p.name === "sources"),
    values() {
      const out = {};
      for (const f of fields) { const v = parse(f); if (v !== undefined) out[f.p.name] = v; }
      return out;
    },
    // changes lists JSON Patch operations from original to the form.
    changes(original) {
      const ops = [];
      for (const f of fields) {
        const v = parse(f), o = original[f.p.name];
        if (v === undefined && o !== undefined) ops.push({ op: "remove", path: "/" + f.p.name });
        else if (v !== undefined && JSON.stringify(v) !== JSON.stringify(o)) ops.push({ op: o === undefined ? "add" : "replace", path: "/" + f.p.name, value: v });
      }
      return ops;
    },
  };
}
