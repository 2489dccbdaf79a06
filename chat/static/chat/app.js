// Kirb's page: city picker, live feed, post form, stats.
//
// At load it makes one call of each kind (history, cooldown, visitor count, the two
// stats) and opens one WebSocket; after that only what the person does makes
// requests. Clocks (relative times, the cooldown countdown) tick locally.

import { createApi } from "./api.js";
import { $, el, say } from "./dom.js";
import { Feed } from "./feed.js";
import { getFingerprint, getPublicId } from "./fingerprint.js";
import { charCount, countdown, formatCount, formatWait, phoneProblem } from "./format.js";
import { LiveConnection } from "./live.js";

const PAGE_SIZE = 50;
const CITY_KEY = "kirb.city";
const CITY_PATTERN = /^[\p{L}]+(?:[ .'-]+[\p{L}]+)*$/u;
const TIME_REFRESH_MS = 30000;
const STATS_SHOWN = 6;
const ANNOUNCE_AFTER_MS = 2000;

const DEFAULT_CONFIG = {
  message_max_chars: 500,
  phone_min_digits: 10,
  phone_max_digits: 15,
  message_retention_hours: 48,
  page_max_posts: 300,
};

const ui = {
  connection: $("#connection"),
  connectionText: $("#connection .connection-text"),
  citySelect: $("#city-select"),
  cityHeading: $("#city-heading"),
  today: $("#today-stats"),
  composer: $("#composer"),
  composerToggle: $("#composer-toggle"),
  form: $("#post-form"),
  text: $("#post-text"),
  textError: $("#post-text-error"),
  counter: $("#post-counter"),
  phone: $("#post-phone"),
  phoneError: $("#post-phone-error"),
  website: $("#post-website"),
  submit: $("#post-submit"),
  cooldown: $("#post-cooldown"),
  formError: $("#post-error"),
  formSuccess: $("#post-success"),
  feed: $("#feed"),
  feedStatus: $("#feed-status"),
  feedEmpty: $("#feed-empty"),
  announcer: $("#feed-announcer"),
  loadOlder: $("#load-older"),
  feedEnd: $("#feed-end"),
  filters: Array.from(document.querySelectorAll(".filter")),
  cityStats: $("#city-stats"),
  cityStatsNote: $("#city-stats-note"),
  retention: $("#retention-hours"),
};

const state = {
  config: { ...DEFAULT_CONFIG, ...readConfig() },
  city: "",
  filter: "all",
  historyState: "loading", // loading | ready | failed
  hasMore: false,
  loadingOlder: false,
  generation: 0, // bumps on every city change: late answers for another city are dropped
  cooldownUntil: 0,
  cooldownTimer: null,
  cooldownError: false, // the form error is "wait for the cooldown": cleared when it ends
  historyError: "",
  olderError: "",
  posting: false,
  cityStats: null,
};

let api;
let feed;
let live;
let publicId;

function readConfig() {
  try {
    return JSON.parse($("#kirb-config").textContent) || {};
  } catch {
    return {};
  }
}

// --- city -----------------------------------------------------------------------------

function savedCity() {
  try {
    const city = localStorage.getItem(CITY_KEY) || "";
    return CITY_PATTERN.test(city) && city.length <= 64 ? city : "";
  } catch {
    return "";
  }
}

function saveCity(city) {
  try {
    localStorage.setItem(CITY_KEY, city);
  } catch {
    // private mode: the choice lasts for this visit
  }
}

/** One feed whatever the spelling's case and spacing, as the server keys cities. */
function sameCity(a, b) {
  const key = (city) => (city || "").trim().replace(/\s+/g, " ").toLowerCase();
  return key(a) === key(b);
}

function cityLabel(city) {
  return city || "all cities";
}

async function loadCities() {
  const url = document.body.dataset.citiesUrl;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    fillCityPicker(data);
  } catch {
    // The picker still offers "All cities" and the saved city.
    ensureCityOption(state.city);
  }
}

function fillCityPicker(data) {
  const select = ui.citySelect;
  const options = [el("option", { attrs: { value: "" }, text: "All cities" })];
  if (Array.isArray(data.popular) && data.popular.length) {
    const group = el("optgroup", { attrs: { label: "Popular" } });
    for (const city of data.popular) group.append(el("option", { attrs: { value: city }, text: city }));
    options.push(group);
  }
  for (const region of data.states || []) {
    const group = el("optgroup", { attrs: { label: region.name } });
    for (const city of region.cities || []) group.append(el("option", { attrs: { value: city }, text: city }));
    options.push(group);
  }
  select.replaceChildren(...options);
  ensureCityOption(state.city);
  select.value = state.city;
}

function ensureCityOption(city) {
  if (!city) return;
  const exists = Array.from(ui.citySelect.options).some((option) => option.value === city);
  if (!exists) ui.citySelect.append(el("option", { attrs: { value: city }, text: city }));
  ui.citySelect.value = city;
}

function showCity() {
  ui.cityHeading.textContent = state.city ? `Rooms in ${state.city}` : "Rooms across India";
  ui.submit.textContent = state.city ? `Post to ${state.city}` : "Post";
  document.title = state.city
    ? `Rooms in ${state.city} — Kirb`
    : "Kirb — rooms offered and wanted, city by city";
}

function setCity(city) {
  if (city === state.city) return;
  state.city = city;
  saveCity(city);
  ensureCityOption(city);
  if (!city) ui.citySelect.value = "";
  showCity();
  say(ui.formError, "");
  say(ui.formSuccess, "");
  renderCityStats();
  openFeed();
}

// --- feed -----------------------------------------------------------------------------

function openFeed() {
  state.generation += 1;
  const generation = state.generation;
  live.stop();
  feed.reset();
  state.hasMore = false;
  state.olderError = "";
  // The socket opens after the history, with since=<its newest id>: the server replays
  // anything posted in between, so nothing falls in the gap.
  loadHistory().then(() => {
    if (generation === state.generation) live.start(state.city);
  });
}

/** A first page of history, replacing what is shown (also when a replay was not possible). */
async function loadHistory({ quiet = false } = {}) {
  const generation = state.generation;
  if (!quiet) {
    state.historyState = "loading";
    updateFeedChrome();
  }
  try {
    const messages = await api.history(state.city, { limit: PAGE_SIZE });
    if (generation !== state.generation) return;
    const list = Array.isArray(messages) ? messages : [];
    feed.setHistory(list);
    state.hasMore = list.length >= PAGE_SIZE;
    state.historyState = "ready";
  } catch (error) {
    if (generation !== state.generation) return;
    state.historyState = "failed";
    state.historyError = error.message;
  }
  updateFeedChrome();
}

/** The server could not replay what we missed: start over from a fresh page of history. */
function reloadHistory() {
  return loadHistory({ quiet: true });
}

async function loadOlder() {
  if (state.loadingOlder || !state.hasMore || !feed.oldestId) return;
  const generation = state.generation;
  state.loadingOlder = true;
  ui.loadOlder.disabled = true;
  ui.loadOlder.textContent = "Loading…";
  try {
    const messages = await api.history(state.city, { limit: PAGE_SIZE, before: feed.oldestId });
    if (generation !== state.generation) return;
    feed.addOlder(messages);
    state.hasMore = messages.length >= PAGE_SIZE;
    state.olderError = "";
  } catch (error) {
    if (generation !== state.generation) return;
    state.olderError = `Couldn’t load older posts. ${error.message}`;
  } finally {
    state.loadingOlder = false;
    ui.loadOlder.disabled = false;
    ui.loadOlder.textContent = "Load older posts";
    updateFeedChrome();
  }
}

function updateFeedChrome() {
  ui.feed.dataset.filter = state.filter;
  const shown = feed.countOf(state.filter);

  if (state.historyState === "loading" && !feed.size) {
    ui.feedStatus.replaceChildren("Loading posts…");
    ui.feedStatus.dataset.kind = "info";
  } else if (state.historyState === "failed") {
    const retry = el("button", { className: "button button-small button-secondary", attrs: { type: "button" }, text: "Try again" });
    retry.addEventListener("click", () => loadHistory());
    ui.feedStatus.replaceChildren(`Couldn’t load the posts. ${state.historyError || ""} `, retry);
    ui.feedStatus.dataset.kind = "error";
  } else {
    ui.feedStatus.replaceChildren();
    ui.feedStatus.dataset.kind = "";
  }

  const ready = state.historyState === "ready";
  const where = state.city ? ` in ${state.city}` : "";
  let empty = "";
  if (ready && shown === 0) {
    if (state.filter === "offered") empty = `No rooms offered${where} right now.`;
    else if (state.filter === "requested") empty = `Nobody is looking for a room${where} right now.`;
    else empty = `No posts${where} yet. Be the first to post.`;
  }
  say(ui.feedEmpty, empty);

  ui.loadOlder.hidden = !(ready && state.hasMore);
  if (state.olderError) {
    say(ui.feedEnd, state.olderError);
    ui.feedEnd.dataset.kind = "error";
  } else {
    const ended = ready && !state.hasMore && feed.size > 0;
    say(ui.feedEnd, ended ? `That’s everything from the last ${state.config.message_retention_hours} hours.` : "");
    ui.feedEnd.dataset.kind = "";
  }
}

function setFilter(filter) {
  state.filter = filter;
  for (const button of ui.filters) button.setAttribute("aria-pressed", String(button.dataset.filter === filter));
  updateFeedChrome();
}

// Screen readers hear "2 new posts" every few seconds at most, rather than every post.
let unannounced = 0;
let announceTimer = null;

function announceNewPost() {
  unannounced += 1;
  if (announceTimer) return;
  announceTimer = setTimeout(() => {
    ui.announcer.textContent = unannounced === 1 ? "1 new post" : `${unannounced} new posts`;
    unannounced = 0;
    announceTimer = null;
  }, ANNOUNCE_AFTER_MS);
}

// --- connection indicator --------------------------------------------------------------

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

function showConnection(connectionState) {
  ui.connection.dataset.state = connectionState;
  ui.connectionText.textContent = CONNECTION_TEXT[connectionState] || connectionState;
  ui.connection.title =
    connectionState === "live"
      ? "New posts appear here as they are made."
      : connectionState === "offline"
        ? "No connection to Kirb. Retrying automatically."
        : "";
}

// --- post form ------------------------------------------------------------------------

function updateCounter() {
  const count = charCount(ui.text.value);
  const max = state.config.message_max_chars;
  ui.counter.textContent = `${count} / ${max}`;
  ui.counter.classList.toggle("counter-over", count > max);
  if (count <= max && ui.textError.dataset.rule === "too_long") clearFieldError(ui.text, ui.textError);
}

function setFieldError(input, node, sentence, rule = "") {
  say(node, sentence);
  node.dataset.rule = rule;
  input.setAttribute("aria-invalid", "true");
}

function clearFieldError(input, node) {
  say(node, "");
  node.dataset.rule = "";
  input.removeAttribute("aria-invalid");
}

function validateForm() {
  let firstInvalid = null;
  const count = charCount(ui.text.value);
  const max = state.config.message_max_chars;
  if (count === 0) {
    setFieldError(ui.text, ui.textError, "Write a few words about the room: area, rent, who it suits.", "required");
    firstInvalid = ui.text;
  } else if (count > max) {
    const over = count - max;
    const unit = over === 1 ? "character" : "characters";
    setFieldError(ui.text, ui.textError, `Your post is ${over} ${unit} too long (at most ${max}).`, "too_long");
    firstInvalid = ui.text;
  } else {
    clearFieldError(ui.text, ui.textError);
  }
  const problem = phoneProblem(ui.phone.value, state.config.phone_min_digits, state.config.phone_max_digits);
  if (problem) {
    setFieldError(ui.phone, ui.phoneError, problem, "phone");
    firstInvalid = firstInvalid || ui.phone;
  } else {
    clearFieldError(ui.phone, ui.phoneError);
  }
  return firstInvalid;
}

function postErrorSentence(error) {
  if (error.status === 429 && error.code === "post_cooldown" && error.retryAfter) {
    return `You can post again in ${formatWait(error.retryAfter)}.`;
  }
  if (error.status === 429 && error.retryAfter) return `${error.message} Please try again in ${formatWait(error.retryAfter)}.`;
  return error.message;
}

async function submitPost(event) {
  event.preventDefault();
  if (state.posting || cooldownLeft() > 0) return;
  say(ui.formError, "");
  say(ui.formSuccess, "");
  state.cooldownError = false;
  if (!state.city) {
    say(ui.formError, "Choose your city first: every post goes to one city’s feed.");
    ui.citySelect.focus();
    return;
  }
  const invalid = validateForm();
  if (invalid) {
    invalid.focus();
    return;
  }
  const payload = {
    message: ui.text.value.trim(),
    message_type: ui.form.elements.message_type.value === "requested" ? "requested" : "offered",
    location: state.city,
    browser_id: publicId,
  };
  const phone = ui.phone.value.trim();
  if (phone) payload.phone = phone;
  if (ui.website.value) payload.website = ui.website.value;

  state.posting = true;
  ui.submit.disabled = true;
  ui.submit.textContent = "Posting…";
  try {
    const posted = await api.post(payload);
    ui.text.value = "";
    ui.phone.value = "";
    updateCounter();
    if (!state.city || sameCity(posted.location, state.city)) feed.addOwn(posted);
    const where = posted.location || cityLabel(state.city);
    say(
      ui.formSuccess,
      posted.held_for_review
        ? `Posted to ${where}. A moderator will check it before others can see it.`
        : `Posted to ${where}. Your post is live.`,
    );
    refreshCooldown();
  } catch (error) {
    say(ui.formError, postErrorSentence(error));
    if (error.status === 429 && error.code === "post_cooldown" && error.retryAfter) {
      state.cooldownError = true;
      startCooldown(error.retryAfter);
    }
  } finally {
    state.posting = false;
    ui.submit.textContent = state.city ? `Post to ${state.city}` : "Post";
    updateSubmit();
  }
}

// --- cooldown (fetched once, then counted down locally) -------------------------------

function cooldownLeft() {
  return Math.max(0, (state.cooldownUntil - Date.now()) / 1000);
}

function updateSubmit() {
  const left = cooldownLeft();
  ui.submit.disabled = state.posting || left > 0;
  if (left > 0) {
    say(ui.cooldown, `You can post again in ${countdown(left)}`);
  } else {
    say(ui.cooldown, "");
    if (state.cooldownError) say(ui.formError, "");
    state.cooldownError = false;
  }
}

function startCooldown(seconds) {
  state.cooldownUntil = Date.now() + seconds * 1000;
  clearInterval(state.cooldownTimer);
  state.cooldownTimer = setInterval(() => {
    updateSubmit();
    if (cooldownLeft() <= 0) clearInterval(state.cooldownTimer);
  }, 1000);
  updateSubmit();
}

async function refreshCooldown() {
  try {
    const result = await api.cooldown();
    if (!result.can_post && result.remaining_seconds > 0) startCooldown(result.remaining_seconds);
    else updateSubmit();
  } catch {
    // Not knowing the cooldown is harmless: the server still answers a post with the wait.
  }
}

// --- stats ----------------------------------------------------------------------------

async function loadDailyStats() {
  try {
    const stats = await api.dailyStats();
    const visitors = Number(stats.unique_visitors) || 0;
    const posts = Number(stats.message_count) || 0;
    ui.today.replaceChildren(
      el("span", { className: "today-item" }, el("strong", { text: formatCount(visitors) }), visitors === 1 ? " visitor today" : " visitors today"),
      el("span", { className: "today-item" }, el("strong", { text: formatCount(posts) }), posts === 1 ? " post today" : " posts today"),
    );
    ui.today.hidden = false;
  } catch {
    ui.today.hidden = true;
  }
}

async function loadCityStats() {
  try {
    const rows = await api.cityStats(state.city);
    state.cityStats = Array.isArray(rows) ? rows : [];
  } catch (error) {
    state.cityStats = null;
    say(ui.cityStatsNote, `Statistics are unavailable right now. ${error.message}`);
    return;
  }
  renderCityStats();
}

function renderCityStats() {
  if (!state.cityStats) return;
  const rows = state.cityStats.filter((row) => row && row.city).slice(0, STATS_SHOWN);
  if (state.city && !rows.some((row) => row.city === state.city)) {
    const current = state.cityStats.find((row) => row.city === state.city) || { city: state.city, views: 0, daily_average: 0 };
    rows.push(current);
  }
  const top = Math.max(1, ...rows.map((row) => Number(row.views) || 0));
  ui.cityStats.replaceChildren(
    ...rows.map((row) => {
      const views = Number(row.views) || 0;
      const perDay = Number(row.daily_average) || 0;
      const current = row.city === state.city;
      const button = el(
        "button",
        {
          className: "city-stat",
          attrs: { type: "button", "aria-current": current ? "true" : null },
          on: { click: () => setCity(row.city) },
        },
        el("span", { className: "city-stat-name", text: row.city }),
        el("span", {
          className: "city-stat-meta",
          text: `${formatCount(views)} ${views === 1 ? "view" : "views"} · ${perDay.toLocaleString("en-IN")} a day`,
        }),
        el("span", { className: "city-stat-bar", attrs: { "aria-hidden": "true" } }, el("span", {
          className: "city-stat-fill",
          dataset: { share: String(Math.round((views / top) * 100)) },
        })),
      );
      return el("li", {}, button);
    }),
  );
  // Widths through CSSOM, which a strict style-src allows (style attributes it does not).
  for (const fill of ui.cityStats.querySelectorAll(".city-stat-fill")) fill.style.width = `${fill.dataset.share}%`;
  say(ui.cityStatsNote, rows.length ? "Views over the last 7 days. Tap a city to see its posts." : "No visits recorded this week yet.");
}

// --- start ----------------------------------------------------------------------------

function wireUi() {
  ui.citySelect.addEventListener("change", () => setCity(ui.citySelect.value));
  ui.composerToggle.addEventListener("click", () => {
    const open = ui.composer.dataset.open !== "true";
    ui.composer.dataset.open = String(open);
    ui.composerToggle.setAttribute("aria-expanded", String(open));
    ui.composerToggle.textContent = open ? "Close" : "Write a post";
    if (open) ui.text.focus();
  });
  ui.form.addEventListener("submit", submitPost);
  ui.text.addEventListener("input", () => {
    updateCounter();
    if (ui.textError.dataset.rule === "required" && charCount(ui.text.value) > 0) clearFieldError(ui.text, ui.textError);
    say(ui.formSuccess, "");
  });
  ui.phone.addEventListener("input", () => {
    if (ui.phoneError.textContent) clearFieldError(ui.phone, ui.phoneError);
  });
  // Field errors appear on submit, not on blur: an error appearing while the mouse
  // is down on "Post" would push the button away and swallow the click.
  for (const button of ui.filters) button.addEventListener("click", () => setFilter(button.dataset.filter));
  ui.loadOlder.addEventListener("click", loadOlder);

  // Older pages come by themselves when the end of the list scrolls into view.
  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && state.historyState === "ready") loadOlder();
    }, { rootMargin: "200px 0px" });
    observer.observe(ui.loadOlder.parentElement);
  }

  setInterval(() => feed.refreshTimes(), TIME_REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      feed.refreshTimes();
      updateSubmit();
    }
  });
  ui.retention.textContent = String(state.config.message_retention_hours);
  updateCounter();
}

async function main() {
  const fingerprint = await getFingerprint();
  publicId = getPublicId();
  api = createApi(fingerprint);
  feed = new Feed(ui.feed, {
    api,
    publicId,
    maxPosts: state.config.page_max_posts,
    onChange: () => updateFeedChrome(),
    // Live posts pushed the oldest out of the page: they can be loaded again.
    onPruned: () => {
      state.hasMore = true;
    },
  });
  live = new LiveConnection({
    fingerprint,
    getSince: () => feed.newestId,
    handlers: {
      onStatus: showConnection,
      onMessage: (message) => {
        if ((!state.city || sameCity(message.location, state.city)) && feed.addLive(message)) announceNewPost();
      },
      onDeleted: (data) => feed.remove(data.id),
      onReplayComplete: (data) => {
        if (data.truncated) reloadHistory();
      },
      onUnknownSince: () => reloadHistory(),
      onOpen: ({ resumed, reconnected }) => {
        // Back after a break with nothing to resume from: what was posted meanwhile
        // is only in the history.
        if (reconnected && !resumed) reloadHistory();
      },
    },
  });

  state.city = savedCity();
  wireUi();
  showCity();
  ensureCityOption(state.city);

  loadCities();
  openFeed();
  refreshCooldown();
  // Today's numbers after this visit is counted, so that they include it.
  api.trackVisitor(state.city).catch(() => {}).finally(loadDailyStats);
  loadCityStats();
}

main();
