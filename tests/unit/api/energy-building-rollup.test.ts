import { describe, expect, it } from "vitest";
import { BUILDING_ROLLUP_LAG_MS, buildingRollupContinuousQuery, buildingRollupMeasurement, buildingRollupQuery, splitAtRollupCutoff } from "../../../api/energy-building-rollup.js";
import { type Campus } from "../../../domain/campus.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { countedDevices } from "../../../infra/energy-rollup.js";

const HOUR = 3_600_000;
const campus = loadCampus("tests/fixtures/test-campus.yaml");

describe("the building energy rollup", () => {
  it("names its measurement after the counted devices, so another electrical tree reads another measurement", () => {
    const name = buildingRollupMeasurement(campus);
    expect(name).toMatch(/^energy_building_[0-9a-f]{8}$/);
    expect(buildingRollupMeasurement(campus)).toBe(name);
    const flattened = { ...campus, devices: campus.devices.map((d) => ({ ...d, parent: null })) } as Campus;
    flattened.deviceById = new Map(flattened.devices.map((d) => [d.id, d]));
    expect(buildingRollupMeasurement(flattened)).not.toBe(name);
  });

  it("gives the continuous query that sums only each building's root devices per hour", () => {
    const { name, text } = buildingRollupContinuousQuery("campus", campus);
    expect(name).toBe(`cq_${buildingRollupMeasurement(campus)}`);
    expect(text).toBe(
      `CREATE CONTINUOUS QUERY "${name}" ON "campus" RESAMPLE EVERY 15m FOR 3h BEGIN ` +
        `SELECT sum("energy_delta_kwh") AS "energy_delta_kwh" INTO "campus"."rollup_1h"."${buildingRollupMeasurement(campus)}" ` +
        `FROM "campus"."rollup_1h"."electrical" WHERE "device" =~ /^(brk-c1-main|feeder-d1)$/ GROUP BY time(1h), "site", "building" END`,
    );
  });

  it("counts each branch's topmost device that reports energy, so a root without a counter passes its place down", () => {
    const ids = (reporting: string[] | null, by: "building" | "room" = "building") => countedDevices(campus, by, reporting && new Set(reporting)).map((d) => d.id);
    // Nothing known (no InfluxDB yet, or nothing stored): every device counts as reporting, i.e. the roots.
    expect(ids(null)).toEqual(["feeder-d1", "brk-c1-main"]);
    expect(ids([])).toEqual(["feeder-d1", "brk-c1-main"]);
    // feeder-d1 and brk-d1-main without counters: dorm-1 is its room breakers; the socket below brk-d1-101 is inside it.
    expect(ids(["brk-d1-101", "brk-d1-102", "plug-d1-101-a", "brk-c1-main"])).toEqual(["brk-d1-101", "brk-d1-102", "brk-c1-main"]);
    expect(ids(["plug-d1-101-a", "brk-d1-102"])).toEqual(["brk-d1-102", "plug-d1-101-a"]);
    // A room's own topmost counter, likewise.
    expect(ids(["plug-d1-101-a", "brk-d1-102"], "room")).toEqual(["brk-d1-102", "plug-d1-101-a"]);
    // The building rollup is named after what it sums.
    expect(buildingRollupMeasurement(campus, new Set(["brk-d1-101", "brk-d1-102"]))).not.toBe(buildingRollupMeasurement(campus));
  });

  it("serves the hours older than its lag and leaves the newest to the devices", () => {
    const now = 100 * HOUR + 20 * 60_000;
    const cutoff = Math.floor((now - BUILDING_ROLLUP_LAG_MS) / HOUR) * HOUR;
    expect(splitAtRollupCutoff({ fromMs: 10 * HOUR, toMs: now }, now)).toEqual({ rollup: { fromMs: 10 * HOUR, toMs: cutoff }, rest: { fromMs: cutoff, toMs: now } });
    expect(splitAtRollupCutoff({ fromMs: 10 * HOUR, toMs: 20 * HOUR }, now)).toEqual({ rollup: { fromMs: 10 * HOUR, toMs: 20 * HOUR }, rest: null });
    expect(splitAtRollupCutoff({ fromMs: 99 * HOUR, toMs: now }, now)).toEqual({ rollup: null, rest: { fromMs: 99 * HOUR, toMs: now } });
  });

  it("queries the rollup per bucket and building, narrowed to one building on request", () => {
    const q = buildingRollupQuery("energy_building_0123abcd", { fromMs: 0, toMs: 7_200_000, groupBy: "time(1h)" }, "dorm-1");
    expect(q).toBe(`SELECT sum("energy_delta_kwh") AS "kwh" FROM "rollup_1h"."energy_building_0123abcd" WHERE time >= 0ms AND time < 7200000ms AND "building" = 'dorm-1' GROUP BY time(1h), "building" fill(none)`);
  });
});
