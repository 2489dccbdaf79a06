// One post in the feed: badge, city, text (always as text), time, and the reveal and
// report actions (not on one's own posts).

import { el, say } from "./dom.js";
import { absoluteTime, clockAfter, formatPhone, formatWait, relativeTime, telHref } from "./format.js";

const TYPE_LABELS = { offered: "Room offered", requested: "Room wanted" };

// After a refused reveal, further reveals are refused here until the wait is over,
// instead of asking the server again.
let revealsBlocked = { until: 0, message: "" };

function revealLimitSentence(error) {
  const wait = error.retryAfter;
  if (!wait) return error.message;
  return `${error.message} You can reveal another number in ${formatWait(wait)} (around ${clockAfter(wait)}).`;
}

function revealsLeftSentence(left) {
  if (typeof left !== "number") return "";
  if (left <= 0) return "That was your last reveal this hour.";
  return `${left} ${left === 1 ? "reveal" : "reveals"} left this hour`;
}

export function renderPost(message, { api, publicId }) {
  const own = message.browser_id === publicId;
  const type = message.message_type === "requested" ? "requested" : "offered";

  const note = el("p", { className: "post-note", attrs: { role: "status" }, hidden: true });
  const actions = el("div", { className: "post-actions" });

  const time = el("time", {
    className: "post-time",
    attrs: { datetime: new Date(message.timestamp * 1000).toISOString(), title: absoluteTime(message.timestamp) },
    dataset: { timestamp: String(message.timestamp) },
    text: relativeTime(message.timestamp),
  });

  const item = el(
    "li",
    { className: "post", dataset: { id: message.id, type, own: own ? "true" : "false" } },
    el(
      "article",
      { className: "post-card" },
      el(
        "div",
        { className: "post-meta" },
        el("span", { className: `badge badge-${type}`, text: TYPE_LABELS[type] }),
        message.location ? el("span", { className: "post-city", text: message.location }) : null,
        time,
      ),
      el("p", { className: "post-text", text: message.message }),
      actions,
      note,
    ),
  );

  if (own) {
    actions.append(el("span", { className: "own-label", text: "Your post" }));
    if (message.held_for_review) {
      actions.append(
        el("span", { className: "held-label", text: "Waiting for a moderator: only you can see it until then" }),
      );
    }
    return item;
  }

  // --- reveal ---
  const revealButton = el("button", {
    className: "button button-small button-secondary reveal",
    attrs: { type: "button" },
    text: "Show number",
  });
  const reportButton = el("button", {
    className: "button button-small button-ghost report",
    attrs: { type: "button", "aria-label": "Report this post" },
    text: "Report",
  });
  // Older servers send no has_phone: offer the reveal then, and let a 404 say so.
  const defaultActions = message.has_phone === false ? [reportButton] : [revealButton, reportButton];
  actions.append(...defaultActions);

  revealButton.addEventListener("click", async () => {
    if (Date.now() < revealsBlocked.until) {
      const seconds = (revealsBlocked.until - Date.now()) / 1000;
      say(note, `${revealsBlocked.message} You can reveal another number in ${formatWait(seconds)} (around ${clockAfter(seconds)}).`);
      note.dataset.kind = "error";
      return;
    }
    revealButton.disabled = true;
    revealButton.textContent = "Showing…";
    try {
      const result = await api.reveal(message.id);
      const link = el(
        "a",
        { className: "phone-link", attrs: { href: telHref(result.phone) } },
        el("span", { className: "visually-hidden", text: "Call " }),
        formatPhone(result.phone),
      );
      revealButton.replaceWith(link);
      say(note, revealsLeftSentence(result.reveals_remaining));
      note.dataset.kind = "info";
    } catch (error) {
      revealButton.disabled = false;
      revealButton.textContent = "Show number";
      note.dataset.kind = "error";
      if (error.status === 429) {
        if (error.retryAfter) revealsBlocked = { until: Date.now() + error.retryAfter * 1000, message: error.message };
        say(note, revealLimitSentence(error));
      } else if (error.code === "no_phone") {
        revealButton.remove();
        say(note, "The poster didn’t leave a phone number.");
        note.dataset.kind = "info";
      } else if (error.code === "unknown_message") {
        revealButton.remove();
        say(note, "This post is no longer available.");
      } else {
        say(note, error.message);
      }
    }
  });

  // --- report, with a confirmation step ---
  reportButton.addEventListener("click", () => {
    const question = el("span", { className: "confirm-question", text: "Report this post as a scam, spam or abuse?" });
    const confirm = el("button", {
      className: "button button-small button-danger confirm-report",
      attrs: { type: "button" },
      text: "Yes, report",
    });
    const cancel = el("button", { className: "button button-small button-ghost", attrs: { type: "button" }, text: "Cancel" });
    const box = el("div", { className: "confirm", attrs: { role: "group", "aria-label": "Confirm the report" } }, question, confirm, cancel);
    reportButton.replaceWith(box);
    say(note, "");
    confirm.focus();

    cancel.addEventListener("click", () => {
      box.replaceWith(reportButton);
      reportButton.focus();
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      cancel.disabled = true;
      confirm.textContent = "Reporting…";
      try {
        const result = await api.report(message.id, message.browser_id);
        box.replaceWith(el("span", { className: "reported-label", text: "Reported" }));
        say(note, result.message || "Thank you, the report was recorded.");
        note.dataset.kind = "info";
        item.dataset.reported = "true";
      } catch (error) {
        box.replaceWith(reportButton);
        note.dataset.kind = "error";
        say(note, error.status === 429 && error.retryAfter ? `${error.message} Try again in ${formatWait(error.retryAfter)}.` : error.message);
        reportButton.focus();
      }
    });
  });

  return item;
}

/** Bring every "5 min ago" in ``root`` up to date. */
export function refreshTimes(root, nowMs = Date.now()) {
  for (const time of root.querySelectorAll("time[data-timestamp]")) {
    const text = relativeTime(Number(time.dataset.timestamp), nowMs);
    if (time.textContent !== text) time.textContent = text;
  }
}
