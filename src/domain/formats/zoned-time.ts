// Local wall-clock time in an IANA zone → epoch ms, with Intl only (no tz library).
// Tasmota sends `Time` as local time without a zone (tasmota/docs MQTT.md); the site's zone gives it meaning.
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
    });
    FORMATTERS.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's offset from UTC at an instant, ms (local − UTC; +8 h for Asia/Shanghai). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const wallAsUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
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
  const DAY_MS = 86_400_000;
  const before = zoneOffsetMs(wallAsUtc - DAY_MS, timeZone);
  const after = zoneOffsetMs(wallAsUtc + DAY_MS, timeZone);
  const candidates = [wallAsUtc - before, wallAsUtc - after].filter((t, i) => zoneOffsetMs(t, timeZone) === (i === 0 ? before : after));
  if (candidates.length === 0) return wallAsUtc - before; // gap: the offset in force before it, i.e. moved forward
  return Math.min(...candidates); // fold: the earlier instant
}
