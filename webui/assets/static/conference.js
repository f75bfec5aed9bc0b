// The live conference page follows the event stream: on each change of a
// live conference (a party joins or leaves, is muted, a room locks or
// ends) it reads the page again and puts its list in place, so no reload
// and no action in the page is needed. Changes that come in a burst give
// one read at a time (and one more after it, for the last of them).
const TYPES = ["conference.joined", "conference.left", "conference.muted", "conference.locked", "conference.ended"];

export function liveConference(el, live) {
  let busy = false;
  let again = false;
  async function redraw() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const res = await fetch(location.pathname, { credentials: "same-origin" });
        if (!res.ok) break;
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        const fresh = doc.querySelector("[data-live-conference]");
        if (fresh) el.replaceChildren(...fresh.childNodes);
        el.dataset.redrawn = String(Number(el.dataset.redrawn || 0) + 1);
      } while (again);
    } catch {
      // The box is unreachable: the next event or a reset tries again.
    } finally {
      busy = false;
    }
  }
  for (const type of TYPES) live.on(type, redraw);
  live.on("reset", (_e, ev) => {
    ev.preventDefault();
    redraw();
  });
}
