// The live-data client: one EventSource on GET /api/v1/events for the page.
// It starts after the event the page was made at (body data-live), resumes
// from the last id it saw when the connection drops (EventSource sends it
// as Last-Event-ID; a new EventSource is given it as ?after=), reloads the
// page on a "reset" (it missed events, so its lists are stale) unless a
// listener calls preventDefault, goes to the login page on "logout", and
// watches the server's heartbeats: silence for three of them counts as a
// lost connection. It never polls.
//
// Events: "state" when live.state changes ("connecting", "ok", "lost",
// "unavailable"), and each bus event by its type ("agent.state",
// "call.ringing", ...) as a CustomEvent whose detail is the parsed event.

const RETRY_MIN = 1000;
const RETRY_MAX = 30000;

class Live extends EventTarget {
  constructor() {
    super();
    this.state = "connecting";
    this.last = document.body.dataset.live || "";
    this.heartbeat = Number(document.body.dataset.heartbeat) || 15000;
    this.es = null;
    this.retry = RETRY_MIN;
    this.watchdog = 0;
    this.types = new Set();
  }

  // on listens for one event type with the parsed event.
  on(type, fn) {
    this.listen(type);
    this.addEventListener(type, (ev) => fn(ev.detail, ev));
  }

  listen(type) {
    if (this.types.has(type)) return;
    this.types.add(type);
    if (this.es) this.es.addEventListener(type, (m) => this.deliver(type, m));
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.dispatchEvent(new Event("state"));
  }

  start() {
    // A page may ask for its own view of the stream (body data-live-view:
    // the wallboard's).
    const q = new URLSearchParams();
    if (this.last) q.set("after", this.last);
    if (document.body.dataset.liveView) q.set("view", document.body.dataset.liveView);
    const url = "/api/v1/events" + (q.size ? "?" + q : "");
    const es = new EventSource(url);
    this.es = es;
    es.onopen = () => {
      this.retry = RETRY_MIN;
      this.setState("ok");
      this.arm();
    };
    es.onerror = () => {
      this.setState("lost");
      if (es.readyState === EventSource.CLOSED) {
        // The server refused the stream (no session, none available):
        // EventSource gives up; we try again later, or go to the login.
        this.restart(true);
      }
    };
    es.addEventListener("heartbeat", (m) => {
      if (m.lastEventId) this.last = m.lastEventId;
      this.arm();
    });
    es.addEventListener("logout", () => {
      location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    });
    es.addEventListener("reset", (m) => this.deliver("reset", m));
    for (const type of this.types) {
      es.addEventListener(type, (m) => this.deliver(type, m));
    }
  }

  deliver(type, m) {
    if (m.lastEventId) this.last = m.lastEventId;
    this.arm();
    let detail = {};
    try {
      detail = JSON.parse(m.data);
    } catch {
      return;
    }
    const ev = new CustomEvent(type, { detail, cancelable: true });
    this.dispatchEvent(ev);
    if (type === "reset" && !ev.defaultPrevented) {
      location.reload();
    }
  }

  // arm restarts the watchdog: three heartbeats of silence mean the
  // connection is gone even if the browser has not noticed.
  arm() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.setState("lost");
      this.restart(false);
    }, this.heartbeat * 3);
  }

  async restart(check) {
    clearTimeout(this.watchdog);
    if (this.es) this.es.close();
    this.es = null;
    if (check) {
      try {
        const r = await fetch("/api/v1/session", { credentials: "same-origin" });
        const s = await r.json();
        // A page may know another way back in (the wallboard's display
        // token) before the login page.
        if (!s.authenticated && !(this.reauth && (await this.reauth()))) {
          location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
          return;
        }
      } catch {
        // The box is unreachable: keep trying.
      }
    }
    const wait = this.retry;
    this.retry = Math.min(this.retry * 2, RETRY_MAX);
    setTimeout(() => this.start(), wait);
  }
}

export const live = new Live();
