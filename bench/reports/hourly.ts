// bench:reports --hourly: the hourly rollup written directly (as bench:live's energy part does), for when the
// demo history's path is too slow to wait for: at 2,000 devices its 1-minute rollup of one day took 3 minutes
// of InfluxDB on the shared 2-core machine (30 days: hours). Every device every hour of the span, with a kWh
// that follows the local hour and differs per device, then the building energy rollup's backfill (as the
// ingest runs it when the rollup is new). Only `rollup_1h` and the building rollup are written: figures from
// the 1-minute rollup or raw points (peak demand) are not meaningful in this mode.
import type { Campus } from "../../domain/campus.js";
import { type Point, toLines } from "../../domain/line-protocol.js";
import { ensureRetention } from "../../ingest/retention.js";
import { buildingRollupSelect } from "../../infra/energy-rollup.js";
import type { InfluxClient } from "../../infra/influx.js";
import type { Logger } from "../../infra/logger.js";

const HOUR_MS = 3_600_000;
/** Hours per InfluxDB request (× devices points). */
const HOURS_PER_WRITE = 6;

/** kWh of a device in an hour: a daytime hump on weekdays (UTC+8 local hours), a small base load, per-device scale. */
function kwhOf(device: number, hourStartMs: number): number {
  const local = new Date(hourStartMs + 8 * HOUR_MS);
  const hour = local.getUTCHours();
  const weekday = local.getUTCDay() % 6 !== 0;
  const hump = weekday && hour >= 7 && hour < 22 ? 1 : 0.15;
  return Math.round((0.05 + (device % 17) * 0.01) * hump * 1e6) / 1e6;
}

/** Writes `days` of hourly rollup points ending at the hour before `toMs`; resolves with the points written. */
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
        points.push({ measurement: "electrical", tags: { site: device.site, device: device.id, kind: device.kind, building: device.building, room: device.room }, fields: { energy_delta_kwh: kwh, power_w_mean: kwh * 1000, power_w_max: kwh * 1300 }, ts });
      });
    }
    await influx.write(toLines(points), "rollup_1h");
    written += points.length;
    if ((from - start) % (24 * HOUR_MS) === 0) say(`hourly rollup: day ${(from - start) / (24 * HOUR_MS) + 1}/${days}`);
  }
  await influx.query(buildingRollupSelect(influx.config.db, campus, ` AND time >= ${start}ms AND time < ${end}ms`));
  return written;
}
