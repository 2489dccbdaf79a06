// The live feed: one WebSocket to /ws/events, kept open.
//
// - Reconnects after a failure with jittered exponential backoff (0.5 s doubling to
//   30 s, each delay between half and all of that), resuming with since=<last message
//   id seen> so the server replays what was missed, with no gap and no duplicate.
// - A draining server (a "draining" notice, or close code 1012 "service restart") is
//   left at once: reconnect after a small random delay, no backoff. Only once in a
//   row, though: a socket that meets a draining server again before it has been
//   open a while falls back to the backoff, so it cannot loop on one.
// - A ping every 30 s keeps idle load balancers from cutting the socket and finds a
//   dead one: no answer within 10 s and it is replaced.

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30000;
const RESTART_JITTER_MS = 750;
const STABLE_AFTER_MS = 5000; // open this long: the backoff starts over
const OFFLINE_AFTER_ATTEMPTS = 5;
const PING_INTERVAL_MS = 30000;
const PONG_TIMEOUT_MS = 10000;

const SERVICE_RESTART = 1012;
const SLOW_CONSUMER = 4408;

export class LiveConnection {
  /**
   * handlers: onMessage(message), onDeleted({id, location}), onReplayComplete({count, truncated}),
   * onUnknownSince(), onOpen({resumed}), onStatus(state, detail) with state in
   * "connecting" | "live" | "reconnecting" | "offline".
   */
  constructor({ fingerprint, getSince, handlers }) {
    this.fingerprint = fingerprint;
    this.getSince = getSince;
    this.handlers = handlers;
    this.ws = null;
    this.city = "";
    this.running = false;
    this.attempt = 0;
    this.everOpened = false;
    this.quickRestarts = 0;
    this.timers = {};
    this.state = null;

    window.addEventListener("online", () => this.running && !this.ws && this.connectNow());
    window.addEventListener("offline", () => this.running && !this.ws && this.setState("offline"));
    document.addEventListener("visibilitychange", () => {
      // A phone waking up: do not wait for the backoff to notice the network is back.
      if (!document.hidden && this.running && !this.ws) this.connectNow();
    });
  }

  /** Follow ``city`` ("" for every city), replacing any current socket. */
  start(city) {
    this.stop();
    this.city = city;
    this.running = true;
    this.attempt = 0;
    this.quickRestarts = 0;
    this.everOpened = false;
    this.connect();
  }

  stop() {
    this.running = false;
    this.clearTimer("retry");
    this.drop();
  }

  /** Try again now (the "Retry now" button, the network coming back). */
  connectNow() {
    if (!this.running) return;
    this.clearTimer("retry");
    this.drop();
    this.connect();
  }

  // --- internals ---------------------------------------------------------------------

  url(since) {
    const params = new URLSearchParams();
    if (this.city) params.set("location", this.city);
    params.set("fp", this.fingerprint);
    if (since) params.set("since", since);
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}/ws/events?${params}`;
  }

  connect() {
    this.clearTimer("retry");
    if (navigator.onLine === false) {
      this.setState("offline");
      return; // the "online" event resumes
    }
    // Later attempts keep the state scheduleRetry set ("reconnecting" or "offline").
    if (!this.everOpened && this.attempt === 0) this.setState("connecting");
    const since = this.getSince();
    let ws;
    try {
      ws = new WebSocket(this.url(since));
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    const resumed = Boolean(since);
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.setState("live");
      this.setTimer("stable", STABLE_AFTER_MS, () => {
        this.attempt = 0;
        this.quickRestarts = 0;
      });
      this.setInterval("ping", PING_INTERVAL_MS, () => this.ping());
      this.handlers.onOpen?.({ resumed, reconnected });
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.clearTimer("pong");
      this.receive(event.data);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.drop();
      if (!this.running) return;
      if (event.code === SERVICE_RESTART || event.code === SLOW_CONSUMER) this.restartSoon();
      else this.scheduleRetry();
    };
    // "error" is always followed by "close", which decides what to do.
    ws.onerror = () => {};
  }

  receive(text) {
    let envelope;
    try {
      envelope = JSON.parse(text);
    } catch {
      return;
    }
    const data = envelope && envelope.data;
    if (!data || typeof data !== "object") return;
    switch (envelope.type) {
      case "message":
        this.handlers.onMessage?.(data);
        break;
      case "message_deleted":
        this.handlers.onDeleted?.(data);
        break;
      case "notice":
        if (data.code === "replay_complete") this.handlers.onReplayComplete?.(data);
        else if (data.code === "draining") this.restartSoon();
        break;
      case "error":
        if (data.error === "unknown_since") this.handlers.onUnknownSince?.();
        else console.warn("Kirb live feed:", data.message || data.error);
        break;
      default:
        break;
    }
  }

  ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    try {
      this.ws.send(JSON.stringify({ type: "ping" }));
    } catch {
      return;
    }
    this.setTimer("pong", PONG_TIMEOUT_MS, () => {
      // No frame at all for 10 s after a ping: the connection is dead without knowing it.
      this.drop();
      this.attempt = 0;
      this.scheduleRetry();
    });
  }

  /** Leave a server that is going away: a new socket after a small random delay. */
  restartSoon() {
    this.drop();
    if (this.quickRestarts > 0) {
      this.scheduleRetry();
      return;
    }
    this.quickRestarts += 1;
    this.setState("reconnecting");
    this.setTimer("retry", Math.random() * RESTART_JITTER_MS, () => this.connect());
  }

  scheduleRetry() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    const offline = navigator.onLine === false || this.attempt >= OFFLINE_AFTER_ATTEMPTS;
    this.setState(offline ? "offline" : "reconnecting", { retryInMs: delay });
    this.setTimer("retry", delay, () => this.connect());
  }

  /** Forget the current socket (closing it if need be) and its timers. */
  drop() {
    this.clearTimer("stable");
    this.clearTimer("pong");
    this.clearTimer("ping");
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
        try {
          ws.close(1000);
        } catch {
          // already closing
        }
      }
    }
  }

  setState(state, detail = {}) {
    this.state = state;
    this.handlers.onStatus?.(state, detail);
  }

  setTimer(name, ms, fn) {
    this.clearTimer(name);
    this.timers[name] = { id: setTimeout(fn, ms), interval: false };
  }

  setInterval(name, ms, fn) {
    this.clearTimer(name);
    this.timers[name] = { id: setInterval(fn, ms), interval: true };
  }

  clearTimer(name) {
    const timer = this.timers[name];
    if (!timer) return;
    (timer.interval ? clearInterval : clearTimeout)(timer.id);
    delete this.timers[name];
  }
}
