import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoInZone } from "../../../domain/time-zone.js";
import { changePct, periodAt, periodStart, periodsOverlapping, previousPeriod, type ReportEvery, spansOverTwoYears } from "../../../api/reports/periods.js";
import { localTimeToEpochMs, wallClock } from "../../../domain/time-zone.js";

const ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC"];
const EVERY: ReportEvery[] = ["day", "week", "month"];
const at = (text: string, zone: string) => localTimeToEpochMs(text, zone);
const HOUR = 3_600_000;

describe("report periods", () => {
  it("start at local midnight: of the day, of the ISO week's Monday, of the month's 1st", () => {
    const ms = Date.parse("2026-11-05T20:00:00Z"); // Friday 6 Nov, 04:00 in Shanghai
    expect(periodStart(ms, "day", "Asia/Shanghai")).toBe(Date.parse("2026-11-06T00:00:00+08:00"));
    expect(periodStart(ms, "week", "Asia/Shanghai")).toBe(Date.parse("2026-11-02T00:00:00+08:00"));
    expect(periodStart(ms, "month", "Asia/Shanghai")).toBe(Date.parse("2026-11-01T00:00:00+08:00"));
    expect(periodStart(ms, "day", "Europe/Berlin")).toBe(Date.parse("2026-11-05T00:00:00+01:00"));
  });

  it("hold a 23-hour and a 25-hour day whole across a daylight-saving change", () => {
    const spring = periodAt(at("2026-03-29T00:00", "Europe/Berlin"), "day", "Europe/Berlin");
    const autumn = periodAt(at("2026-10-25T00:00", "Europe/Berlin"), "day", "Europe/Berlin");
    expect((spring.endMs - spring.startMs) / HOUR).toBe(23);
    expect((autumn.endMs - autumn.startMs) / HOUR).toBe(25);
    const march = periodAt(at("2026-03-01T00:00", "Europe/Berlin"), "month", "Europe/Berlin");
    expect((march.endMs - march.startMs) / HOUR).toBe(31 * 24 - 1);
  });

  it("tile any range with whole, contiguous periods that each start at local midnight", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2030-01-01T00:00:00Z") }),
        fc.integer({ min: 1, max: 90 * 24 * HOUR }),
        fc.constantFrom(...EVERY),
        fc.constantFrom(...ZONES),
        (fromMs, spanMs, every, zone) => {
          const periods = periodsOverlapping(fromMs, fromMs + spanMs, every, zone);
          expect(periods[0]!.startMs).toBeLessThanOrEqual(fromMs);
          expect(periods.at(-1)!.endMs).toBeGreaterThanOrEqual(fromMs + spanMs);
          for (const [i, period] of periods.entries()) {
            const clock = wallClock(period.startMs, zone);
            expect([clock.hour, clock.minute]).toEqual([0, 0]);
            if (every === "week") expect(clock.weekday).toBe(1);
            if (every === "month") expect(clock.day).toBe(1);
            if (i > 0) expect(period.startMs).toBe(periods[i - 1]!.endMs);
            expect(previousPeriod(period.startMs, every, zone).endMs).toBe(period.startMs);
            expect(periodStart(period.endMs - 1, every, zone)).toBe(period.startMs);
          }
        },
      ),
    );
  });

  it("take the previous calendar month as the month before, whatever its length", () => {
    const march = at("2026-03-01T00:00", "Asia/Shanghai");
    expect(previousPeriod(march, "month", "Asia/Shanghai")).toEqual({ startMs: at("2026-02-01T00:00", "Asia/Shanghai"), endMs: march });
  });
});

describe("instants in a site's zone", () => {
  it("are ISO 8601 with the zone's offset at that instant", () => {
    expect(isoInZone(Date.parse("2026-10-31T16:00:00Z"), "Asia/Shanghai")).toBe("2026-11-01T00:00:00+08:00");
    expect(isoInZone(Date.parse("2026-07-01T10:15:00Z"), "Europe/Berlin")).toBe("2026-07-01T12:15:00+02:00");
    expect(isoInZone(Date.parse("2026-01-01T05:00:00Z"), "America/New_York")).toBe("2026-01-01T00:00:00-05:00");
    expect(isoInZone(Date.parse("2026-01-01T00:00:00Z"), "Asia/Kathmandu")).toBe("2026-01-01T05:45:00+05:45");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.parse("2099-12-31T00:00:00Z") / 1000 }), fc.constantFrom(...ZONES), (seconds, zone) => {
        expect(Date.parse(isoInZone(seconds * 1000, zone))).toBe(seconds * 1000);
      }),
    );
  });
});

describe("the change against the baseline", () => {
  it("is in per cent, null without a baseline or with a baseline of 0", () => {
    expect(changePct(150, 100)).toBe(50);
    expect(changePct(50, 200)).toBe(-75);
    expect(changePct(1, 3)).toBe(-66.67);
    expect(changePct(10, 0)).toBeNull();
    expect(changePct(10, null)).toBeNull();
  });

  it("bounds every=day to two years", () => {
    expect(spansOverTwoYears(Date.parse("2024-01-01T00:00:00Z"), Date.parse("2026-01-01T00:00:00Z"))).toBe(false);
    expect(spansOverTwoYears(Date.parse("2024-01-01T00:00:00Z"), Date.parse("2026-01-02T00:00:01Z"))).toBe(true);
  });
});
