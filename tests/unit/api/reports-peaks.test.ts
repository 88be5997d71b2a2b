import { describe, expect, it } from "vitest";
import { foldPeaks, windowRange } from "../../../api/reports/peak-queries.js";

const at = (text: string) => Date.parse(text);

describe("peak demand per period", () => {
  it("keeps each group's largest window per local day, the earliest of equal ones", () => {
    const windows = [
      { key: "b1", atMs: at("2026-11-01T15:45:00Z"), powerW: 900 }, // 23:45 on the 1st in Shanghai
      { key: "b1", atMs: at("2026-11-01T16:00:00Z"), powerW: 700 }, // 00:00 on the 2nd
      { key: "b1", atMs: at("2026-11-02T06:30:00Z"), powerW: 3000 },
      { key: "b1", atMs: at("2026-11-02T06:15:00Z"), powerW: 3000 },
      { key: "b2", atMs: at("2026-11-02T06:30:00Z"), powerW: 100 },
    ];
    expect(foldPeaks(windows, "day", "Asia/Shanghai", 0, Infinity)).toEqual([
      { key: "b1", periodStartMs: at("2026-11-01T00:00:00+08:00"), powerW: 900, atMs: at("2026-11-01T15:45:00Z") },
      { key: "b1", periodStartMs: at("2026-11-02T00:00:00+08:00"), powerW: 3000, atMs: at("2026-11-02T06:15:00Z") },
      { key: "b2", periodStartMs: at("2026-11-02T00:00:00+08:00"), powerW: 100, atMs: at("2026-11-02T06:30:00Z") },
    ]);
    expect(foldPeaks(windows, "month", "Asia/Shanghai", 0, Infinity).map((p) => [p.key, p.powerW, p.atMs])).toEqual([
      ["b1", 3000, at("2026-11-02T06:15:00Z")],
      ["b2", 100, at("2026-11-02T06:30:00Z")],
    ]);
  });

  it("counts only the windows that start inside the range", () => {
    const windows = [
      { key: "b1", atMs: at("2026-11-01T00:00:00Z"), powerW: 5000 },
      { key: "b1", atMs: at("2026-11-01T00:15:00Z"), powerW: 1000 },
    ];
    const range = windowRange(at("2026-11-01T00:05:00Z"), at("2026-11-01T01:00:00Z"));
    expect(range).toEqual({ fromMs: at("2026-11-01T00:15:00Z"), toMs: at("2026-11-01T01:00:00Z") });
    expect(foldPeaks(windows, "day", "UTC", range.fromMs, range.toMs).map((p) => p.powerW)).toEqual([1000]);
  });
});
