// bench:district's figures read from the outside, as an operator would: readings counted in InfluxDB, the
// API timed with a district admin's token, and what a number of connections costs `up` in descriptors.
import { InfluxClient, rows } from "../../infra/influx.js";
import { waitFor } from "../../tests/helpers/wait.js";
import { maxOf, newHistogram, quantile, record } from "../live/common.js";
import { openFilesLimit, sampleProcess } from "./processes.js";

/**
 * Readings stored: points of `electrical` without a `phase` tag (a 3-phase meter's reading is one such
 * point plus one per phase, CONTRACT §4; InfluxQL matches a missing tag as ''). Every reading has voltage_v.
 */
export async function storedReadings(influx: InfluxClient): Promise<number> {
  return Number(rows(await influx.query("SELECT count(voltage_v) FROM electrical WHERE phase = ''"))[0]?.count ?? 0);
}

export const influxClient = (url: string, db: string) => new InfluxClient({ url, db, timeoutMs: 60_000 });

/** Readings stored once InfluxDB has them all (`expected`), or once the count has not moved for 30 s (≤ 5 min). */
export async function settledReadings(influx: InfluxClient, expected: number): Promise<number> {
  let stored = 0;
  let changedAt = Date.now();
  await waitFor(async () => {
    const now = await storedReadings(influx);
    if (now !== stored) ((stored = now), (changedAt = Date.now()));
    return stored >= expected || Date.now() - changedAt > 30_000;
  }, 300_000, 2_000);
  return stored;
}

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Size of the last answer, bytes. */
  bytes: number;
}

/** A request that takes longer than this fails the bench rather than hang it, ms. */
const REQUEST_LIMIT_MS = 60_000;

/** `requests` GETs of `url` one after another (as one dashboard or script would), timed to the last byte. */
export async function timeRequests(url: string, token: string, requests: number): Promise<Latency> {
  const histogram = newHistogram();
  let bytes = 0;
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
    const body = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${Buffer.from(body).toString().slice(0, 200)}`);
    record(histogram, performance.now() - started);
    bytes = body.byteLength;
  }
  return { p50Ms: quantile(histogram, 0.5), p99Ms: quantile(histogram, 0.99), maxMs: maxOf(histogram), bytes };
}

/** Devices online in the district, summed over GET /api/sites; 0 while the API does not answer within 5 s. */
export async function devicesOnline(httpUrl: string, token: string): Promise<number> {
  try {
    const response = await fetch(`${httpUrl}/api/sites`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    const sites = (await response.json()) as { devices_online: number }[];
    return sites.reduce((total, site) => total + site.devices_online, 0);
  } catch {
    return 0;
  }
}

/** Descriptors `up` may still open for devices: its open-files limit, less what it holds idle, less a reserve. */
export interface Capacity {
  limit: number;
  idle: number;
  reserve: number;
  connections: number;
}

/**
 * The broker holds one descriptor per device connection, in the same process as everything else `up` opens
 * (listeners, the services' own MQTT connections, InfluxDB's HTTP connections, spool files). `reserve` is left
 * for what opens later: API and dashboard requests, more InfluxDB connections under load, spool segments.
 */
export function connectionCapacity(pid: number, reserve: number): Capacity {
  const limit = openFilesLimit(pid);
  const idle = sampleProcess(pid).fds;
  return { limit, idle, reserve, connections: Math.max(0, limit - idle - reserve) };
}
