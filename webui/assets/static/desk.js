// The agent workbench's live part. The server renders it (desk.html's
// "desk-part"); this module swaps in a fresh copy when an event concerns
// the agent (its state, its calls: the screen-pop), posts the desk's forms
// without leaving the page, and keeps the clocks ticking. No polling: a
// fetch happens only on an event or an action.
import { t } from "./msgs.js";

const TYPES = [
  "agent.state", "call.ringing", "call.ring_ended", "call.answered", "call.transferred", "call.held",
  "call.resumed", "call.ended", "callback.dialled", "callback.connected", "notice", "config.changed", "fax.progress",
];

export function desk(root, live) {
  const agent = root.dataset.agent || "";
  let busy = null;
  let again = false;

  // typed collects what the agent has typed in the card's forms, so that
  // a refresh from an event does not wipe a note being written.
  function typed() {
    const out = new Map();
    for (const el of root.querySelectorAll(".desk-customer form [name]")) {
      if ((el.tagName === "TEXTAREA" || el.type === "text" || !el.type) && el.value) {
        out.set(el.form.getAttribute("action") + " " + el.name, el.value);
      }
    }
    return out;
  }

  // swap loads the live part (GET, or a form's POST) and puts it in place;
  // sent is the form posted, whose text is not kept when it worked.
  async function swap(url, init, sent) {
    const r = await fetch(url, {
      credentials: "same-origin",
      ...init,
      headers: { "X-Desk-Part": "1", ...(init && init.headers) },
    });
    if (r.redirected && new URL(r.url).pathname.startsWith("/login")) {
      location.assign(r.url);
      return;
    }
    const html = await r.text();
    if (!(r.headers.get("Content-Type") || "").startsWith("text/html")) return;
    if (/^\s*<!doctype/i.test(html)) {
      // A whole page (a refusal before the desk: the permission was
      // taken away): show it as the server made it.
      location.reload();
      return;
    }
    // What is typed now, not when the fetch began: the agent types on.
    const kept = typed();
    // An operation's outcome (a fax's record) stays through the refreshes
    // events cause, until the next form replaces it.
    const notice = !sent && root.querySelector("[data-desk-notice]");
    // The last fax's progress stays through every refresh, the call's end
    // included: it is the fax's result.
    const fax = root.querySelector("[data-desk-fax]");
    root.innerHTML = html;
    if (fax) placeFax(fax);
    const more = root.querySelector(".desk-more");
    if (notice && more && !root.querySelector("[data-desk-notice]")) {
      more.append(notice);
      more.open = true;
    }
    for (const [key, value] of kept) {
      const [action, name] = key.split(" ");
      if (sent && r.ok && sent.getAttribute("action") === action) continue;
      const el = root.querySelector(`.desk-customer form[action="${action}"] [name="${name}"]`);
      if (el && (el.tagName === "TEXTAREA" || el.type === "text") && !el.value) el.value = value;
    }
    const q = root.querySelector("[data-colleague-q]");
    if (q && colleagueQ !== null) {
      q.value = colleagueQ;
      searchColleagues().catch(() => {});
    } else if (!q) {
      colleagueQ = null;
    }
    tick();
  }

  // refresh coalesces the events of a burst into one or two fetches.
  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = swap("/desk").catch(() => {}).finally(() => {
      busy = null;
      if (again) {
        again = false;
        refresh();
      }
    });
  }

  // The colleague search (transfer targets): the list comes from the
  // server as the agent types, and again when a colleague's state
  // changes while it is open. colleagueQ is null when no search is open.
  let colleagueQ = null;
  let colleagueSeq = 0;
  async function searchColleagues() {
    const box = root.querySelector("[data-colleagues]");
    if (!box || colleagueQ === null) return;
    const seq = ++colleagueSeq;
    const r = await fetch("/desk/colleagues?q=" + encodeURIComponent(colleagueQ), {
      credentials: "same-origin",
      headers: { "X-Desk-Part": "1" },
    });
    const html = await r.text();
    // Only the newest answer: an older one may arrive last.
    if (seq !== colleagueSeq || !(r.headers.get("Content-Type") || "").startsWith("text/html")) return;
    const now = root.querySelector("[data-colleagues]");
    if (now) now.innerHTML = html;
  }
  root.addEventListener("input", (ev) => {
    if (!ev.target.matches("[data-colleague-q]")) return;
    colleagueQ = ev.target.value;
    searchColleagues().catch(() => {});
  });
  root.addEventListener("click", (ev) => {
    const pick = ev.target.closest("[data-pick]");
    if (!pick) return;
    const input = root.querySelector("form.transfer-form input[name=number]");
    if (input) {
      input.value = pick.dataset.pick;
      input.focus();
    }
  });

  root.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (ev.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    ev.preventDefault();
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    // A second button may post elsewhere (consult, three-way).
    const url = (ev.submitter && ev.submitter.getAttribute("formaction")) || form.action;
    swap(url, { method: "POST", body: new URLSearchParams(new FormData(form)) }, form).catch(() => {
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    });
  });

  // The clocks: time in state and the call's duration, m:ss or h:mm:ss
  // as the server writes them.
  function fmt(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const two = (n) => String(n).padStart(2, "0");
    if (s >= 3600) return Math.floor(s / 3600) + ":" + two(Math.floor((s % 3600) / 60)) + ":" + two(s % 60);
    return Math.floor(s / 60) + ":" + two(s % 60);
  }
  // The server's clock may differ from the browser's: count from the
  // server's time the part was rendered at (data-now).
  let skew = 0;
  function tick() {
    const stamp = root.querySelector("[data-now]");
    if (stamp && !stamp.dataset.seen) {
      stamp.dataset.seen = "1";
      skew = Date.now() - Number(stamp.dataset.now);
    }
    const now = Date.now() - skew;
    for (const el of root.querySelectorAll("[data-since]")) {
      el.textContent = fmt(now - Number(el.dataset.since));
    }
  }
  tick();
  setInterval(tick, 1000);

  // Says the forms are ours now (tests wait for it before acting).
  root.dataset.ready = "1";
  if (!live) return;
  for (const type of TYPES) {
    live.on(type, (e) => {
      if (type === "call.ringing" && e.agent === agent) pop(e);
      if (type === "config.changed" || e.agent === agent) refresh();
      else if (type === "agent.state" && colleagueQ !== null) searchColleagues().catch(() => {});
    });
  }
  // pop shows the ringing caller's number from the event at once; the
  // server's card (region, customer type) replaces it a moment later.
  function pop(e) {
    if (!e.number || root.querySelector("#desk-call")) return;
    const card = document.createElement("section");
    card.className = "call ringing";
    card.id = "desk-call";
    const h = document.createElement("h2");
    h.textContent = t("desk.call_ringing");
    const p = document.createElement("p");
    p.className = "caller";
    p.textContent = e.number;
    card.append(h, p);
    const hint = root.querySelector(".desk-bar");
    if (hint) hint.after(card);
    else root.append(card);
  }
  // showFax words a fax.progress event of the agent's fax (started,
  // done or failed, its pages) in the page's language on the desk.
  function showFax(e) {
    const d = e.detail || {};
    const dir = d.direction === "in" ? "In" : "Out";
    const st = e.state === "done" || e.state === "failed" ? e.state : "active";
    const args = [d.id || ""];
    if (st !== "active") args.push(d.pages || "0");
    if (dir === "Out") args.push(d.document || "?");
    if (st === "failed") args.push(d.error || "");
    const key = "fax" + st[0].toUpperCase() + st.slice(1) + dir;
    let i = 0;
    const text = (root.dataset[key] || "").replace(/%[sd]/g, () => String(args[i++] ?? ""));
    let line = root.querySelector("[data-desk-fax]");
    if (!line) {
      line = document.createElement("p");
      line.setAttribute("role", "status");
      line.dataset.deskFax = "";
    }
    line.className = "notice fax-status" + (st === "failed" ? " bad" : "");
    line.dataset.state = st;
    line.textContent = text;
    placeFax(line);
  }
  // placeFax puts the fax's line with the call's other operations, or
  // under the state bar once the call is over.
  function placeFax(line) {
    const more = root.querySelector(".desk-more");
    if (more) {
      more.append(line);
      more.open = true;
      return;
    }
    const bar = root.querySelector(".desk-bar");
    if (bar) bar.after(line);
    else root.append(line);
  }
  live.on("fax.progress", (e) => {
    if (e.agent === agent) showFax(e);
  });
  // A reset means events were missed: reload the part, not the page.
  live.on("reset", (_e, ev) => {
    ev.preventDefault();
    refresh();
  });
  live.addEventListener("state", () => {
    if (live.state === "ok") refresh();
  });
}
