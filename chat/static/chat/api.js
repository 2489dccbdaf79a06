// HTTP calls to Kirb. Every call carries the browser fingerprint; every failure
// becomes an ApiError whose `message` is a sentence a person can read.

export class ApiError extends Error {
  constructor(message, { status = 0, code = "network_error", retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter; // seconds, on 429
  }
}

const FALLBACK_MESSAGES = {
  400: "The request was not accepted.",
  403: "This is not allowed.",
  404: "That was not found.",
  413: "That is too long to send.",
  429: "Too many requests; please wait a moment.",
  500: "Something went wrong on our side. Please try again.",
  502: "Kirb is restarting. Please try again in a moment.",
  503: "Kirb is busy or restarting. Please try again in a moment.",
  504: "Kirb took too long to answer. Please try again.",
};

const NETWORK_MESSAGE = "Can’t reach Kirb. Check your connection and try again.";
const TIMEOUT_MS = 15000;

function retryAfterOf(response, body) {
  const fromBody = Number(body && body.retry_after_seconds);
  if (Number.isFinite(fromBody) && fromBody > 0) return Math.ceil(fromBody);
  const fromHeader = Number(response.headers.get("Retry-After"));
  return Number.isFinite(fromHeader) && fromHeader > 0 ? Math.ceil(fromHeader) : null;
}

export function createApi(fingerprint) {
  async function request(method, path, { query, body } = {}) {
    let url = path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    const headers = { Accept: "application/json", "X-Browser-Fingerprint": fingerprint };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    init.signal = controller.signal;

    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(NETWORK_MESSAGE);
    } finally {
      clearTimeout(timer);
    }

    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null; // e.g. a proxy's HTML error page
    }
    if (response.ok && data !== null) return data;

    const fallback = FALLBACK_MESSAGES[response.status] || `Kirb answered with an error (${response.status}).`;
    const message = data && typeof data.message === "string" && data.message ? data.message : fallback;
    throw new ApiError(message, {
      status: response.status,
      code: (data && data.error) || `http_${response.status}`,
      retryAfter: response.status === 429 ? retryAfterOf(response, data) : null,
    });
  }

  return {
    history: (location, { before, limit }) => request("GET", "/messages", { query: { location, before, limit } }),
    post: (payload) => request("POST", "/messages", { body: payload }),
    reveal: (id) => request("GET", `/api/contact/${encodeURIComponent(id)}`),
    cooldown: () => request("GET", "/api/cooldown"),
    report: (messageId, reportedBrowserId) =>
      request("POST", "/api/report", { body: { message_id: messageId, reported_browser_id: reportedBrowserId } }),
    trackVisitor: (location) => request("POST", "/api/track-visitor", { body: { location } }),
    dailyStats: () => request("GET", "/api/stats/daily"),
    cityStats: (currentCity) => request("GET", "/api/stats/cities", { query: { current_city: currentCity } }),
  };
}
