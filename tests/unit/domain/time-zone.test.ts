import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ISO_WITH_ZONE, localTimeToEpochMs, wallClock, zoneOffsetMs } from "../../../domain/time-zone.js";

const utc = (iso: string) => Date.parse(iso);

describe("local time without zone, read in the site's zone", () => {
  it("reads Asia/Shanghai as UTC+8 all year, with no daylight saving", () => {
    expect(localTimeToEpochMs("2023-05-19T20:52:56", "Asia/Shanghai")).toBe(utc("2023-05-19T12:52:56Z"));
    expect(localTimeToEpochMs("2023-01-15T08:00:00", "Asia/Shanghai")).toBe(utc("2023-01-15T00:00:00Z"));
    expect(localTimeToEpochMs("2023-03-12T02:30:00", "Asia/Shanghai")).toBe(utc("2023-03-11T18:30:00Z"));
  });

  it("crosses midnight and keeps milliseconds", () => {
    expect(localTimeToEpochMs("2024-01-01T07:59:59.250", "Asia/Shanghai")).toBe(utc("2023-12-31T23:59:59.250Z"));
    expect(localTimeToEpochMs("2024-02-29T00:00", "Asia/Shanghai")).toBe(utc("2024-02-28T16:00:00Z"));
  });

  it("uses summer and winter offsets in a zone with daylight saving", () => {
    expect(localTimeToEpochMs("2023-07-01T14:00:00", "Europe/Berlin")).toBe(utc("2023-07-01T12:00:00Z"));
    expect(localTimeToEpochMs("2023-01-01T14:00:00", "Europe/Berlin")).toBe(utc("2023-01-01T13:00:00Z"));
    expect(localTimeToEpochMs("2023-07-01T14:00:00", "America/New_York")).toBe(utc("2023-07-01T18:00:00Z"));
  });

  it("moves a time in the skipped spring hour forward by the gap, like Temporal's compatible mode", () => {
    // Berlin 2023-03-26 02:00 CET → 03:00 CEST; 02:30 does not exist and becomes 03:30 CEST.
    expect(localTimeToEpochMs("2023-03-26T02:30:00", "Europe/Berlin")).toBe(utc("2023-03-26T01:30:00Z"));
    // New York 2023-03-12 02:00 EST → 03:00 EDT.
    expect(localTimeToEpochMs("2023-03-12T02:30:00", "America/New_York")).toBe(utc("2023-03-12T07:30:00Z"));
  });

  it("takes the earlier instant for a time in the repeated autumn hour", () => {
    // Berlin 2023-10-29 03:00 CEST → 02:00 CET; 02:30 happens twice, first at 00:30Z.
    expect(localTimeToEpochMs("2023-10-29T02:30:00", "Europe/Berlin")).toBe(utc("2023-10-29T00:30:00Z"));
    expect(localTimeToEpochMs("2023-11-05T01:30:00", "America/New_York")).toBe(utc("2023-11-05T05:30:00Z"));
  });

  it("is exact just around a change of offset", () => {
    expect(localTimeToEpochMs("2023-03-26T01:59:59", "Europe/Berlin")).toBe(utc("2023-03-26T00:59:59Z"));
    expect(localTimeToEpochMs("2023-03-26T03:00:00", "Europe/Berlin")).toBe(utc("2023-03-26T01:00:00Z"));
  });

  it("handles a half-hour daylight saving shift", () => {
    // Lord Howe Island: UTC+10:30 in winter, +11 in summer.
    expect(localTimeToEpochMs("2023-07-01T12:00:00", "Australia/Lord_Howe")).toBe(utc("2023-07-01T01:30:00Z"));
    expect(localTimeToEpochMs("2023-01-01T12:00:00", "Australia/Lord_Howe")).toBe(utc("2023-01-01T01:00:00Z"));
  });

  it("answers NaN for text that is not a zone-less date and time", () => {
    for (const text of ["2023-05-19T20:52:56+08:00", "2023-05-19", "yesterday", "2023-02-30T10:00:00", "2023-13-01T10:00:00", "2023-05-19T24:00:00"]) {
      expect(localTimeToEpochMs(text, "Asia/Shanghai"), text).toBeNaN();
    }
  });

  it("reports a zone's offset at an instant", () => {
    expect(zoneOffsetMs(utc("2023-05-19T12:00:00Z"), "Asia/Shanghai")).toBe(8 * 3_600_000);
    expect(zoneOffsetMs(utc("2023-01-19T12:00:00.999Z"), "America/New_York")).toBe(-5 * 3_600_000);
  });

  it("knows the offset of a zone at an instant, daylight saving included", () => {
    expect(zoneOffsetMs(Date.parse("2026-11-29T00:00:00Z"), "Asia/Shanghai")).toBe(8 * 3_600_000);
    expect(zoneOffsetMs(0, "Asia/Kolkata")).toBe(5.5 * 3_600_000);
    expect(zoneOffsetMs(Date.parse("2026-07-01T00:00:00Z"), "Europe/Berlin")).toBe(2 * 3_600_000);
    expect(zoneOffsetMs(0, "UTC")).toBe(0);
  });
});

describe("the wall clock of an instant in a zone", () => {
  it("gives the local date, time and weekday", () => {
    // 2026-11-28T16:30:15Z is Sunday 00:30:15 on 29 November in Asia/Shanghai.
    expect(wallClock(utc("2026-11-28T16:30:15.900Z"), "Asia/Shanghai")).toEqual({ year: 2026, month: 11, day: 29, hour: 0, minute: 30, second: 15, weekday: 0 });
    expect(wallClock(utc("2026-11-28T16:30:15Z"), "UTC")).toMatchObject({ day: 28, hour: 16, weekday: 6 });
  });
});

describe("ISO 8601 with an explicit zone", () => {
  it("accepts Z and numeric offsets and refuses a zone-less time", () => {
    for (const text of ["2026-11-29T08:00:00+08:00", "2026-11-29T00:00:00.500Z", "2026-11-29T08:00+0800"]) expect(ISO_WITH_ZONE.test(text), text).toBe(true);
    for (const text of ["2026-11-29T08:00:00", "2026-11-29", "yesterday"]) expect(ISO_WITH_ZONE.test(text), text).toBe(false);
  });
});

describe("the wall clock, from an offset cached per minute", () => {
  // The oracle is Intl itself, field by field, for any instant: the cache must never change an answer.
  const ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Africa/Monrovia", "UTC"];
  const oracle = (epochMs: number, timeZone: string) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", weekday: "short" })
        .formatToParts(epochMs)
        .map((p) => [p.type, p.value]),
    );
    const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday!);
    return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second), weekday };
  };

  it("agrees with Intl at random instants from 1960 to 2100 in zones with DST, 45- and 30-minute offsets", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1960, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.constantFrom(...ZONES), (epochMs, zone) => {
        expect(wallClock(epochMs, zone)).toEqual(oracle(epochMs, zone));
      }),
      { numRuns: 5_000 },
    );
  });

  it("agrees with Intl on every second around daylight-saving changes, whichever minute was asked first", () => {
    // Berlin 2024-03-31 01:00Z (+1 → +2), New York 2024-11-03 06:00Z (−4 → −5), Lord Howe 2024-04-06 15:00Z (+11 → +10:30).
    for (const [zone, iso] of [["Europe/Berlin", "2024-03-31T01:00:00Z"], ["America/New_York", "2024-11-03T06:00:00Z"], ["Australia/Lord_Howe", "2024-04-06T15:00:00Z"]] as const) {
      const change = Date.parse(iso);
      for (let t = change + 90_000; t >= change - 90_000; t -= 1_000) expect(wallClock(t + 999, zone)).toEqual(oracle(t + 999, zone));
    }
  });
});
