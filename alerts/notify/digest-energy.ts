// A school's energy over a span, kWh, for its daily digest: the sum of the ingest's `energy_delta_kwh`
// (positive counter deltas: a reset is a new cycle, never negative consumption; CONTRACT §5 "Energy") of the
// devices that make up its buildings' energy (each branch's topmost device reporting a counter:
// infra/energy-rollup.ts countedDevices, the API's rule too, so the digest and the dashboard agree).
// Whole hours the hourly rollup holds complete (rollup_1h, trusted an hour after they end: infra/energy-rollup.ts
// ROLLUPS; late points are rolled up again by the ingest within seconds) come from it, the rest from raw points;
// without rollup_1h (InfluxDB 2.x/3.x have no continuous queries), everything from raw points.
import type { Campus } from "../../domain/campus.js";
import { countedDevices, HOUR_MS, readEnergyReporters, ROLLUPS } from "../../infra/energy-rollup.js";
import { type InfluxClient, quoteIdentifier } from "../../infra/influx.js";

const HOURLY = ROLLUPS[0];
const RAW = `"electrical"`;

/** kWh of the counted devices in [fromMs, toMs) of one source; null when it holds no point there. */
async function sumKwh(influx: InfluxClient, from: string, devices: readonly string[], fromMs: number, toMs: number): Promise<number | null> {
  if (toMs <= fromMs) return null;
  // Device ids are [a-z0-9-] (CONTRACT §2): nothing to escape in the regex.
  const query = `SELECT sum("energy_delta_kwh") AS "kwh" FROM ${from} WHERE time >= ${Math.floor(fromMs)}ms AND time < ${Math.ceil(toMs)}ms AND "device" =~ /^(${devices.join("|")})$/`;
  const series = await influx.query(query);
  const value = series[0]?.values[0]?.[series[0].columns.indexOf("kwh")];
  return typeof value === "number" ? value : null;
}

/** The site's kWh in each span [from, to), at `now`; null for a span without any energy point. */
export async function readSiteKwh(influx: InfluxClient, site: Campus, spans: readonly { fromMs: number; toMs: number }[], now: number): Promise<(number | null)[]> {
  const devices = countedDevices(site, "building", await readEnergyReporters(influx)).map((d) => d.id);
  if (devices.length === 0) return spans.map(() => null);
  const rollup = `${quoteIdentifier(influx.config.db)}.${quoteIdentifier(HOURLY.rp)}."electrical"`;
  const cutoff = Math.floor((now - HOURLY.lagMs) / HOUR_MS) * HOUR_MS;
  const add = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);
  return Promise.all(
    spans.map(async ({ fromMs, toMs }) => {
      // The rollup's whole hours inside the span (a midnight at +05:30 is not on the hour), raw points around them.
      const hoursFrom = Math.min(toMs, Math.ceil(fromMs / HOUR_MS) * HOUR_MS);
      const hoursTo = Math.max(hoursFrom, Math.min(cutoff, Math.floor(toMs / HOUR_MS) * HOUR_MS));
      // A missing rollup_1h is an InfluxDB error ("retention policy not found"): then raw points for all.
      const rolled = await sumKwh(influx, rollup, devices, hoursFrom, hoursTo).then((kwh) => ({ ok: true as const, kwh }), () => ({ ok: false as const, kwh: null }));
      if (!rolled.ok) return sumKwh(influx, RAW, devices, fromMs, toMs);
      const [before, after] = await Promise.all([sumKwh(influx, RAW, devices, fromMs, hoursFrom), sumKwh(influx, RAW, devices, hoursTo, toMs)]);
      return add(add(before, rolled.kwh), after);
    }),
  );
}
