// The wallboard: big figures per group for a screen on the wall. It reads
// GET /api/v1/wallboard when it starts, after any event (at most once a
// second) and after each reconnection; it never reloads the page, so it
// runs for days. Colours: amber and red when the longest wait passes half
// and all of the group's service-level threshold, when the service level
// falls under 80 % and 60 % (?sl_warn=&sl_alarm= in percent change them),
// and red when calls wait with no agent ready. A screen with a display
// token (display.go) survives the box's reboot the same way.
import { displaySession } from "./displaytoken.js";
import { live } from "./live.js";
import { t } from "./msgs.js";

// A screen started from a display token makes itself a new session when
// the box forgot its own (a reboot), without reloading.
live.reauth = displaySession;

const cfg = JSON.parse(document.getElementById("board-config").textContent);
const msg = (k) => cfg.msgs[k] ?? t(k);
const grid = document.getElementById("wall");
const params = new URLSearchParams(location.search);
const slWarn = Number(params.get("sl_warn") || 80) / 100;
const slAlarm = Number(params.get("sl_alarm") || 60) / 100;

let data = { queues: [], total: null };
let starts = {}; // group -> when its longest waiting call started, in this browser's time

function fmt(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n) => String(n).padStart(2, "0");
  if (s >= 3600) return Math.floor(s / 3600) + ":" + two(Math.floor((s % 3600) / 60)) + ":" + two(s % 60);
  return Math.floor(s / 60) + ":" + two(s % 60);
}

function el(tag, cls, ...kids) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

function level(q) {
  const waitMS = q.waiting > 0 ? Date.now() - starts[q.group] : 0;
  const thr = (q.sl_threshold_s || 20) * 1000;
  let wait = waitMS >= thr ? "alarm" : waitMS >= thr / 2 ? "warn" : "";
  if (q.waiting > 0 && q.ready === 0) wait = "alarm";
  const sl = q.answered + q.abandoned === 0 ? "" : q.sl < slAlarm ? "alarm" : q.sl < slWarn ? "warn" : "";
  return { wait, sl };
}

function figure(label, value, cls, attrs) {
  const v = el("span", "v", value);
  Object.assign(v.dataset, attrs || {});
  return el("div", "fig " + (cls || ""), v, el("span", "k", label));
}

function render() {
  const cards = data.queues.map((q) => {
    const lv = level(q);
    const card = el(
      "section",
      "wall-card" + (lv.wait === "alarm" || lv.sl === "alarm" ? " alarm" : lv.wait || lv.sl ? " warn" : ""),
      el("h2", "", q.name || String(q.group)),
      el(
        "div",
        "figs",
        figure(msg("wall.waiting"), String(q.waiting), "big " + lv.wait),
        figure(msg("wall.longest"), q.waiting ? fmt(Date.now() - starts[q.group]) : "—", "big " + lv.wait, q.waiting ? { group: q.group } : null),
        figure(msg("wall.sl"), q.answered + q.abandoned ? Math.round(q.sl * 100) + "%" : "—", "big " + lv.sl),
        figure(msg("wall.ready"), String(q.ready), "ready"),
        figure(msg("wall.talking"), String(q.talking), "talking"),
        figure(msg("wall.busy"), String(q.busy + q.break), "busy"),
        figure(msg("wall.answered"), String(q.answered), ""),
        figure(msg("wall.abandoned"), String(q.abandoned), ""),
      ),
    );
    card.dataset.group = q.group;
    return card;
  });
  grid.replaceChildren(...cards);
}

function tick() {
  for (const v of grid.querySelectorAll("[data-group]")) {
    if (v.classList.contains("v")) v.textContent = fmt(Date.now() - starts[v.dataset.group]);
  }
  const clock = document.getElementById("wall-clock");
  if (clock) clock.textContent = new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

// load reads the summary; calls during a read, or within a second of the
// last, make one more read after.
let loading = false;
let again = false;
let lastLoad = 0;
async function load() {
  if (loading) {
    again = true;
    return;
  }
  const wait = lastLoad + 1000 - Date.now();
  loading = true;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  try {
    const r = await fetch("/api/v1/wallboard", { credentials: "same-origin" });
    if (r.ok) {
      data = await r.json();
      const now = Date.now();
      starts = {};
      for (const q of data.queues) starts[q.group] = now - q.longest_wait_s * 1000;
      render();
    }
  } catch {
    // The box is unreachable: the live badge says so; the next
    // connection reads again.
  } finally {
    lastLoad = Date.now();
    loading = false;
    if (again) {
      again = false;
      load();
    }
  }
}

const badge = document.getElementById("live");
live.addEventListener("state", () => {
  badge.dataset.state = live.state;
  badge.textContent = t("live." + live.state, live.state);
  if (live.state === "ok") load();
});
for (const type of ["agent.state", "call.queued", "call.answered", "call.abandoned", "call.overflowed", "call.ended",
  "call.ringing", "call.ring_ended", "callback.requested", "callback.dialled", "callback.failed", "config.changed"]) {
  live.on(type, () => load());
}
live.on("reset", (_e, ev) => {
  ev.preventDefault();
  load();
});
setInterval(tick, 1000);
tick();
load();
if (document.body.dataset.live !== undefined) live.start();
grid.dataset.ready = "1";
