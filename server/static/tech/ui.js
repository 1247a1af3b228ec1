// Small helpers to build the screens: elements made from data with textContent only (nothing
// the server or a customer wrote is ever read as HTML), labelled fields, and field errors.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A labelled input with a hint and room for an error, wired for screen readers. */
export function field(id, label, input = {}, hint = null) {
  const described = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name: id.replace(/^f-/, ""), "aria-describedby": described, ...input }),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    h("p", { class: "error", id: `${id}-error`, hidden: true }),
  );
}

/** Show `message` under the field (or the form's own error line) and move focus there. */
export function showError(form, fieldId, message) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll("p.error")) {
    el.hidden = true;
    el.textContent = "";
  }
  const input = fieldId ? form.querySelector(`#${fieldId}`) : null;
  const line = (input && form.querySelector(`#${fieldId}-error`)) || form.querySelector(".form-error");
  line.textContent = message;
  line.hidden = false;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else {
    line.focus();
  }
}

export function formError() {
  return h("p", { class: "error form-error", role: "alert", tabindex: "-1", hidden: true });
}

export function value(form, name) {
  const el = form.elements.namedItem(name);
  return el ? el.value : "";
}

export function when(at) {
  if (!at) return "";
  const moment = new Date(at);
  if (Number.isNaN(moment.getTime())) return "";
  return moment.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
