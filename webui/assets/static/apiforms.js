// callbox web admin: forms that act through the REST API. A form with
// data-api="URL" and data-method sends itself there: data-body="file"
// as multipart with its file in "file", "json" as a JSON object of its
// named fields (numbers for number inputs, booleans for checkboxes and
// data-type="bool"), none otherwise. "{name}" in the URL is that field's
// value (its slashes kept as path separators), and such fields and those
// marked data-skip stay out of the body. On success the page is drawn
// again (the server's view of what changed); a refusal shows the API's
// message in the form's status line and marks the field it names.
"use strict";

function target(form) {
  const used = new Set();
  const url = form.dataset.api.replace(/\{([a-z_]+)\}/g, (_, name) => {
    used.add(name);
    const v = (form.elements[name] && form.elements[name].value) || "";
    return v.trim().split("/").map(encodeURIComponent).join("/");
  });
  return { url, used };
}

function jsonBody(form, used) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || used.has(el.name) || el.hasAttribute("data-skip") || el.type === "file") continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.dataset.type === "bool") out[el.name] = el.value === "true";
    else if (el.type === "number") out[el.name] = el.value === "" ? 0 : Number(el.value);
    else out[el.name] = el.value;
  }
  return JSON.stringify(out);
}

async function send(form) {
  const status = form.querySelector("[role=status]");
  for (const bad of form.querySelectorAll(".bad")) bad.classList.remove("bad");
  const { url, used } = target(form);
  const headers = { "X-CSRF-Token": document.body.dataset.csrf };
  let body;
  if (form.dataset.body === "file") {
    const input = form.querySelector("input[type=file]");
    if (!input.files[0]) return;
    body = new FormData();
    body.append("file", input.files[0]);
  } else if (form.dataset.body === "json") {
    headers["Content-Type"] = "application/json";
    body = jsonBody(form, used);
  }
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  if (status) status.textContent = "…";
  try {
    const res = await fetch(url, { method: form.dataset.method, headers, body, credentials: "same-origin" });
    if (res.ok) {
      if (status) status.textContent = form.dataset.done || "";
      location.reload();
      return;
    }
    let msg = res.status + " " + res.statusText;
    try {
      const err = await res.json();
      msg = err.error || msg;
      const field = err.field && form.elements[err.field];
      if (field && field.closest) {
        const label = field.closest("label");
        if (label) label.classList.add("bad");
      }
    } catch {
      // not JSON: the status line says the HTTP status
    }
    if (status) {
      status.textContent = msg;
      status.classList.add("error");
    }
  } catch (e) {
    if (status) {
      status.textContent = String(e);
      status.classList.add("error");
    }
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

// apiForms takes over the forms' submissions. It listens on the document
// after app.js's confirmation, so a cancelled confirmation sends nothing.
export function apiForms() {
  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form[data-api]");
    if (!form || ev.defaultPrevented) return;
    ev.preventDefault();
    send(form);
  });
}
