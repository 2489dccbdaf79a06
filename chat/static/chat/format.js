// Times, waits, counts and phone numbers as people read them (English, India).

const LOCALE = "en-IN";

/** "just now", "4 min ago", "2 hours ago", "yesterday", "12 Nov". */
export function relativeTime(timestampSeconds, nowMs = Date.now()) {
  const seconds = Math.max(0, Math.round(nowMs / 1000 - timestampSeconds));
  if (seconds < 45) return "just now";
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} ${hours === 1 ? "hour" : "hours"} ago`;
  if (hours < 48) return "yesterday";
  return new Date(timestampSeconds * 1000).toLocaleDateString(LOCALE, { day: "numeric", month: "short" });
}

/** The full date and time, for a tooltip. */
export function absoluteTime(timestampSeconds) {
  return new Date(timestampSeconds * 1000).toLocaleString(LOCALE, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "numeric",
    minute: "2-digit",
  });
}

/** "45 seconds", "3 minutes", "1 hour 5 minutes". */
export function formatWait(totalSeconds) {
  const seconds = Math.max(1, Math.ceil(totalSeconds));
  if (seconds < 60) return `${seconds} ${seconds === 1 ? "second" : "seconds"}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const hourText = `${hours} ${hours === 1 ? "hour" : "hours"}`;
  return rest ? `${hourText} ${rest} ${rest === 1 ? "minute" : "minutes"}` : hourText;
}

/** "3:42 pm": when a wait of ``seconds`` ends. */
export function clockAfter(seconds, nowMs = Date.now()) {
  return new Date(nowMs + seconds * 1000).toLocaleTimeString(LOCALE, { hour: "numeric", minute: "2-digit" });
}

/** "0:42", "12:05", "1:00:00": a countdown. */
export function countdown(totalSeconds) {
  const seconds = Math.max(0, Math.ceil(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function formatCount(value) {
  return Number(value || 0).toLocaleString(LOCALE);
}

/** A phone as the server stores it ("+919876543210") for reading: "+91 98765 43210". */
export function formatPhone(raw) {
  const phone = String(raw || "");
  const digits = phone.replace(/^\+/, "");
  if (phone.startsWith("+91") && digits.length === 12) return `+91 ${digits.slice(2, 7)} ${digits.slice(7)}`;
  if (!phone.startsWith("+") && digits.length === 10) return `${digits.slice(0, 5)} ${digits.slice(5)}`;
  return phone;
}

export function telHref(raw) {
  return `tel:${String(raw || "").replace(/[^+0-9]/g, "")}`;
}

/** Same rule as the server: 10–15 digits; spaces, - . ( ) and one leading + allowed. */
export function phoneProblem(raw, minDigits, maxDigits) {
  const phone = raw.trim().replace(/[\s().-]/g, "");
  if (!phone) return null;
  const digits = phone.startsWith("+") ? phone.slice(1) : phone;
  if (!/^[0-9]+$/.test(digits)) {
    return "Use digits only (spaces, dashes, brackets and a leading + are fine).";
  }
  if (digits.length < minDigits || digits.length > maxDigits) {
    return `A phone number has ${minDigits} to ${maxDigits} digits; this one has ${digits.length}.`;
  }
  return null;
}

/** Characters as the server counts them (code points, after trimming). */
export function charCount(text) {
  return Array.from(text.trim()).length;
}
