// The supervisor board (班长). It reads GET /api/v1/cc/figures when it
// starts and again after events (never on a timer: a burst of events
// gives one or two reads), and applies the waiting list's and the agents'
// events at once, so a call waiting shows within the event's own latency.
// Every action is an API call the server checks the permission of; the
// destructive ones ask first. The clocks tick in the page.
import { live } from "./live.js";
import { t } from "./msgs.js";

const root = document.getElementById("board");
const cfg = JSON.parse(document.getElementById("board-config").textContent);
const msg = (k) => cfg.msgs[k] ?? t(k);
const groupSel = document.getElementById("board-group");
const phoneIn = document.getElementById("board-phone");
const note = document.getElementById("board-msg");

// The model: the last figures, with each clock's start in this browser's
// time (received minus the seconds the server counted).
let queues = [];
let waiting = [];
let agents = [];
let services = [];

function since(seconds) {
  return Date.now() - (Number(seconds) || 0) * 1000;
}

function take(f) {
  // When the live figures first showed, for the tests' timing.
  root.dataset.shown ||= String(Math.round(performance.now()));
  queues = f.queues || [];
  waiting = (f.waiting || []).map((w) => ({ ...w, start: since(w.waited_s) }));
  agents = (f.agents || []).map((a) => ({ ...a, start: since(a.in_state_s) }));
  services = f.services || [];
  render();
}

// load reads the figures; loads asked for during one run once more after
// it (the events of a burst coalesce).
let loading = null;
let again = false;
function load() {
  if (!cfg.live) return;
  if (loading) {
    again = true;
    return;
  }
  loading = fetch("/api/v1/cc/figures", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then(take)
    .catch(() => {})
    .finally(() => {
      loading = null;
      root.setAttribute("aria-busy", "false");
      if (again) {
        again = false;
        load();
      }
    });
}

function fmt(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n) => String(n).padStart(2, "0");
  if (s >= 3600) return Math.floor(s / 3600) + ":" + two(Math.floor((s % 3600) / 60)) + ":" + two(s % 60);
  return Math.floor(s / 60) + ":" + two(s % 60);
}

function tick() {
  const now = Date.now();
  for (const el of root.querySelectorAll("[data-start]")) {
    el.textContent = fmt(now - Number(el.dataset.start));
  }
}

function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v;
    else if (k === "data") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

const groupName = (id) => (cfg.groups.find((g) => g.id === id) || queues.find((q) => q.group === id) || {}).name || String(id || "");
const filter = () => Number(groupSel.value) || 0;
const inGroup = (a, g) => !g || (cfg.members[a] || []).includes(g);
const stateText = (s) => t("ev.state." + s, s);
const reasonWord = (r) => (r && cfg.msgs["desk.reason." + r.replaceAll(" ", "_")]) || r;

function render() {
  const g = filter();
  const qb = document.getElementById("board-queues");
  qb.replaceChildren(
    ...queues
      .filter((q) => !g || q.group === g)
      .map((q) => {
        const longest = waiting.filter((w) => w.group === q.group).reduce((m, w) => Math.min(m, w.start), Infinity);
        const alarm = q.waiting > 0 && q.longest_wait_s >= q.sl_threshold_s ? " alarm" : "";
        return el(
          "tr",
          { class: "q" + alarm, data: { group: q.group } },
          el("th", { scope: "row" }, q.name || String(q.group)),
          el("td", { class: "num" }, String(q.waiting)),
          el("td", { class: "num" }, isFinite(longest) ? el("span", { data: { start: longest } }) : "—"),
          el("td", { class: "num" }, String(q.offered)),
          el("td", { class: "num" }, String(q.answered)),
          el("td", { class: "num" }, String(q.abandoned)),
          el("td", { class: "num" }, String(q.timed_out)),
          el("td", { class: "num", title: cfg.sl_formula + " (T = " + q.sl_threshold_s + " s)" }, Math.round(q.sl * 100) + "%"),
        );
      }),
  );
  if (!qb.children.length) qb.append(el("tr", {}, el("td", { colspan: 8, class: "hint" }, msg("board.no_queues"))));

  // A call may be given to any agent signed in and not in a call: the
  // ready ones first.
  const free = agents
    .filter((a) => !["offline", "ringing", "talking"].includes(a.state))
    .sort((a, b) => (b.state === "idle") - (a.state === "idle"));
  const wb = document.getElementById("board-waiting");
  const picked = {};
  for (const s of wb.querySelectorAll("select[data-call]")) picked[s.dataset.call] = s.value;
  wb.replaceChildren(
    ...waiting
      .filter((w) => !g || w.group === g)
      .map((w) => {
        const acts = el("div", { class: "acts" });
        if (cfg.assign) {
          const sel = el("select", { "aria-label": msg("board.pick_agent"), data: { call: w.call } },
            el("option", { value: "" }, msg("board.pick_agent")),
            ...free.filter((a) => inGroup(a.agent, w.group)).map((a) => el("option", { value: a.agent },
              a.agent + " " + a.name + (a.state === "idle" ? "" : " (" + stateText(a.state) + ")"))));
          sel.value = picked[w.call] || "";
          acts.append(
            sel,
            el("button", { type: "button", class: "small", data: { op: "assign" }, onclick: () => assign(w, sel.value) }, msg("board.assign")),
            el("button", { type: "button", class: "small secondary", data: { op: "stop" }, onclick: () => callOp(w.call, "stop", {}, "board.confirm.stop") }, msg("board.stop")),
            playButton(w.call),
          );
        }
        const type = w.customer_type ? cfg.types[w.customer_type] || String(w.customer_type) : "";
        const region = w.mobile ? msg("board.mobile") : (document.documentElement.lang === "en" && w.region_en) || w.region || "";
        return el(
          "tr",
          { data: { call: w.call } },
          el("td", {}, w.number || "—", w.callback ? el("span", { class: "state" }, " " + msg("board.callback")) : null,
            w.ringing && w.ringing.length ? el("span", { class: "hint" }, " " + msg("board.ringing") + " " + w.ringing.join(", ")) : null),
          el("td", {}, type),
          el("td", {}, region),
          el("td", {}, groupName(w.group)),
          el("td", { class: "num" }, el("span", { class: "clock", data: { start: w.start } })),
          el("td", {}, acts),
        );
      }),
  );
  if (!wb.children.length) wb.append(el("tr", {}, el("td", { colspan: 6, class: "hint" }, msg("board.no_waiting"))));

  const ab = document.getElementById("board-agents");
  ab.replaceChildren(
    ...agents
      .filter((a) => inGroup(a.agent, g))
      .map((a) => {
        const svc = services.find((s) => s.agent === a.agent);
        const acts = el("div", { class: "acts" });
        if (svc && cfg.monitor) {
          acts.append(
            el("button", { type: "button", class: "small secondary", data: { op: "listen" }, onclick: () => monitor(svc, "listen") }, msg("board.listen")),
            el("button", { type: "button", class: "small secondary", data: { op: "whisper" }, onclick: () => monitor(svc, "whisper") }, msg("board.whisper")),
            el("button", { type: "button", class: "small secondary", data: { op: "barge" }, onclick: () => monitor(svc, "barge") }, msg("board.barge")),
          );
        }
        if (svc && cfg.assign) {
          if (cfg.me && cfg.me !== a.agent) {
            acts.append(el("button", { type: "button", class: "small secondary", data: { op: "take-over" },
              onclick: () => callOp(svc.call, "transfer", { agent: cfg.me }, "board.confirm.take_over") }, msg("board.take_over")));
          }
          acts.append(playButton(svc.call));
          acts.append(el("button", { type: "button", class: "small danger", data: { op: "hangup" },
            onclick: () => callOp(svc.call, "teardown", {}, "board.confirm.hangup") }, msg("board.hangup")));
        }
        if (cfg.control && a.state !== "offline") {
          const sel = el("select", { "aria-label": msg("board.force") },
            ...["ready", "busy", "logout"].map((s) => el("option", { value: s }, msg("board.force." + s))));
          acts.append(sel, el("button", { type: "button", class: "small secondary", data: { op: "force" }, onclick: () => force(a, sel.value) }, msg("board.force")));
        }
        const call = svc
          ? el("span", {}, svc.number + " ", el("span", { class: "clock", data: { start: Date.parse(svc.since) || Date.now() } }),
            svc.held ? " " + msg("board.held") : "", svc.recorded ? " " + msg("board.recorded") : "",
            svc.monitors && svc.monitors.length ? " " + msg("board.monitored") : "")
          : a.call || "—";
        return el(
          "tr",
          { data: { agent: a.agent } },
          el("th", { scope: "row" }, a.agent, el("span", { class: "hint" }, " " + (a.name || ""))),
          el("td", {}, el("span", { class: "state st-" + a.state }, stateText(a.state)), a.reason && (a.state === "break" || a.state === "busy") ? el("span", { class: "reason" }, " " + reasonWord(a.reason)) : null,
            a.device && !a.registered && a.state !== "offline" ? el("span", { class: "state bad" }, "!") : null),
          el("td", { class: "num" }, el("span", { class: "clock", data: { start: a.start } })),
          el("td", {}, call),
          el("td", { class: "num" }, String(a.answered_today || 0) + " · " + fmt((a.talk_s || 0) * 1000)),
          el("td", {}, acts),
        );
      }),
  );
  if (!ab.children.length) ab.append(el("tr", {}, el("td", { colspan: 6, class: "hint" }, msg("board.no_agents"))));
  for (const tb of [qb, wb, ab]) label(tb);
  tick();
}

// label gives each cell its column's heading, which a phone's narrow
// screen shows beside it (the tables become cards there).
function label(tbody) {
  const heads = [...tbody.closest("table").tHead.rows[0].cells].map((th) => (th.querySelector("abbr") || th).textContent.trim());
  for (const tr of tbody.rows) {
    [...tr.cells].forEach((c, i) => {
      if (!c.colSpan || c.colSpan === 1) c.dataset.label = heads[i] || "";
    });
  }
}

// say shows the answer to an action beside the tables.
function say(text, bad) {
  note.hidden = false;
  note.textContent = text;
  note.className = "board-msg " + (bad ? "error" : "notice");
}

async function post(url, body) {
  const r = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf || "" },
    body: JSON.stringify(body),
  });
  if (r.ok) {
    say(msg("board.done"), false);
    load();
    return true;
  }
  let text = msg("board.failed");
  try {
    text = (await r.json()).error || text;
  } catch {
    // not JSON: the generic message
  }
  say(text, true);
  return false;
}

function callOp(call, op, body, confirmKey) {
  if (confirmKey && !window.confirm(msg(confirmKey))) return Promise.resolve(false);
  return post("/api/v1/cc/calls/" + encodeURIComponent(call) + "/" + op, body);
}

// playButton plays the prompt or the text chosen in the board's head to
// a caller, waiting or with an agent (one of the two: the API plays one).
function playButton(call) {
  return el("button", { type: "button", class: "small secondary", data: { op: "play" }, onclick: () => {
    const prompt = document.getElementById("board-prompt").value;
    const text = document.getElementById("board-text").value.trim();
    if (!prompt === !text) {
      say(msg("board.play_pick"), true);
      return;
    }
    callOp(call, "play", prompt ? { prompts: [prompt] } : { text });
  } }, msg("board.play"));
}

function assign(w, agent) {
  if (!agent) {
    say(msg("board.pick_agent"), true);
    return;
  }
  callOp(w.call, "assign", { agent });
}

// monitor rings the supervisor's phone (the one typed, else its own
// device) on the call, then sets the mode.
async function monitor(svc, mode) {
  if (phoneIn) localStorage.setItem("board.phone", phoneIn.value.trim());
  const mine = (svc.monitors || []).includes(cfg.login);
  if (!mine && !(await callOp(svc.call, "monitor", { phone: phoneIn ? phoneIn.value.trim() : "" }))) return;
  if (mode !== "listen" || mine) await callOp(svc.call, "monitor-mode", { state: mode });
}

function force(a, what) {
  if (!window.confirm(msg("board.confirm.force").replace("%s", a.agent))) return;
  const url = "/api/v1/cc/agents/" + encodeURIComponent(a.agent) + "/";
  post(what === "logout" ? url + "logout" : url + "state", what === "logout" ? {} : { state: what });
}

// The events: what changes the lists at once is applied, then the
// figures are read again for the counters.
function applied(type, e) {
  switch (type) {
    case "call.queued":
    case "callback.requested":
      if (e.call && !waiting.some((w) => w.call === e.call)) {
        waiting.push({ call: e.call, number: e.number, group: e.group, start: Date.now(),
          customer_type: Number((e.detail || {}).customer_type) || 0, callback: type === "callback.requested" });
      }
      return true;
    case "call.answered":
    case "call.abandoned":
    case "call.overflowed":
    case "call.ended":
    case "callback.dialled":
    case "callback.failed":
      waiting = waiting.filter((w) => w.call !== e.call);
      return true;
    case "agent.state": {
      const a = agents.find((x) => x.agent === e.agent);
      if (a) Object.assign(a, { state: e.state, reason: e.reason || "", start: Date.now() });
      return true;
    }
  }
  return false;
}

const TYPES = [
  "agent.state", "call.offered", "call.queued", "call.ringing", "call.ring_ended", "call.answered", "call.abandoned",
  "call.overflowed", "call.transferred", "call.held", "call.resumed", "call.ended", "callback.requested",
  "callback.dialled", "callback.connected", "callback.failed", "supervisor.action", "notice", "config.changed",
];
// notice lists the engine's notices for supervisors, newest first (ten
// at most): an agent put on break for not answering, a callback given up.
function notice(e) {
  if (e.reason === "recorded") return;
  const key = "board.notice." + String(e.reason || "").replaceAll(" ", "_").replaceAll("-", "_");
  const text = key in cfg.msgs
    ? cfg.msgs[key].replace("%s", e.agent || e.number || e.call || "").replace("%s", t("ev.state." + e.state, e.state || ""))
    : msg("board.notice.other") + " " + (e.reason || "") + (e.agent ? " (" + e.agent + ")" : "");
  const list = document.getElementById("board-notices");
  list.prepend(el("li", {}, el("time", {}, new Date().toLocaleTimeString(document.documentElement.lang, { hourCycle: "h23" })), " ", text));
  while (list.children.length > 10) list.lastChild.remove();
  list.closest("section").hidden = false;
}

for (const type of TYPES) {
  live.on(type, (e) => {
    if (type === "notice") notice(e);
    if (type === "config.changed") location.reload();
    if (applied(type, e)) render();
    load();
  });
}
live.on("reset", (_e, ev) => {
  ev.preventDefault();
  load();
});
live.addEventListener("state", () => {
  if (live.state === "ok") load();
});

groupSel.value = localStorage.getItem("board.group") || "";
groupSel.addEventListener("change", () => {
  localStorage.setItem("board.group", groupSel.value);
  render();
});
if (phoneIn) phoneIn.value = localStorage.getItem("board.phone") || "";
setInterval(tick, 1000);
render();
load();
root.dataset.ready = "1";
