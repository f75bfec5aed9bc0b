// callbox web admin: progressive enhancement only; every page works without
// it (inline scripts are barred by the Content-Security-Policy). It asks for
// a confirmation where a form says data-confirm, shows only the form fields
// that apply (data-when), and starts the live-data client on pages that
// show live data (body data-live) and the agent desk's (desk.js); forms
// that act through the REST API (data-api) are apiforms.js's.
import { messages } from "./msgs.js";
import { apiForms } from "./apiforms.js";

document.addEventListener("submit", (ev) => {
  const msg = ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});

// Fields shown only for some values of another field: data-when-field
// names the field, data-when-values lists the values ("sip|fxo"). Hidden
// fields are disabled too, so they are not sent (the server leaves them
// out anyway).
function applyWhen(form) {
  for (const el of form.querySelectorAll("[data-when-field]")) {
    const ctl = form.elements[el.dataset.whenField];
    if (!ctl) continue;
    const on = el.dataset.whenValues.split("|").includes(ctl.value);
    el.hidden = !on;
    for (const input of el.querySelectorAll("input, select, textarea")) {
      input.disabled = !on || input.hasAttribute("data-locked");
    }
  }
}
for (const form of document.querySelectorAll("form[data-object]")) {
  applyWhen(form);
  form.addEventListener("change", () => applyWhen(form));
}

// Imported with the page rather than on demand, so a form is not
// submitted the browser's way before its handler is there.
if (document.querySelector("form[data-api]")) {
  apiForms();
}

const deskEl = document.querySelector("[data-desk]");
if (document.body.dataset.live === undefined && deskEl) {
  const { desk } = await import("./desk.js");
  desk(deskEl, null);
}

if (document.body.dataset.live !== undefined) {
  const { live } = await import("./live.js");
  const badge = document.getElementById("live");
  live.addEventListener("state", () => {
    if (badge) {
      badge.dataset.state = live.state;
      badge.textContent = messages["live." + live.state] || live.state;
    }
  });
  for (const el of document.querySelectorAll("[data-live-log]")) {
    const { liveLog } = await import("./livelog.js");
    liveLog(el, live);
  }
  if (deskEl) {
    const { desk } = await import("./desk.js");
    desk(deskEl, live);
  }
  const confEl = document.querySelector("[data-live-conference]");
  if (confEl) {
    const { liveConference } = await import("./conference.js");
    liveConference(confEl, live);
  }
  live.start();
}
