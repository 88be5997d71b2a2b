import { describe, expect, it } from "vitest";
import { ApiError } from "../../../api/errors.js";
import { bucketStart, groupByTime, offsetChanges, parseEvery, parseInstant, resolveRange, partsInZone } from "../../../api/time.js";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as ApiError).code;
  }
  return null;
};

describe("time parsing", () => {
  it("reads ISO 8601 with an offset and epoch milliseconds", () => {
    expect(parseInstant("2026-11-29T08:00:00+08:00")).toBe(Date.parse("2026-11-29T00:00:00Z"));
    expect(parseInstant("2026-11-29T00:00:00.500Z")).toBe(Date.parse("2026-11-29T00:00:00.500Z"));
    expect(parseInstant("1764374400000")).toBe(1764374400000);
  });

  it("refuses a time without a zone or words", () => {
    expect(parseInstant("2026-11-29T08:00:00")).toBeNull();
    expect(parseInstant("yesterday")).toBeNull();
  });

  it("defaults to the 24 hours before now and refuses from after to", () => {
    expect(resolveRange({}, 100_000_000)).toEqual({ fromMs: 100_000_000 - 86_400_000, toMs: 100_000_000 });
    expect(resolveRange({ to: "5000000" }, 0)).toEqual({ fromMs: 5_000_000 - 86_400_000, toMs: 5_000_000 });
    expect(code(() => resolveRange({ from: "10", to: "5" }, 0))).toBe("BAD_TIME");
    expect(code(() => resolveRange({ from: "noon" }, 0))).toBe("BAD_TIME");
  });
});

describe("every and the site's time zone", () => {
  it("accepts the contract's durations and says 1mo is not supported yet", () => {
    expect(parseEvery("15m")).toBe("15m");
    expect(code(() => parseEvery("1mo"))).toBe("NOT_SUPPORTED");
    expect(code(() => parseEvery("2m"))).toBe("VALIDATION_FAILED");
    // Names every object inherits are not durations (every=constructor was a 500).
    for (const inherited of ["constructor", "toString", "__proto__", "hasOwnProperty"]) expect(code(() => parseEvery(inherited))).toBe("VALIDATION_FAILED");
  });

  it("shifts daily buckets to local midnight in InfluxQL", () => {
    expect(groupByTime("1d", "Asia/Shanghai", 0)).toBe("time(1d, 960m)"); // 16:00Z = 00:00 +08:00
    expect(groupByTime("1d", "UTC", 0)).toBe("time(1d)");
    expect(groupByTime("1h", "Asia/Shanghai", 0)).toBe("time(1h)");
    expect(groupByTime("1h", "Asia/Kolkata", 0)).toBe("time(1h, 30m)");
    expect(groupByTime("1m", "Asia/Kolkata", 0)).toBe("time(1m)");
  });

  it("starts weeks on Monday at local midnight", () => {
    const monday = Date.parse("2026-11-30T00:00:00+08:00");
    expect(new Date(monday + 8 * 3_600_000).getUTCDay()).toBe(1);
    expect(bucketStart(Date.parse("2026-12-03T15:00:00+08:00"), "1w", "Asia/Shanghai")).toBe(monday);
    expect(bucketStart(Date.parse("2026-11-29T23:59:00+08:00"), "1d", "Asia/Shanghai")).toBe(Date.parse("2026-11-29T00:00:00+08:00"));
  });
});

describe("days and weeks across a daylight-saving change (Europe/Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25)", () => {
  const BERLIN = "Europe/Berlin";
  const at = Date.parse;

  it("starts a day at local midnight on either side of the change and on the day itself", () => {
    expect(bucketStart(at("2026-03-29T01:30:00+01:00"), "1d", BERLIN)).toBe(at("2026-03-29T00:00:00+01:00"));
    expect(bucketStart(at("2026-03-29T23:30:00+02:00"), "1d", BERLIN)).toBe(at("2026-03-29T00:00:00+01:00"));
    expect(bucketStart(at("2026-03-30T00:30:00+02:00"), "1d", BERLIN)).toBe(at("2026-03-30T00:00:00+02:00"));
    expect(bucketStart(at("2026-10-25T02:30:00+01:00"), "1d", BERLIN)).toBe(at("2026-10-25T00:00:00+02:00")); // the repeated hour
    expect(bucketStart(at("2026-10-25T23:59:00+01:00"), "1d", BERLIN)).toBe(at("2026-10-25T00:00:00+02:00"));
    expect(bucketStart(at("2026-03-29T12:00:00+02:00"), "1w", BERLIN)).toBe(at("2026-03-23T00:00:00+01:00")); // Sunday → Monday
    expect(bucketStart(at("2026-03-30T12:00:00+02:00"), "1w", BERLIN)).toBe(at("2026-03-30T00:00:00+02:00"));
  });

  it("finds the instants at which the offset changes", () => {
    expect(offsetChanges(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), BERLIN)).toEqual([
      { atMs: at("2026-03-29T01:00:00Z"), deltaMs: 3_600_000 },
      { atMs: at("2026-10-25T01:00:00Z"), deltaMs: -3_600_000 },
    ]);
    expect(offsetChanges(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), "Asia/Shanghai")).toEqual([]);
  });

  it("cuts a range so that the day of the change is grouped on its own, each part with the offset of its start", () => {
    const range = { rp: "raw", fromMs: at("2026-03-27T00:00:00+01:00"), toMs: at("2026-04-01T00:00:00+02:00") };
    const parts = partsInZone(range, "1d", BERLIN);
    // 23:00Z is midnight at +01:00 (1380 min into the UTC day), 22:00Z at +02:00 (1320 min).
    expect(parts.map((p) => [new Date(p.fromMs).toISOString(), new Date(p.toMs).toISOString(), p.rp, p.groupBy])).toEqual([
      ["2026-03-26T23:00:00.000Z", "2026-03-28T23:00:00.000Z", "raw", "time(1d, 1380m)"],
      // The 23-hour day: one bucket from its midnight, two days long, bounded by the part's end.
      ["2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z", "raw", `time(2880m, ${(at("2026-03-28T23:00:00Z") % (2 * 86_400_000)) / 60_000}m)`],
      ["2026-03-29T22:00:00.000Z", "2026-03-31T22:00:00.000Z", "raw", "time(1d, 1320m)"],
    ]);
    // From noon on the 25-hour day: that day's part still starts its bucket at its midnight (+02:00).
    const autumn = partsInZone({ fromMs: at("2026-10-25T12:00:00+01:00"), toMs: at("2026-10-27T00:00:00+01:00") }, "1d", BERLIN);
    expect(autumn).toEqual([
      { fromMs: at("2026-10-25T12:00:00+01:00"), toMs: at("2026-10-26T00:00:00+01:00"), groupBy: `time(2880m, ${(at("2026-10-25T00:00:00+02:00") % (2 * 86_400_000)) / 60_000}m)` },
      { fromMs: at("2026-10-26T00:00:00+01:00"), toMs: at("2026-10-27T00:00:00+01:00"), groupBy: "time(1d, 1380m)" },
    ]);
  });

  it("leaves a range whole where the change cannot move a bucket: hours, or a zone without one", () => {
    const range = { fromMs: at("2026-03-27T00:00:00+01:00"), toMs: at("2026-04-01T00:00:00+02:00") };
    expect(partsInZone(range, "1h", BERLIN)).toEqual([{ ...range, groupBy: "time(1h)" }]);
    expect(partsInZone(range, "1d", "Asia/Shanghai")).toEqual([{ ...range, groupBy: "time(1d, 960m)" }]);
  });
});
