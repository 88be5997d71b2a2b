// How the dashboard writes values: HTML-escaped text, numbers with fixed digits ("–" when missing),
// and "how long ago" in the current language. Every view uses these.
import { lang, t } from "./i18n.js";

export const escape = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
export const fmt = (v, digits = 1) => (typeof v === "number" ? v.toFixed(digits) : "–");

/** A past moment (epoch ms): seconds or minutes ago within the hour, else the date and time. */
export function ago(ms) {
  if (ms === null || ms === undefined) return t("never");
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? t("seconds_ago", { n: s }) : s < 3600 ? t("minutes_ago", { n: Math.round(s / 60) }) : new Date(ms).toLocaleString(lang());
}

/** Where something is, in words: the building's name (`buildings` from /api/buildings; its id when unknown) and the room. */
export const placeName = (buildings, building, room) =>
  [buildings.find((b) => b.id === building)?.name ?? building, room ? `${t("room")} ${room}` : ""].filter(Boolean).join(" · ");
