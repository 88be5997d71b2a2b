// The ingest in a district (CONTRACT §9): every point carries its own device's site, a device time without
// zone is read in the device's own school's zone, the rollups keep `site`, and energy counter state saved
// before points carried `site` carries on.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toLine } from "../../../domain/line-protocol.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { counterKeyWithSite } from "../../../ingest/counter-keys.js";
import { DurableSink, seriesOf } from "../../../ingest/durable-sink.js";
import { readingToPoints } from "../../../ingest/points.js";
import { processMessage } from "../../../ingest/process-message.js";
import { rollupSelects } from "../../../ingest/retention.js";
import { buildRouter } from "../../../ingest/routing.js";

const campus = loadCampus(join(import.meta.dirname, "../../fixtures/district-zones/district.yaml"));
const router = buildRouter(campus);
const RAW_RETENTION_MS = 90 * 86_400_000;
const siteOf = (device: string) => campus.deviceById.get(device)?.site;
const handle = (topic: string, payload: string, receivedAt: number) => processMessage(router, topic, Buffer.from(payload), { receivedAt, maxAgeMs: RAW_RETENTION_MS });

describe("the ingest in a district", () => {
  it("tags every point with its own device's site, not the district's first", () => {
    const at = Date.parse("2026-11-29T08:00:00Z");
    const west = [
      handle("campus/devices/brk-west-main/telemetry", '{"power_w": 5, "phases": {"L1": {"current_a": 1}}}', at),
      handle("campus/devices/brk-west-main/status", "online", at),
      handle("campus/devices/brk-west-main/events", '{"type": "trip", "reason": "overload"}', at),
    ].flatMap((effects) => effects.points);
    expect(west.map((p) => [p.measurement, p.tags.site])).toEqual([
      ["electrical", "west-school"],
      ["electrical", "west-school"],
      ["device_status", "west-school"],
      ["device_event", "west-school"],
    ]);
    expect(handle("campus/devices/brk-east-main/telemetry", '{"power_w": 5}', at).points[0]!.tags.site).toBe("east-school");
  });

  it("reads the same zone-less Tasmota Time in each device's own school's zone", () => {
    const payload = '{"Time": "2026-11-29T09:00:00", "ENERGY": {"Power": 100, "Total": 1.5}}';
    // 09:00 in Shanghai (UTC+8) and in Berlin (UTC+1 in November); each received a few seconds later.
    const eastAt = Date.parse("2026-11-29T09:00:00+08:00");
    const westAt = Date.parse("2026-11-29T09:00:00+01:00");
    const east = handle("tele/tasmota_EA5701/SENSOR", payload, eastAt + 3_000);
    const west = handle("tele/tasmota_3E5701/SENSOR", payload, westAt + 3_000);
    expect([east.fallbacks, west.fallbacks]).toEqual([[], []]);
    expect(east.points.map((p) => [p.ts, p.tags.site])).toEqual([[eastAt, "east-school"]]);
    expect(west.points.map((p) => [p.ts, p.tags.site])).toEqual([[westAt, "west-school"]]);
  });

  it("keeps the site in both rollups, so energy and history work per school", () => {
    for (const { select } of rollupSelects("db").slice(0, 2)) expect(select).toMatch(/GROUP BY time\(1[mh]\), "site", "device", "kind", "building", "room"$/);
  });
});

describe("energy counter state saved before points carried `site`", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("maps a saved counter key to the key its device's series has now", () => {
    for (const id of ["brk-east-main", "plug-west-101"]) {
      const [point] = readingToPoints({ device: id, ts: 1, values: { energy_kwh: 1 } }, campus.deviceById.get(id)!);
      const now = seriesOf(toLine(point!)!);
      const before = now.replace(/,site=[a-z-]+/, "");
      expect(before).not.toBe(now);
      expect(counterKeyWithSite(before, siteOf)).toBe(now);
      expect(counterKeyWithSite(now, siteOf)).toBe(now);
    }
    expect(counterKeyWithSite("electrical,device=ghost,kind=breaker", siteOf)).toBe("electrical,device=ghost,kind=breaker");
  });

  it("gives the first reading after the upgrade its delta from the counter saved before it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "campus-counter-keys-"));
    dirs.push(dir);
    const written: string[] = [];
    const sinkOn = (counterKey?: (key: string) => string) =>
      new DurableSink({ dir, maxBytes: 1e8, batchMs: 0, write: async (lines) => void written.push(...lines.split("\n")), ...(counterKey ? { counterKey } : {}) });
    const device = campus.deviceById.get("brk-east-main")!;
    const t0 = Date.parse("2026-11-29T08:00:00Z");

    // The version before: the same point without `site`; its counter is saved at the stop.
    const before = sinkOn();
    const [old] = readingToPoints({ device: device.id, ts: t0, values: { energy_kwh: 10 } }, device);
    delete old!.tags.site;
    await before.accept([old!], "native", 1);
    await before.drained();
    await before.close(Date.now() + 2_000);

    const after = sinkOn((key) => counterKeyWithSite(key, siteOf));
    await after.accept(readingToPoints({ device: device.id, ts: t0 + 60_000, values: { energy_kwh: 10.5 } }, device), "native", 1);
    await after.drained();
    await after.close(Date.now() + 2_000);
    expect(written.at(-1)).toBe(`electrical,building=east-class,device=brk-east-main,kind=breaker,site=east-school energy_kwh=10.5,energy_delta_kwh=0.5 ${t0 + 60_000}`);
  });
});
