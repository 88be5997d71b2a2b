// Which devices the peak-demand rollups sum, and under which name (infra/power-rollup.ts), on the test campus:
// dorm-1 is fed by feeder-d1 → brk-d1-main → the room breakers brk-d1-101 (with plug-d1-101-a below) and brk-d1-102.
import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { powerRollupContinuousQuery, powerRollupDevices, powerRollupMeasurement, powerRollupSelect } from "../../../infra/power-rollup.js";
import { rollupSelects } from "../../../ingest/retention.js";

const campus = loadCampus("tests/fixtures/test-campus.yaml");
const ids = (by: "building" | "room", reporting: ReadonlySet<string> | null) => powerRollupDevices(campus, by, reporting).map((d) => d.id);

describe("the peak-demand rollups", () => {
  it("sum each branch's topmost device that reports power: a feeder without it passes its place down", () => {
    expect(ids("building", null)).toEqual(["brk-c1-main", "feeder-d1"]);
    const withoutFeeder = new Set(["brk-d1-main", "brk-d1-101", "brk-d1-102", "plug-d1-101-a", "brk-c1-main"]);
    expect(ids("building", withoutFeeder)).toEqual(["brk-c1-main", "brk-d1-main"]);
    expect(ids("room", withoutFeeder)).toEqual(["brk-d1-101", "brk-d1-102"]);
    expect(ids("room", new Set(["plug-d1-101-a", "brk-d1-102"]))).toEqual(["brk-d1-102", "plug-d1-101-a"]);
  });

  it("are named after the devices they sum, so another set is another rollup", () => {
    const all = powerRollupMeasurement(campus, "building", null);
    expect(all).toMatch(/^power_building_[0-9a-f]{8}$/);
    expect(powerRollupMeasurement(campus, "building", new Set(["brk-d1-main", "brk-c1-main"]))).not.toBe(all);
    expect(powerRollupContinuousQuery("db", campus, "building", null)).toMatchObject({ name: `cq_${all}` });
    expect(powerRollupContinuousQuery("db", campus, "room", null).text).toMatch(/RESAMPLE EVERY 15m FOR 1h BEGIN SELECT sum\("power_w"\) AS "power_w" INTO "db"\."rollup_1h"\."power_room_[0-9a-f]{8}" FROM \(SELECT mean/);
  });

  it("take each device's mean over the window before summing, narrowed inside the subquery", () => {
    const select = powerRollupSelect("db", campus, "building", null, `time >= 0ms AND "building" =~ /^(dorm-1)$/`);
    expect(select).toContain(`FROM (SELECT mean("power_w_mean") AS "power_w" FROM "db"."rollup_1m"."electrical" WHERE "device" =~ /^(brk-c1-main|feeder-d1)$/ AND time >= 0ms AND "building" =~ /^(dorm-1)$/ GROUP BY time(15m), "site", "building", "device")`);
    expect(select).toMatch(/\) GROUP BY time\(15m\), "site", "building"$/);
    // The ingest's catch-up and backfills run them after the 1-minute rollup they read, with the buildings touched.
    const names = rollupSelects("db", "time >= 0ms", campus, { buildings: ["dorm-1"] }).map((s) => s.name);
    expect(names.slice(0, 2)).toEqual(["cq_electrical_1m", "cq_electrical_1h"]);
    expect(names.slice(3)).toEqual([`cq_${powerRollupMeasurement(campus, "building", null)}`, `cq_${powerRollupMeasurement(campus, "room", null)}`]);
    expect(rollupSelects("db", "time >= 0ms", campus, { buildings: ["dorm-1"] })[3]!.select).toContain(`AND time >= 0ms AND "building" =~ /^(dorm-1)$/ GROUP BY time(15m)`);
  });
});
