// The site's local wall clock, computed from an epoch time and an IANA zone (pure: time is a parameter).
// Load profiles follow local hours (a dorm's lights-out is 23:00 in Asia/Shanghai, not in UTC), and
// Tasmota stamps its payloads with local time without a zone (reference/anchors.md §2).

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

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function localTime(epochMs: number, timezone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timezone).formatToParts(new Date(epochMs))) parts[part.type] = part.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const hh = Number(parts.hour);
  const mm = Number(parts.minute);
  const ss = Number(parts.second);
  return {
    date,
    hour: hh + mm / 60 + ss / 3600,
    weekday: WEEKDAYS[parts.weekday ?? ""] ?? 0,
    iso: `${date}T${parts.hour}:${parts.minute}:${parts.second}`,
  };
}
