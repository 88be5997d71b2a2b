import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planSegments } from "../../../api/history-source.js";
import { trustedBefore } from "../../../infra/energy-rollup.js";
import { catchUpRanges, type LateHours, MAX_NAMED_DEVICES, MAX_RANGE_HOURS, lateSiteHours, noteLateHours } from "../../../ingest/rollup-catchup.js";

const HOUR = 3_600_000;
const NOW = Date.parse("2026-12-01T10:30:00Z");
const line = (device: string, ts: number, extra = "") => `electrical,building=dorm-1,device=${device},kind=breaker${extra},site=s power_w=10,energy_delta_kwh=0.1 ${ts}`;

describe("which stored points are late for the rollups", () => {
  it("notes the hours of old electrical totals with their devices, and nothing else", () => {
    const hours = noteLateHours(
      [
        line("brk-a", NOW - 6 * HOUR),
        line("brk-b", NOW - 6 * HOUR + 60_000),
        line("brk-c", NOW - 6 * 24 * HOUR),
        line("brk-d", NOW - 6 * HOUR, ",phase=L1"), // phase points are not rolled up
        line("brk-e", NOW - 30_000), // recent: the continuous queries still re-read its minute
        `device_status,building=dorm-1,device=brk-f,site=s online=true ${NOW - 6 * HOUR}`,
      ],
      NOW,
    );
    expect([...hours.entries()]).toEqual([
      [Math.floor((NOW - 6 * HOUR) / HOUR) * HOUR, new Set(["brk-a", "brk-b"])],
      [Math.floor((NOW - 6 * 24 * HOUR) / HOUR) * HOUR, new Set(["brk-c"])],
    ]);
  });

  it("gives one stale mark per late hour and school, a line without `site` (an earlier version's) as \"\"", () => {
    const hour = Math.floor((NOW - 6 * HOUR) / HOUR) * HOUR;
    const other = (device: string, ts: number) => line(device, ts).replace(",site=s ", ",site=other-school ");
    const marks = lateSiteHours(
      [
        line("brk-a", NOW - 6 * HOUR),
        line("brk-b", NOW - 6 * HOUR + 60_000),
        other("brk-c", NOW - 6 * HOUR),
        line("brk-d", NOW - 6 * HOUR, ",phase=L1").replace(",site=s ", ",site=phase-school "), // not rolled up: no mark
        line("brk-e", NOW - 30_000).replace(",site=s ", ",site=recent-school "), // not late: no mark
        line("brk-f", NOW - 2 * HOUR).replace(",site=s ", " "),
      ],
      NOW,
    );
    expect(marks).toEqual([
      { hourMs: hour, site: "s" },
      { hourMs: hour, site: "other-school" },
      { hourMs: Math.floor((NOW - 2 * HOUR) / HOUR) * HOUR, site: "" },
    ]);
  });

  it("stops naming devices past MAX_NAMED_DEVICES in one hour: the hour is rolled up for all", () => {
    const lines = Array.from({ length: MAX_NAMED_DEVICES + 1 }, (_, i) => line(`brk-${i}`, NOW - 2 * HOUR));
    const hours = noteLateHours(lines, NOW);
    expect([...hours.values()]).toEqual([null]);
    noteLateHours([line("brk-x", NOW - 2 * HOUR)], NOW, hours);
    expect([...hours.values()]).toEqual([null]);
  });

  it("calls late every point whose minute a reader may already serve from rollup_1m", () => {
    // A point not noted as late must still be read from raw points (rollup_1m not yet trusted) by a reader
    // asking up to 90 s later (by then the 1-minute CQ has run over its minute, at most 60 s away).
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3_600_000 }), fc.integer({ min: 0, max: 20 * 60_000 }), (offset, age) => {
        const now = NOW + offset;
        const ts = now - age;
        if (noteLateHours([line("brk-a", ts)], now).size > 0) return;
        for (const askedAt of [now, now + 30_000, now + 90_000]) {
          const segments = planSegments({ fromMs: ts, toMs: ts + 1 }, 60_000, new Set(["rollup_1m"]), askedAt);
          expect(segments.map((s) => s.rp)).toEqual(["raw"]);
        }
      }),
    );
    // On-time points (a second old) are not late; a minute and a half old, they are.
    expect(trustedBefore(NOW)).toBeLessThan(NOW - 1_000);
    expect(trustedBefore(NOW)).toBeGreaterThan(NOW - 90_000);
  });
});

describe("catch-up ranges", () => {
  it("merges contiguous hours up to MAX_RANGE_HOURS with the union of their devices", () => {
    const hours: LateHours = new Map();
    for (let h = 0; h < MAX_RANGE_HOURS + 2; h++) hours.set(h * HOUR, new Set([`brk-${h % 2}`]));
    hours.set(20 * HOUR, null);
    hours.set(21 * HOUR, new Set(["brk-9"]));
    expect(catchUpRanges(hours)).toEqual([
      { fromMs: 0, toMs: MAX_RANGE_HOURS * HOUR, devices: ["brk-0", "brk-1"] },
      { fromMs: MAX_RANGE_HOURS * HOUR, toMs: (MAX_RANGE_HOURS + 2) * HOUR, devices: ["brk-0", "brk-1"] },
      { fromMs: 20 * HOUR, toMs: 22 * HOUR }, // an hour of every device makes its range every device's
    ]);
  });
});
