// The site's local wall clock, computed from an epoch time and an IANA zone (pure: time is a parameter).
// Load profiles follow local hours (a dorm's lights-out is 23:00 in Asia/Shanghai, not in UTC), and
// Tasmota stamps its payloads with local time without a zone (reference/anchors.md §2).
import { wallClock } from "../domain/time-zone.js";

export interface LocalTime {
  /** Local date, `YYYY-MM-DD`. */
  date: string;
  /** Local time of day in hours, fractional (13.5 = 13:30). */
  hour: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** `YYYY-MM-DDTHH:mm:ss`, no zone: Tasmota's `Time`. */
  iso: string;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

export function localTime(epochMs: number, timezone: string): LocalTime {
  const wall = wallClock(epochMs, timezone);
  const date = `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}`;
  return {
    date,
    hour: wall.hour + wall.minute / 60 + wall.second / 3600,
    weekday: wall.weekday,
    iso: `${date}T${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}`,
  };
}
