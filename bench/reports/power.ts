// bench:reports --hourly's peak-demand data: what the power rollups' continuous queries would hold for the
// mode's profile (./profile.ts), so the reports' peak_kw is read from the rollup the API reads in production
// (api/reports/peak-demand.ts) at the scale. Names, tags and field are infra/power-rollup.ts's own
// (powerRollupSelect: `rollup_1h`.`power_<by>_<hash>`, tags site, building[, room], field power_w, one point per
// group and 15-minute window at the window's start), the counted devices its powerRollupDevices, with every
// device reporting power (the mode gives each one a power_w_mean in rollup_1h, which is what the reader's
// readPowerReporters finds). A group's power is the sum of its counted devices' window means, as the CQ sums.
//
// The reader takes the windows of the last POWER_ROLLUP_LAG_MS (30 min) and one window more from rollup_1m
// (raw past its 2-minute lag), since the rollup may not hold them yet; the timing starts after the data is
// written, at or after the data's end, so writing the last hour of rollup_1m lets those windows answer the same.
import type { Campus, Device } from "../../domain/campus.js";
import { type Point, toLines } from "../../domain/line-protocol.js";
import type { InfluxClient } from "../../infra/influx.js";
import { DEMAND_WINDOW_MS, POWER_ROLLUP_GROUPS, POWER_ROLLUP_RP, type PowerRollupGroup, powerRollupDevices, powerRollupMeasurement } from "../../infra/power-rollup.js";
import { HOUR_MS, windowPowerW } from "./profile.js";

const DAY_MS = 24 * HOUR_MS;
const MINUTE_MS = 60_000;
/** rollup_1m's last stretch written: covers the windows the reader takes from it (see above), min. */
const RECENT_MINUTES = 60;
/** Minutes of rollup_1m per InfluxDB request (× devices points). */
const MINUTES_PER_WRITE = 10;

/** A group's tags as the CQ's GROUP BY writes them, and the indexes (in campus.devices) of its counted devices. */
interface Group {
  tags: Record<string, string>;
  devices: number[];
}

function groupsOf(campus: Campus, by: PowerRollupGroup, reporting: ReadonlySet<string>): Group[] {
  const index = new Map(campus.devices.map((device, i) => [device.id, i]));
  const groups = new Map<string, Group>();
  for (const device of powerRollupDevices(campus, by, reporting)) {
    const tags: Record<string, string> = by === "room" ? { site: device.site, building: device.building, room: device.room! } : { site: device.site, building: device.building };
    const key = Object.values(tags).join("\u0000");
    const group = groups.get(key) ?? groups.set(key, { tags, devices: [] }).get(key)!;
    group.devices.push(index.get(device.id)!);
  }
  return [...groups.values()];
}

/** Writes both power rollups over [startMs, endMs) (whole windows), a day per request per grouping; resolves with the points written. */
export async function writePowerRollups(campus: Campus, influx: InfluxClient, startMs: number, endMs: number, say: (line: string) => void): Promise<number> {
  const reporting = new Set(campus.devices.map((device) => device.id));
  let written = 0;
  for (const by of POWER_ROLLUP_GROUPS) {
    const measurement = powerRollupMeasurement(campus, by, reporting);
    const groups = groupsOf(campus, by, reporting);
    for (let from = startMs; from < endMs; from += DAY_MS) {
      const points: Point[] = [];
      for (let ts = from; ts < Math.min(from + DAY_MS, endMs); ts += DEMAND_WINDOW_MS) {
        for (const group of groups) points.push({ measurement, tags: group.tags, fields: { power_w: group.devices.reduce((sum, d) => sum + windowPowerW(d, ts), 0) }, ts });
      }
      await influx.write(toLines(points), POWER_ROLLUP_RP);
      written += points.length;
    }
    say(`power rollup ${measurement}: ${groups.length} groups, ${written.toLocaleString("en")} points so far`);
  }
  return written;
}

/** A device's point tags, as the ingest writes them (ingest/points.ts electricalTags; no phase: the whole device). */
export const deviceTags = (device: Device): Record<string, string> => ({ site: device.site, device: device.id, kind: device.kind, building: device.building, ...(device.room ? { room: device.room } : {}) });

/**
 * Writes rollup_1m's last RECENT_MINUTES before `endMs`: each device's minute mean power is its window's, so
 * the reader's windows from rollup_1m equal the rollup's, and the minutes' kWh add up to the hour's in rollup_1h
 * (the ingest's cq_electrical_1h, rerunning over them, writes the same hour). Resolves with the points written.
 */
export async function writeRecentMinutes(campus: Campus, influx: InfluxClient, endMs: number): Promise<number> {
  let written = 0;
  for (let from = endMs - RECENT_MINUTES * MINUTE_MS; from < endMs; from += MINUTES_PER_WRITE * MINUTE_MS) {
    const points: Point[] = [];
    for (let ts = from; ts < from + MINUTES_PER_WRITE * MINUTE_MS; ts += MINUTE_MS) {
      const window = Math.floor(ts / DEMAND_WINDOW_MS) * DEMAND_WINDOW_MS;
      campus.devices.forEach((device, d) => {
        const powerW = windowPowerW(d, window);
        // W × 1 min = W / 60 Wh = W / 60,000 kWh.
        points.push({ measurement: "electrical", tags: deviceTags(device), fields: { power_w_mean: powerW, power_w_max: 1.3 * powerW, energy_delta_kwh: powerW / 60_000 }, ts });
      });
    }
    await influx.write(toLines(points), "rollup_1m");
    written += points.length;
  }
  return written;
}
