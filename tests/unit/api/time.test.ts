import { describe, expect, it } from "vitest";
import { ApiError } from "../../../api/errors.js";
import { bucketStart, groupByTime, parseEvery, parseInstant, resolveRange } from "../../../api/time.js";

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
