// Numbers, shares and dates of the energy views in the page's language (Intl): "1,234.5" and "45%" alike
// in English and Chinese, dates as each language writes them ("Tue, Nov 3" / "11月3日周二"). A date is a
// site's local "YYYY-MM-DD" (./energy-time.js) shown in UTC, so the browser's own zone never shifts it.
import { lang, t } from "./i18n.js";

const formats = new Map();
function format(kind, options) {
  const key = `${lang()} ${kind}`;
  if (!formats.has(key)) formats.set(key, kind.startsWith("date") ? new Intl.DateTimeFormat(lang(), { timeZone: "UTC", ...options }) : new Intl.NumberFormat(lang(), options));
  return formats.get(key);
}

/** kWh (or kW) with `digits` decimals; "–" when missing. */
export const kwh = (value, digits = 1) => (typeof value === "number" ? format(`number${digits}`, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value) : "–");

/** A share 0–1 as a whole per cent; "–" when missing (nothing was used). */
export const percent = (share) => (typeof share === "number" ? format("percent", { style: "percent", maximumFractionDigits: 0 }).format(share) : "–");

const asUtc = (date) => Date.parse(`${date}T00:00:00Z`);

/** "Tue, Nov 3" / "11月3日周二": a day in a tooltip, a table row or a label. */
export const dayName = (date) => format("date-long", { month: "short", day: "numeric", weekday: "short" }).format(asUtc(date));

/** A day and, unless it is an ordinary school day, what kind of day it is: "Fri, Dec 4 (holiday)". */
export const dayWithKind = (date, kind) => (kind === "school" ? dayName(date) : `${dayName(date)} (${t(`day_${kind}`)})`);

/** "11/3" / "11/3": an axis tick. */
export const dayTick = (date) => format("date-tick", { month: "numeric", day: "numeric" }).format(asUtc(date));

/** "Tuesday" / "星期二": the weekday a load curve is compared with. */
export const weekdayName = (date) => format("date-weekday", { weekday: "long" }).format(asUtc(date));

/** "09:00–10:00": the local hour starting at `hour`. */
export const hourSpan = (hour) => `${String(hour).padStart(2, "0")}:00–${String((hour + 1) % 24).padStart(2, "0")}:00`;
