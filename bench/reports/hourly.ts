// bench:reports --hourly: the rollups written directly (as bench:live's energy part does), for when the demo
// history's path is too slow to wait for: at 2,000 devices its 1-minute rollup of one day took 3 minutes of
// InfluxDB on the shared 2-core machine (30 days: hours). Every device every hour of the span in rollup_1h, with
// a kWh that follows the local hour and differs per device (./profile.ts), then the building energy rollup's
// backfill (as the ingest runs it when the rollup is new), the peak-demand power rollups of the same profile
// and the last hour of rollup_1m, which the peak-demand reader takes the newest windows from (./power.ts).
// Raw points are not written: figures read from them (a device's live curve) are not meaningful in this mode.
// The daily peak rollup is filled from those power rollups as the ingest fills it (fillPeakDayRollup; bench/reports.ts
// runs it on every run, so data written before it existed gets it too).
import type { Campus } from "../../domain/campus.js";
import { type Point, toLines } from "../../domain/line-protocol.js";
import { ensureRetention } from "../../ingest/retention.js";
import { buildingRollupSelect } from "../../infra/energy-rollup.js";
import type { InfluxClient } from "../../infra/influx.js";
import type { Logger } from "../../infra/logger.js";
import { fillPeakDays } from "../../infra/peak-day-rollup.js";
import { DEMAND_WINDOW_MS } from "../../infra/power-rollup.js";
import { deviceTags, writePowerRollups, writeRecentMinutes } from "./power.js";
import { HOUR_MS, kwhOf, windowPowerW } from "./profile.js";

/** Starts of an hour's 15-minute windows, from the hour's start, ms. */
const WINDOW_OFFSETS_MS = [0, 1, 2, 3].map((window) => window * DEMAND_WINDOW_MS);
/** Hours per InfluxDB request (× devices points). */
const HOURS_PER_WRITE = 6;

/** Writes `days` of rollups ending at the hour before `toMs`; resolves with the points written. */
export async function writeHourlyRollup(campus: Campus, influx: InfluxClient, days: number, toMs: number, log: Logger, say: (line: string) => void): Promise<number> {
  await influx.ensureDatabase();
  if (!(await ensureRetention(influx, 90, log, campus))) throw new Error("InfluxDB refused the rollups' retention policies (not InfluxDB 1.x?)");
  const end = Math.floor(toMs / HOUR_MS) * HOUR_MS;
  const start = end - days * 24 * HOUR_MS;
  let written = 0;
  for (let from = start; from < end; from += HOURS_PER_WRITE * HOUR_MS) {
    const points: Point[] = [];
    for (let ts = from; ts < Math.min(from + HOURS_PER_WRITE * HOUR_MS, end); ts += HOUR_MS) {
      campus.devices.forEach((device, d) => {
        const kwh = kwhOf(d, ts);
        // The hour's largest reading: 1.3 × its largest window's mean, as rollup_1m's minutes say (./power.ts).
        const maxW = 1.3 * Math.max(...WINDOW_OFFSETS_MS.map((offset) => windowPowerW(d, ts + offset)));
        points.push({ measurement: "electrical", tags: deviceTags(device), fields: { energy_delta_kwh: kwh, power_w_mean: kwh * 1000, power_w_max: maxW }, ts });
      });
    }
    await influx.write(toLines(points), "rollup_1h");
    written += points.length;
    if ((from - start) % (24 * HOUR_MS) === 0) say(`hourly rollup: day ${(from - start) / (24 * HOUR_MS) + 1}/${days}`);
  }
  await influx.query(buildingRollupSelect(influx.config.db, campus, ` AND time >= ${start}ms AND time < ${end}ms`));
  written += await writePowerRollups(campus, influx, start, end, say);
  written += await writeRecentMinutes(campus, influx, end);
  return written;
}

/**
 * The daily peak rollup of every complete day the data holds, as the ingest's catch-up fills it (infra/peak-day-rollup.ts
 * fillPeakDays), from the power rollups of every device reporting power (what this mode writes); resolves with the days.
 */
export const fillPeakDayRollup = (campus: Campus, influx: InfluxClient, now: number): Promise<number> =>
  fillPeakDays(influx, campus, new Set(campus.devices.map((device) => device.id)), now);
