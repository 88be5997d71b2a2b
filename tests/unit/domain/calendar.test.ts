// The school calendar's one question (CONTRACT §11): is a local date a school day? Examples from the demo
// school year (config/demo-campus.yaml), then properties over random calendars and dates (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isMakeUpWorkday, isSchoolDay, localDateOf, type SchoolCalendar, timetableWeekday, weekdayOf } from "../../../domain/calendar.js";
import { DEMO_CAMPUS_FILE } from "../../../domain/env.js";
import { loadCampus } from "../../../infra/campus-file.js";

/** The demo school year, as its campus file writes it. */
const demo = loadCampus(DEMO_CAMPUS_FILE).calendar!;

describe("school days of the demo school year", () => {
  it("reads the demo campus file's calendar, single-day holidays as one-day ranges", () => {
    expect(demo.terms.map((t) => [t.from, t.to])).toEqual([["2026-09-01", "2027-01-22"], ["2027-02-22", "2027-07-09"]]);
    expect(demo.holidays).toContainEqual({ from: "2026-09-25", to: "2026-09-25" });
    expect(demo.holidays).toContainEqual({ from: "2026-10-01", to: "2026-10-07" });
    expect(demo.workdays).toEqual(["2026-09-20", "2026-10-10", "2027-05-08"]);
  });

  it("makes a weekday of a term a school day, and a weekend day none", () => {
    expect(isSchoolDay(demo, "2026-12-07")).toBe(true); // Monday
    expect(isSchoolDay(demo, "2026-12-11")).toBe(true); // Friday
    expect(isSchoolDay(demo, "2026-12-12")).toBe(false); // Saturday
    expect(isSchoolDay(demo, "2026-12-13")).toBe(false); // Sunday
  });

  it("makes every day of the National Day holiday no school day, and its make-up Sunday and Saturday school days", () => {
    for (let day = 1; day <= 7; day++) expect(isSchoolDay(demo, `2026-10-0${day}`), `2026-10-0${day}`).toBe(false);
    expect(isSchoolDay(demo, "2026-10-08")).toBe(true); // Thursday after the holiday
    expect(isSchoolDay(demo, "2026-09-20")).toBe(true); // Sunday worked
    expect(isSchoolDay(demo, "2026-10-10")).toBe(true); // Saturday worked
    expect(isSchoolDay(demo, "2026-09-25")).toBe(false); // Mid-Autumn, a Friday
  });

  it("makes the winter and summer vacations, between and after the terms, no school days", () => {
    expect(isSchoolDay(demo, "2026-08-31")).toBe(false); // Monday before the autumn term
    expect(isSchoolDay(demo, "2026-09-01")).toBe(true); // first day, a Tuesday
    expect(isSchoolDay(demo, "2027-01-22")).toBe(true); // last day of the autumn term, a Friday
    expect(isSchoolDay(demo, "2027-01-25")).toBe(false); // winter vacation, a Monday
    expect(isSchoolDay(demo, "2027-02-22")).toBe(true); // spring term, a Monday
    expect(isSchoolDay(demo, "2027-07-12")).toBe(false); // summer vacation, a Monday
  });

  it("keeps Monday to Friday without a calendar, as before CONTRACT §11", () => {
    expect(isSchoolDay(null, "2026-10-01")).toBe(true); // a Thursday: no holiday without a calendar
    expect(isSchoolDay(null, "2027-07-12")).toBe(true);
    expect(isSchoolDay(null, "2026-10-10")).toBe(false); // a Saturday
    expect(isMakeUpWorkday(null, "2026-10-10")).toBe(false);
  });

  it("gives a make-up workday a Monday's timetable, any other day its own weekday", () => {
    expect(isMakeUpWorkday(demo, "2026-09-20")).toBe(true);
    expect(timetableWeekday(demo, "2026-09-20")).toBe(1);
    expect(timetableWeekday(demo, "2026-09-27")).toBe(0); // an ordinary Sunday
    expect(timetableWeekday(demo, "2026-10-01")).toBe(4); // a holiday keeps its weekday (it is no school day anyway)
  });
});

describe("local dates", () => {
  it("gives the date an instant falls on in the site's zone", () => {
    // 16:30 UTC on 30 September is 00:30 on 1 October in Shanghai (UTC+8).
    expect(localDateOf(Date.parse("2026-09-30T16:30:00Z"), "Asia/Shanghai")).toBe("2026-10-01");
    expect(localDateOf(Date.parse("2026-09-30T16:30:00Z"), "Europe/Berlin")).toBe("2026-09-30");
    expect(weekdayOf("2026-10-01")).toBe(4); // a Thursday
  });
});

// Random calendars: terms and holidays within a few years, dates as day numbers from 2024-01-01.
const DAY_MS = 86_400_000;
const ORIGIN = Date.UTC(2024, 0, 1);
const dateOf = (dayNumber: number) => new Date(ORIGIN + dayNumber * DAY_MS).toISOString().slice(0, 10);
const dayNumber = fc.integer({ min: 0, max: 3 * 365 });
const range = fc.tuple(dayNumber, fc.integer({ min: 0, max: 200 })).map(([from, length]) => ({ from: dateOf(from), to: dateOf(from + length) }));
const calendar: fc.Arbitrary<SchoolCalendar> = fc.record({
  terms: fc.array(range.map((r) => ({ name: "term", ...r })), { minLength: 1, maxLength: 3 }),
  holidays: fc.array(range, { maxLength: 6 }),
  workdays: fc.array(dayNumber.map(dateOf), { maxLength: 6 }),
});
const date = dayNumber.map(dateOf);
const within = (d: string, r: { from: string; to: string }) => d >= r.from && d <= r.to;

describe("school days, as properties", () => {
  it("never makes a holiday a school day, even a listed workday", () => {
    fc.assert(
      fc.property(calendar, fc.nat(), fc.nat(), (cal, i, offset) => {
        fc.pre(cal.holidays.length > 0);
        const holiday = cal.holidays[i % cal.holidays.length]!;
        const span = (Date.parse(holiday.to) - Date.parse(holiday.from)) / DAY_MS;
        const day = new Date(Date.parse(holiday.from) + (offset % (span + 1)) * DAY_MS).toISOString().slice(0, 10);
        return !isSchoolDay({ ...cal, workdays: [...cal.workdays, day] }, day);
      }),
    );
  });

  it("makes a Monday–Friday inside a term and in no holiday a school day", () => {
    fc.assert(
      fc.property(calendar, date, (cal, day) => {
        const weekday = weekdayOf(day);
        fc.pre(weekday >= 1 && weekday <= 5 && cal.terms.some((t) => within(day, t)) && !cal.holidays.some((h) => within(day, h)));
        return isSchoolDay(cal, day);
      }),
    );
  });

  it("never makes a day outside every term a school day", () => {
    fc.assert(
      fc.property(calendar, date, (cal, day) => {
        fc.pre(!cal.terms.some((t) => within(day, t)));
        return !isSchoolDay({ ...cal, workdays: [...cal.workdays, day] }, day);
      }),
    );
  });

  it("makes a Saturday or Sunday a school day exactly when it is a listed workday in a term and no holiday", () => {
    fc.assert(
      fc.property(calendar, date, fc.boolean(), (cal, day, listed) => {
        fc.pre(weekdayOf(day) === 0 || weekdayOf(day) === 6);
        const withDay = { ...cal, workdays: listed ? [...cal.workdays, day] : cal.workdays.filter((w) => w !== day) };
        const expected = listed && cal.terms.some((t) => within(day, t)) && !cal.holidays.some((h) => within(day, h));
        return isSchoolDay(withDay, day) === expected;
      }),
    );
  });
});
