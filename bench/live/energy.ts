// bench:live's energy part: a local influxd with 30 days of hourly rollups for 1,000 devices (as the
// ingest's continuous queries write them), then GET /api/energy over real HTTP, median of 3 after a warm-up.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import { loadCampus } from "../../infra/campus-file.js";
import { parseApiTokens } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import { InfluxClient } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { startLocalInfluxd } from "../../infra/local-influxd.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { buildingRollupSelect } from "../../api/energy-building-rollup.js";
import { TOKEN, writeCampus } from "./common.js";

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : NaN);

export async function energy() {
  for (const flat of [false, true]) await energyOn(flat);
}
/** 30 days of hourly rollups for 1,000 devices, then GET /api/energy timed (first run discarded). */
async function energyOn(flat: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "bench-energy-"));
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  try {
    const campus = loadCampus(writeCampus(dir, flat));
    const influx = new InfluxClient({ url: influxd.url, db: "bench_energy" });
    await influx.ensureDatabase();
    await influx.query(`CREATE RETENTION POLICY "rollup_1m" ON "bench_energy" DURATION 400d REPLICATION 1`);
    await influx.query(`CREATE RETENTION POLICY "rollup_1h" ON "bench_energy" DURATION INF REPLICATION 1`);
    const HOUR = 3_600_000;
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const started = Date.now();
    for (let h = 0; h < 30 * 24; h += 10) {
      const lines = [];
      for (let k = h; k < h + 10; k++) for (const d of campus.devices) lines.push({ measurement: "electrical", tags: { device: d.id, kind: d.kind, building: d.building, ...(d.room ? { room: d.room } : {}) }, fields: { energy_delta_kwh: 0.1 + (k % 24) / 100, power_w_mean: 300 }, ts: end - (k + 1) * HOUR });
      await influx.write(toLines(lines), "rollup_1h");
    }
    const shape = flat ? "flat campus: all 1,000 devices are top level and count" : "electrical tree: a main breaker per building above 49 circuits";
    console.log(`energy (${shape}): wrote ${30 * 24 * campus.devices.length} hourly rollup points in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const timed = async (label: string, queries: string[]) => {
      const app = buildApp({ campus, tokens: parseApiTokens(`viewer:${TOKEN}`), state: new LiveState(campus), influx, ack: async () => ({ ok: false, code: "X", message: "" }), probes: { mqtt: () => true, influxdb: () => true }, metrics: createRegistry(false), log: createLogger("silent") });
      await app.listen({ port: await freePort(), host: "127.0.0.1" });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const rows = [];
      for (const query of queries) {
        const times: number[] = [];
        let body: any;
        for (let i = 0; i < 4; i++) {
          const t = performance.now();
          const res = await fetch(`${url}/api/energy?${query}&from=${end - 30 * 24 * HOUR}&to=${end}`, { headers: { authorization: `Bearer ${TOKEN}` } });
          body = await res.json();
          if (i > 0) times.push(performance.now() - t); // the first run warms InfluxDB's caches
        }
        times.sort((a, b) => a - b);
        rows.push({ query: `${query}, 30 days`, source: body.source, series: body.series.length, points: body.series.reduce((n: number, s: any) => n + s.points.length, 0), total_kwh: body.total_kwh, "median ms": Math.round(pct(times, 50)), "max ms": Math.round(times.at(-1)!) });
      }
      console.log(label);
      console.table(rows);
      await app.close();
    };
    const byBuilding = ["by=building&every=1h", "by=building&every=1d", "by=building&every=1d&after_hours=false"];
    await timed("summing the counted devices (no building rollup):", [...byBuilding, "by=device&every=1d", "by=device&every=1d&after_hours=false"]);
    // What the ingest's building CQ would have written: its SELECT … INTO run once over the range (a backfill).
    const t = performance.now();
    await influx.query(buildingRollupSelect("bench_energy", campus, ` AND time >= ${end - 30 * 24 * HOUR}ms AND time < ${end}ms`));
    await timed(`with the building rollup (its 30-day backfill took ${Math.round(performance.now() - t)} ms):`, byBuilding);
  } finally {
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
