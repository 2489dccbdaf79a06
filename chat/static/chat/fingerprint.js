// The browser fingerprint Kirb keys its limits on (there are no accounts).
//
// "k1-<random id>-<traits hash>": a random id made on the first visit, plus a SHA-256
// of stable traits of this browser (user agent, languages, screen, time zone, canvas
// rendering). Both are stored together in localStorage, so the value is the same on
// every reload of this browser profile even if a trait later changes (a zoom, a second
// monitor), and different in every other profile. Only [A-Za-z0-9-] is used, which
// the server accepts ([A-Za-z0-9._:-]{1,128}).

const STORAGE_KEY = "kirb.fingerprint";
const VERSION = "k1";
const VALID = /^[A-Za-z0-9._:-]{1,128}$/;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomId(length = 22) {
  // 22 base-62 characters: 130 bits. Bytes >= 248 (62 * 4) are skipped so that every
  // character is equally likely.
  let id = "";
  while (id.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      if (byte < 248 && id.length < length) id += ALPHABET[byte % 62];
    }
  }
  return id;
}

function canvasTrait() {
  try {
    const canvas = document.createElement("canvas");
    canvas.width = 220;
    canvas.height = 40;
    const context = canvas.getContext("2d");
    if (!context) return "no-canvas";
    context.textBaseline = "top";
    context.font = "16px 'Arial', sans-serif";
    context.fillStyle = "#f60";
    context.fillRect(100, 2, 60, 20);
    context.fillStyle = "#069";
    context.fillText("Kirb, rooms ₹ 😀", 4, 6);
    context.fillStyle = "rgba(102, 204, 0, 0.7)";
    context.fillText("Kirb, rooms ₹ 😀", 6, 10);
    return canvas.toDataURL();
  } catch {
    return "no-canvas";
  }
}

function traits() {
  let timeZone = "";
  try {
    timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    // An old engine: the other traits still count.
  }
  return JSON.stringify([
    navigator.userAgent,
    navigator.language,
    (navigator.languages || []).join(","),
    navigator.platform || "",
    navigator.hardwareConcurrency || 0,
    screen.width,
    screen.height,
    screen.colorDepth,
    timeZone,
    new Date().getTimezoneOffset(),
    canvasTrait(),
  ]);
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// cyrb53: a small non-cryptographic hash, for pages served without SubtleCrypto
// (plain HTTP on a host other than localhost is not a secure context).
function cyrb53(text, seed = 0) {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
}

async function traitsHash() {
  const text = traits();
  if (globalThis.crypto && crypto.subtle) {
    try {
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
      return hex(digest).slice(0, 16);
    } catch {
      // fall through
    }
  }
  return cyrb53(text);
}

function readStored() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value && VALID.test(value) && value.startsWith(`${VERSION}-`) ? value : null;
  } catch {
    return null; // storage blocked
  }
}

function store(value) {
  try {
    localStorage.setItem(STORAGE_KEY, value);
    return true;
  } catch {
    return false;
  }
}

let pending = null;

/** This browser's fingerprint (computed once per page). */
export function getFingerprint() {
  if (!pending) pending = compute();
  return pending;
}

async function compute() {
  const stored = readStored();
  if (stored) return stored;
  const hash = await traitsHash();
  const fresh = `${VERSION}-${randomId()}-${hash}`;
  // Without storage a random part would change on every reload; the traits alone
  // are the most stable identity left.
  return store(fresh) ? fresh : `${VERSION}-nostore-${hash}`;
}

const PUBLIC_ID_KEY = "kirb.public_id";

/**
 * The id this browser's posts carry for readers (``browser_id``): random, kept in
 * localStorage, never the fingerprint (which only the server may see). The page spots
 * its own posts by it, as the krib client does with its device id.
 */
export function getPublicId() {
  try {
    const stored = localStorage.getItem(PUBLIC_ID_KEY);
    if (stored && VALID.test(stored)) return stored;
    const fresh = `p-${randomId()}`;
    localStorage.setItem(PUBLIC_ID_KEY, fresh);
    return fresh;
  } catch {
    return `p-${randomId()}`; // storage blocked: own posts are recognised until a reload
  }
}
