// When schedules run (CONTRACT §10: in the site's time zone), without a clock: every instant is given.
// DST cases in America/New_York, whose clocks skip 02:00–03:00 on 2030-03-10 and pass 01:00–02:00 twice
// on 2030-11-03 (the second Sunday of March and the first of November, 15 U.S.C. §260a).
import { describe, expect, it } from "vitest";
import { nextRun, runsBetween } from "../../../domain/campus/schedule-times.js";
import type { Schedule } from "../../../domain/campus/schedules.js";

const WEEKDAYS: Schedule["days"] = ["mon", "tue", "wed", "thu", "fri"];
const EVERY_DAY: Schedule["days"] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const schedule = (at: string, days: Schedule["days"] = EVERY_DAY, extra: Partial<Schedule> = {}): Schedule => ({
  id: `at-${at.replace(":", "")}`,
  name: `at ${at}`,
  action: "switch_off",
  at,
  days,
  buildings: ["dorm-1"],
  kinds: ["breaker"],
  ...extra,
});
const utc = (text: string) => Date.parse(text);
const instants = (runs: { at: number }[]) => runs.map((r) => new Date(r.at).toISOString());

describe("schedule runs between two instants", () => {
  it("runs a weekday 23:00 in Shanghai at 15:00 UTC on each weekday, with its local date", () => {
    // 2030-01-07 is a Monday.
    const runs = runsBetween([schedule("23:00", WEEKDAYS)], "Asia/Shanghai", utc("2030-01-06T00:00:00Z"), utc("2030-01-13T00:00:00Z"));
    expect(instants(runs)).toEqual(["2030-01-07T15:00:00.000Z", "2030-01-08T15:00:00.000Z", "2030-01-09T15:00:00.000Z", "2030-01-10T15:00:00.000Z", "2030-01-11T15:00:00.000Z"]);
    expect(runs.map((r) => r.date)).toEqual(["2030-01-07", "2030-01-08", "2030-01-09", "2030-01-10", "2030-01-11"]);
  });

  it("takes the site's weekday, not UTC's: 06:00 Monday in Shanghai is Sunday 22:00 UTC", () => {
    const runs = runsBetween([schedule("06:00", ["mon"])], "Asia/Shanghai", utc("2030-01-05T00:00:00Z"), utc("2030-01-08T00:00:00Z"));
    expect(instants(runs)).toEqual(["2030-01-06T22:00:00.000Z"]);
    expect(runs[0]!.date).toBe("2030-01-07");
  });

  it("counts a run at the end of the interval and not at its start", () => {
    const at = utc("2030-01-07T15:00:00Z");
    const s = [schedule("23:00")];
    expect(runsBetween(s, "Asia/Shanghai", at - 1, at)).toHaveLength(1);
    expect(runsBetween(s, "Asia/Shanghai", at, at + 59_000)).toHaveLength(0);
    expect(runsBetween(s, "Asia/Shanghai", at, at)).toHaveLength(0);
  });

  it("runs school_days_only schedules Monday to Friday only, without a school calendar", () => {
    const runs = runsBetween([schedule("07:00", ["sat", "sun", "mon"], { school_days_only: true })], "Asia/Shanghai", utc("2030-01-04T00:00:00Z"), utc("2030-01-08T00:00:00Z"));
    expect(runs.map((r) => r.date)).toEqual(["2030-01-07"]);
  });

  it("orders runs by instant, the file's order at the same instant", () => {
    const off = schedule("23:00", EVERY_DAY, { id: "off" });
    const also = schedule("23:00", EVERY_DAY, { id: "also" });
    const early = schedule("22:00", EVERY_DAY, { id: "early" });
    const runs = runsBetween([off, also, early], "Asia/Shanghai", utc("2030-01-07T13:00:00Z"), utc("2030-01-07T16:00:00Z"));
    expect(runs.map((r) => r.schedule.id)).toEqual(["early", "off", "also"]);
  });

  it("runs a time the spring-forward night skips when the gap ends, once", () => {
    const runs = runsBetween([schedule("02:30")], "America/New_York", utc("2030-03-09T00:00:00Z"), utc("2030-03-12T00:00:00Z"));
    // 02:30 EST (UTC−5) on the 9th; 03:30 EDT (UTC−4) on the 10th, the gap's end plus 30 min; 02:30 EDT on the 11th.
    expect(instants(runs)).toEqual(["2030-03-09T07:30:00.000Z", "2030-03-10T07:30:00.000Z", "2030-03-11T06:30:00.000Z"]);
    expect(runs.map((r) => r.date)).toEqual(["2030-03-09", "2030-03-10", "2030-03-11"]);
  });

  it("runs a time the fall-back night passes twice only once, at the first", () => {
    const runs = runsBetween([schedule("01:30")], "America/New_York", utc("2030-11-03T00:00:00Z"), utc("2030-11-04T00:00:00Z"));
    expect(instants(runs)).toEqual(["2030-11-03T05:30:00.000Z"]); // 01:30 EDT; not again at 01:30 EST (06:30Z)
  });

  it("runs a daily schedule once on every date of a year with both DST changes, at any time of day", () => {
    for (const at of ["00:00", "01:30", "02:30", "12:00", "23:59"]) {
      const runs = runsBetween([schedule(at)], "America/New_York", utc("2030-01-01T05:00:00Z"), utc("2031-01-01T05:00:00Z"));
      expect(new Set(runs.map((r) => r.date)).size, at).toBe(365);
      expect(runs, at).toHaveLength(365);
    }
  });

  it("finds a schedule's next run", () => {
    const next = nextRun(schedule("23:00", ["fri"]), "Asia/Shanghai", utc("2030-01-07T15:00:00Z"));
    expect(next && new Date(next.at).toISOString()).toBe("2030-01-11T15:00:00.000Z");
  });
});
