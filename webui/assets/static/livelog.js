// A live activity list: the latest events of the stream as one line each,
// newest first, worded in the page's language (the catalogue's "ev.*"
// labels for event types and agent states).
import { t } from "./msgs.js";

const KEEP = 50;
const TYPES = [
  "agent.state", "call.offered", "call.queued", "call.ringing", "call.ring_ended", "call.answered",
  "call.abandoned", "call.overflowed", "call.transferred", "call.held", "call.resumed", "call.ended",
  "callback.requested", "callback.dialled", "callback.connected", "callback.failed", "survey.answered",
  "supervisor.action", "notice", "config.changed",
];

export function liveLog(el, live) {
  const list = el.querySelector("ol, ul");
  const empty = el.querySelector("[data-empty]");
  for (const type of TYPES) {
    live.on(type, (e) => {
      const li = document.createElement("li");
      const time = document.createElement("time");
      const at = new Date(e.time);
      time.dateTime = e.time;
      time.textContent = at.toLocaleTimeString(document.documentElement.lang);
      const what = document.createElement("strong");
      what.textContent = t("ev." + type, type);
      li.append(time, what);
      const parts = [];
      if (e.agent) parts.push(t("ev.field.agent", "agent") + " " + e.agent);
      if (e.state) parts.push(t("ev.state." + e.state, e.state));
      if (e.number) parts.push(e.number);
      if (e.group) parts.push(t("ev.field.group", "group") + " " + e.group);
      if (e.reason) parts.push(e.reason);
      const rest = document.createElement("span");
      rest.textContent = parts.join(" · ");
      li.append(rest);
      list.prepend(li);
      while (list.children.length > KEEP) list.lastElementChild.remove();
      if (empty) empty.hidden = true;
    });
  }
}
