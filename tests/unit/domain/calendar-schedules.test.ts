// School-days schedules follow the site's school calendar (CONTRACT §10 `school_days_only`, §11): not on a
// holiday or in a vacation, on a make-up workday as on a Monday; other schedules keep their weekdays.
import { describe, expect, it } from "vitest";
import type { SchoolCalendar } from "../../../domain/calendar.js";
import { nextRun, runsBetween } from "../../../domain/campus/schedule-times.js";
import type { Schedule } from "../../../domain/campus/schedules.js";

const TZ = "Asia/Shanghai";
const local = (iso: string) => Date.parse(`${iso}+08:00`);

/** The demo school year's autumn around National Day 2026 and its winter break. */
const calendar: SchoolCalendar = {
  terms: [
    { name: "autumn", from: "2026-09-01", to: "2027-01-22" },
    { name: "spring", from: "2027-02-22", to: "2027-07-09" },
  ],
  holidays: [{ from: "2026-10-01", to: "2026-10-07" }],
  workdays: ["2026-09-20", "2026-10-10"],
};

const lightsOut = (extra: Partial<Schedule> = {}): Schedule => ({
  id: "lights-out",
  name: "Lights out",
  action: "switch_off",
  at: "23:00",
  days: ["mon", "tue", "wed", "thu", "fri"],
  buildings: ["dorm-1"],
  kinds: ["breaker"],
  school_days_only: true,
  ...extra,
});

const datesOf = (schedule: Schedule, from: string, to: string, cal: SchoolCalendar | null) => runsBetween([schedule], TZ, local(from), local(to), cal).map((r) => r.date);

describe("school-days schedules and the calendar", () => {
  it("skips the National Day holiday and runs on its make-up Saturday", () => {
    expect(datesOf(lightsOut(), "2026-09-27T00:00:00", "2026-10-12T00:00:00", calendar)).toEqual(["2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10"]);
  });

  it("runs on a make-up Sunday only when it runs on Mondays", () => {
    expect(datesOf(lightsOut(), "2026-09-20T00:00:00", "2026-09-21T00:00:00", calendar)).toEqual(["2026-09-20"]);
    expect(datesOf(lightsOut({ days: ["tue"] }), "2026-09-20T00:00:00", "2026-09-21T00:00:00", calendar)).toEqual([]);
  });

  it("keeps running Monday to Friday without a calendar, holiday or not", () => {
    expect(datesOf(lightsOut(), "2026-09-27T00:00:00", "2026-10-12T00:00:00", null)).toEqual([
      "2026-09-28", "2026-09-29", "2026-09-30", "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08", "2026-10-09",
    ]);
  });

  it("leaves a schedule that is not school-days-only on its weekdays, calendar or not", () => {
    const everyWeekday = lightsOut({ school_days_only: false });
    expect(datesOf(everyWeekday, "2026-10-01T00:00:00", "2026-10-11T00:00:00", calendar)).toEqual(["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08", "2026-10-09"]);
  });

  it("finds the next run after the winter vacation, a month ahead", () => {
    // The last school day of the autumn term is Friday 2027-01-22; the spring term starts Monday 2027-02-22.
    expect(nextRun(lightsOut(), TZ, local("2027-01-22T23:30:00"), calendar)).toMatchObject({ date: "2027-02-22", at: local("2027-02-22T23:00:00") });
    expect(nextRun(lightsOut(), TZ, local("2027-07-09T23:30:00"), calendar)).toBeNull(); // past the calendar's last term
    expect(nextRun(lightsOut(), TZ, local("2027-01-22T23:30:00"), null)?.date).toBe("2027-01-25"); // without a calendar: the Monday
  });
});
