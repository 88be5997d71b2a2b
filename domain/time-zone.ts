// Time in an IANA zone, with Intl only (no tz library, no clock: every instant is a parameter).
// Used where the site's zone matters: history buckets aligned to local midnight (api), Tasmota's
// zone-less `Time` (tasmota/docs MQTT.md, ingest decoders), and load profiles that follow local hours
// (simulator).

// ISO 8601 date-time with an explicit zone (`Z` or ±hh:mm); a zone-less time would be ambiguous
// (Tasmota's zone-less local time is read by localTimeToEpochMs below, with the site's zone).
export const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

const DAY_MS = 86_400_000;

/** The local calendar and clock of an instant in a zone (second resolution, as Intl gives it). */
export interface WallClock {
  year: number;
  /** 1 … 12 */
  month: number;
  day: number;
  /** 0 … 23 */
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
}

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = FORMATTERS.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
    });
    FORMATTERS.set(timeZone, formatter);
  }
  return formatter;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * Since 1973 every zone's offset is a whole number of minutes and changes on a whole minute (Liberia's
 * −0:44:30 was the last exception, to 1972), so the offset found for a minute holds for every instant in it.
 */
const WHOLE_MINUTE_OFFSETS_FROM_MS = Date.UTC(1973, 0, 1);
const MINUTE_MS = 60_000;
/** Per zone: UTC minute → offset, ms. Readings arrive minutes apart at most, so a few thousand entries cover any burst. */
const OFFSETS = new Map<string, Map<number, number>>();
const MAX_MINUTES_PER_ZONE = 4_096;

/**
 * The wall clock in `timeZone` at the instant `epochMs`. Intl's formatToParts is slow (~8 µs: a tenth of the
 * alerts service's time per reading at 5,000 readings/s, bench:e2e profile), so the zone's offset is taken
 * from it once per minute and the fields from the shifted instant.
 */
export function wallClock(epochMs: number, timeZone: string): WallClock {
  if (!(epochMs >= WHOLE_MINUTE_OFFSETS_FROM_MS) || !Number.isFinite(epochMs)) return wallClockOfIntl(epochMs, timeZone);
  let minutes = OFFSETS.get(timeZone);
  if (!minutes) OFFSETS.set(timeZone, (minutes = new Map()));
  const minute = Math.floor(epochMs / MINUTE_MS);
  let offset = minutes.get(minute);
  if (offset === undefined) {
    const start = minute * MINUTE_MS;
    const wall = wallClockOfIntl(start, timeZone);
    offset = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - start;
    if (minutes.size >= MAX_MINUTES_PER_ZONE) minutes.clear();
    minutes.set(minute, offset);
  }
  const local = new Date(epochMs + offset);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: local.getUTCDay(),
  };
}

function wallClockOfIntl(epochMs: number, timeZone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ""] ?? 0,
  };
}

/** The zone's offset from UTC at an instant, ms (local − UTC; +8 h for Asia/Shanghai). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const wall = wallClock(epochMs, timeZone);
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  // Intl has second resolution: compare against the instant truncated to the second.
  return wallAsUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;

/**
 * Converts `YYYY-MM-DDThh:mm[:ss[.fff]]` (no zone) read as wall time in `timeZone` to epoch ms;
 * NaN when the text is not such a time. Around DST changes it follows Temporal's "compatible"
 * disambiguation: a repeated hour (fold) takes the earlier instant, a skipped hour (gap) is moved
 * forward by the length of the gap.
 */
export function localTimeToEpochMs(text: string, timeZone: string): number {
  const match = LOCAL_TIME.exec(text);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s, ms] = match;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const wallAsUtc = Date.UTC(Number(y), month - 1, day, hour, minute, second, Number((ms ?? "0").padEnd(3, "0")));
  if (new Date(wallAsUtc).getUTCDate() !== day) return Number.NaN; // 31 April and the like

  // No zone changes its offset twice within a day, so the offsets a day before and a day after are
  // the only two candidates.
  const before = zoneOffsetMs(wallAsUtc - DAY_MS, timeZone);
  const after = zoneOffsetMs(wallAsUtc + DAY_MS, timeZone);
  const candidates = [wallAsUtc - before, wallAsUtc - after].filter((t, i) => zoneOffsetMs(t, timeZone) === (i === 0 ? before : after));
  if (candidates.length === 0) return wallAsUtc - before; // gap: the offset in force before it, i.e. moved forward
  return Math.min(...candidates); // fold: the earlier instant
}

/**
 * `2026-12-08T08:00:00+08:00`: the instant, to the second, as the zone's clock and offset say it (the reports'
 * `period_start`, the webhook digest's `from`/`to`).
 */
export function isoInZone(epochMs: number, timeZone: string): string {
  const offsetMs = zoneOffsetMs(epochMs, timeZone);
  const wall = new Date(epochMs + offsetMs).toISOString().slice(0, 19); // the local wall clock, written as if UTC
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${wall}${offsetMs < 0 ? "-" : "+"}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
}
