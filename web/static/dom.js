// Small DOM helpers shared by the pages.

// h builds an element: attributes (on* are listeners), then children
// (nodes or text; null and undefined are skipped, arrays flattened).
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "value" && (tag === "input" || tag === "textarea" || tag === "select")) e.value = v ?? "";
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) e.append(c.nodeType ? c : String(c));
  return e;
}

export function fail(err) { return h("p", { class: "error" }, String((err && err.message) || err)); }

export const display = (m) => (m && typeof m === "object" ? m.en || Object.values(m)[0] : m) || "";

// citations renders a source string with each [KEY] or [KEY, place] as a
// link to that entry of the bibliography page (#/sources/KEY).
export function citations(s) {
  if (typeof s !== "string") return document.createTextNode(s === undefined ? "" : JSON.stringify(s));
  const span = h("span", { class: "source" });
  let last = 0;
  for (const m of s.matchAll(/\[([A-Za-z][A-Za-z0-9_-]*)((?:,[^\]]*)?)\]/g)) {
    span.append(s.slice(last, m.index), "[", h("a", { href: `#/sources/${encodeURIComponent(m[1])}`, class: "cite", title: `bibliography entry ${m[1]}` }, m[1]), m[2], "]");
    last = m.index + m[0].length;
  }
  span.append(s.slice(last));
  return span;
}

// asOfPicker is a date-time input (UTC) with a "now" button; onChange gets
// an RFC 3339 time or "" for now.
export function asOfPicker(value, onChange, id = "as-of") {
  const input = h("input", { type: "datetime-local", id, step: 1, value: value ? value.slice(0, 19) : "" });
  const fire = () => onChange(input.value ? new Date(input.value + "Z").toISOString() : "");
  input.addEventListener("change", fire);
  return h("label", { class: "asof" }, "as of (UTC) ", input, " ",
    h("button", { class: "secondary small", type: "button", onclick: () => { input.value = ""; fire(); } }, "now"));
}

// fieldErrors puts each detail of an API error next to the form field whose
// data-path matches it; details no field claims, and the message when no
// detail matched, go to the form's error list. It returns the count shown.
export function fieldErrors(form, err) {
  for (const e of form.querySelectorAll(".field-error")) e.remove();
  for (const e of form.querySelectorAll(".invalid")) e.classList.remove("invalid");
  const list = form.querySelector(".form-errors");
  if (list) list.replaceChildren();
  if (!err) return 0;
  const details = (err.details && err.details.length ? err.details : [{ message: err.message, path: "" }]);
  let n = 0;
  for (const d of details) {
    const path = (d.path || "").replace(/^\//, "");
    const field = path && [...form.querySelectorAll("[data-path]")].find((f) => f.dataset.path === path || path.startsWith(f.dataset.path + "/") || path.startsWith(f.dataset.path + "."));
    const msg = h("span", { class: "field-error error", "data-for": path }, d.message || err.message);
    if (field) {
      field.classList.add("invalid");
      (field.closest(".field") || field.parentElement).append(msg);
    } else if (list) {
      list.append(h("li", { class: "error", "data-for": path }, path ? `${path}: ` : "", d.message || err.message));
    }
    n++;
  }
  return n;
}
