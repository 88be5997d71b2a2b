// The real-InfluxDB setup of the energy-report tests (reports-*.test.ts): points as the ingest writes them,
// the rollups filled with the ingest's own SELECT … INTO, the API on a database, and an RFC 4180 reader of
// their own to read CSV answers back.
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import type { Campus } from "../../domain/campus.js";
import { parseApiTokens } from "../../domain/env.js";
import { localTimeToEpochMs, wallClock } from "../../domain/time-zone.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { rollupSelects } from "../../ingest/retention.js";

export const WINDOW = 15 * 60_000;
export const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
export type Point = { measurement: string; tags: Record<string, string>; fields: Record<string, number>; ts: number };

/** RFC 4180 read back, written here on its own: fields in quotes may hold commas, doubled quotes and line breaks. */
export function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\r" && text[i + 1] === "\n") row.push(field), rows.push(row), (row = []), (field = ""), i++;
    else field += c;
  }
  expect(field).toBe(""); // the last line ends with CRLF too
  return rows;
}

/** `YYYY-MM` of the local month `back` months before now's, in a zone. */
export function monthBack(back: number, zone: string): string {
  const clock = wallClock(Date.now(), zone);
  const index = clock.year * 12 + clock.month - 1 - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}
export const localMs = (text: string, zone: string) => localTimeToEpochMs(text, zone);

/**
 * Three local days from the 1st of `month`, a point 7 min into every 15-minute window: the counter rising
 * `stepKwh` a window, at `powerW` (`plateau`: other power in some windows, by local time).
 */
export function series(tags: Point["tags"], zone: string, month: string, stepKwh: number, powerW: number, plateau: Record<string, number> = {}, onlyHours?: number[]): Point[] {
  const points: Point[] = [];
  const start = localMs(`${month}-01T00:00`, zone);
  let counter = 1000;
  for (let t = start; t < localMs(`${month}-04T00:00`, zone); t += WINDOW) {
    const clock = wallClock(t, zone);
    if (onlyHours && !onlyHours.includes(clock.hour)) continue;
    const label = `${String(clock.day).padStart(2, "0")}T${String(clock.hour).padStart(2, "0")}:${String(clock.minute).padStart(2, "0")}`;
    counter += stepKwh;
    points.push({ measurement: "electrical", tags, fields: { power_w: plateau[label] ?? powerW, energy_kwh: counter, energy_delta_kwh: stepKwh }, ts: t + 7 * 60_000 });
  }
  return points;
}

/** Fills the rollups (1-minute, hourly, building energy, power) a day per statement over [fromMs, toMs), as `campus-power backfill` does. */
export async function rollUp(influx: InfluxClient, campus: Campus, fromMs: number, toMs: number): Promise<void> {
  for (let day = fromMs; day < toMs; day += 86_400_000) {
    for (const { select } of rollupSelects(influx.config.db, `time >= ${day}ms AND time < ${day + 86_400_000}ms`, campus)) await influx.query(select);
  }
}

/** The API on a database, with the given API_TOKENS, ready for inject(). */
export async function appOn(campus: Campus, influx: InfluxClient, tokens: string): Promise<FastifyInstance> {
  const app = buildApp({
    campus,
    tokens: parseApiTokens(tokens),
    state: new LiveState(campus),
    influx,
    ack: async () => ({ ok: false, code: "NOT_FOUND", message: "no alerts service here" }),
    probes: { mqtt: () => true, influxdb: () => true },
    metrics: createRegistry(false),
    log: createLogger("silent"),
  });
  await app.ready();
  return app;
}
