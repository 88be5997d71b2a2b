import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { foldPeaks } from "../../../api/reports/peak-queries.js";
import { type Campus, parseCampusText } from "../../../domain/campus.js";
import { localDayStart } from "../../../infra/device-energy-rollup.js";
import { dayPeaksOf, peakDayMeasurement, powerPeakQuery, rangesOutside, servedDays } from "../../../infra/peak-day-rollup.js";

const TZ = "Asia/Shanghai";
const HOUR = 3_600_000;
const WINDOW = 15 * 60_000;
const at = (iso: string) => Date.parse(iso);
const FIXTURE = readFileSync("tests/fixtures/test-campus.yaml", "utf8");
function campusOf(text: string): Campus {
  const result = parseCampusText(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.campus;
}
const campus = campusOf(FIXTURE);
const DAY1 = at("2026-11-01T00:00:00+08:00");
const DAY2 = at("2026-11-02T00:00:00+08:00");
const DAY3 = at("2026-11-03T00:00:00+08:00");

describe("the daily peak rollup's name", () => {
  it("changes with the counted devices and with a site's zone, and only with them", () => {
    const all = peakDayMeasurement(campus, "room", null);
    expect(all).toMatch(/^peak_day_room_[0-9a-f]{8}$/);
    expect(peakDayMeasurement(campus, "room", null)).toBe(all);
    expect(peakDayMeasurement(campus, "building", null)).toMatch(/^peak_day_building_[0-9a-f]{8}$/);
    expect(peakDayMeasurement(campus, "room", new Set(["brk-d1-101"]))).not.toBe(all);
    expect(peakDayMeasurement(campusOf(FIXTURE.replace("timezone: Asia/Shanghai", "timezone: Asia/Tokyo")), "room", null)).not.toBe(all);
  });
});

describe("a day's peaks from the power rollup", () => {
  it("asks max() without GROUP BY time(), so each row carries the peak window's start", () => {
    const query = powerPeakQuery("power_room_0a1b2c3d", "room", { fromMs: DAY1, toMs: DAY2 }, ["test-school"], "class-1");
    expect(query).toBe(
      `SELECT max("power_w") AS "power_w" FROM "rollup_1h"."power_room_0a1b2c3d" WHERE time >= ${DAY1}ms AND time < ${DAY2}ms AND "site" =~ /^(test-school)$/ AND "building" = 'class-1' GROUP BY "building", "room"`,
    );
  });

  it("keeps each known group's peak with its site from the campus file, and leaves out groups it does not know", () => {
    const series = [
      { name: "power_room_x", tags: { building: "dorm-1", room: "101" }, columns: ["time", "power_w"], values: [[DAY1 + 9 * HOUR, 4200.5]] },
      { name: "power_room_x", tags: { building: "nowhere", room: "1" }, columns: ["time", "power_w"], values: [[DAY1, 1]] },
      { name: "power_room_x", tags: { building: "dorm-1", room: "" }, columns: ["time", "power_w"], values: [[DAY1, 2]] },
    ];
    expect(dayPeaksOf(campus, series, "room", DAY1)).toEqual([
      { key: "dorm-1/101", tags: { site: "test-school", building: "dorm-1", room: "101" }, dayStartMs: DAY1, powerW: 4200.5, atMs: DAY1 + 9 * HOUR },
    ]);
  });
});

describe("which days the rollup serves", () => {
  it("serves the days marked complete that hold no stale hour, and leaves the rest of the range to the windows", () => {
    const served = servedDays([DAY1, DAY2, DAY3], new Set([DAY1, DAY2, DAY3]), [DAY2 + 23 * HOUR], TZ);
    expect(served).toEqual([DAY1, DAY3]);
    expect(servedDays([DAY1, DAY2], new Set([DAY2]), [], TZ)).toEqual([DAY2]);
    expect(rangesOutside({ fromMs: DAY1 - 5 * HOUR, toMs: DAY3 + 26 * HOUR }, served, TZ)).toEqual([
      { fromMs: DAY1 - 5 * HOUR, toMs: DAY1 },
      { fromMs: DAY2, toMs: DAY3 },
      { fromMs: DAY3 + 24 * HOUR, toMs: DAY3 + 26 * HOUR },
    ]);
    expect(rangesOutside({ fromMs: DAY1, toMs: DAY2 }, [DAY1], TZ)).toEqual([]);
  });

  it("folds weeks and months from the days' peaks exactly as from every window (largest, then earliest)", () => {
    const start = at("2026-10-26T00:00:00+08:00");
    const windows = fc.array(
      fc.record({ key: fc.constantFrom("b1", "b2/101"), slot: fc.integer({ min: 0, max: 40 * 96 - 1 }), powerW: fc.integer({ min: 0, max: 20 }).map((w) => w * 250) }),
      { maxLength: 300 },
    );
    fc.assert(
      fc.property(windows, fc.constantFrom("week", "month", "day") as fc.Arbitrary<"week" | "month" | "day">, (drawn, every) => {
        const all = drawn.map((w) => ({ key: w.key, atMs: start + w.slot * WINDOW, powerW: w.powerW }));
        const days = foldPeaks(all, "day", TZ, 0, Infinity).map((p) => ({ key: p.key, atMs: p.atMs, powerW: p.powerW }));
        expect(days.every((d) => localDayStart(d.atMs, TZ) <= d.atMs)).toBe(true);
        expect(foldPeaks(days, every, TZ, 0, Infinity)).toEqual(foldPeaks(all, every, TZ, 0, Infinity));
      }),
      { numRuns: 200 },
    );
  });
});
