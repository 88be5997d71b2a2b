// The pure parts of the printable report: the month's bounds in the school's zone and what the calendar
// makes of each day, the buildings against the previous month, alerts by rule with their times to
// acknowledge, remote commands summed per schedule, the chart's axis, and the report's language.
import { describe, expect, it } from "vitest";
import type { Command } from "../../../domain/command.js";
import type { SchoolCalendar } from "../../../domain/calendar.js";
import { alertsByRule, median } from "../../../api/printable/alert-stats.js";
import { commandSummary } from "../../../api/printable/command-summary.js";
import { niceTicks } from "../../../api/printable/daily-chart.js";
import { changePct, monthEnergy } from "../../../api/printable/energy-summary.js";
import { dayKind, reportMonth } from "../../../api/printable/month.js";
import { reportLang } from "../../../api/printable/words.js";
import type { SiteSeries } from "../../../api/energy-report.js";

const at = Date.parse;
const MINUTE = 60_000;
const calendar: SchoolCalendar = {
  terms: [{ name: "autumn", from: "2026-09-01", to: "2027-01-22" }],
  holidays: [{ from: "2026-10-01", to: "2026-10-07" }],
  workdays: ["2026-10-10"],
};

describe("the report's month", () => {
  it("runs from local midnight of the 1st to the next month's, with the month before for comparison", () => {
    const month = reportMonth("2026-01", "Asia/Shanghai")!;
    expect(month.fromMs).toBe(at("2026-01-01T00:00:00+08:00"));
    expect(month.toMs).toBe(at("2026-02-01T00:00:00+08:00"));
    expect(month.previous).toEqual({ id: "2025-12", fromMs: at("2025-12-01T00:00:00+08:00"), toMs: at("2026-01-01T00:00:00+08:00") });
    expect(month.days).toHaveLength(31);
    expect(reportMonth("2026-12", "Asia/Shanghai")!.toMs).toBe(at("2027-01-01T00:00:00+08:00"));
    expect(reportMonth("2028-02", "UTC")!.days.at(-1)).toBe("2028-02-29");
    // A month with a daylight-saving change keeps local midnights (Berlin, 29 March 2026).
    expect(reportMonth("2026-03", "Europe/Berlin")!.toMs).toBe(at("2026-04-01T00:00:00+02:00"));
  });

  it("is null for what is not a month of 2000–2099", () => {
    for (const bad of ["2026-13", "2026-00", "2026-1", "26-01", "1999-12", "2100-01", "2026-01-01", ""]) expect(reportMonth(bad, "UTC"), bad).toBeNull();
  });

  it("tells school days, make-up days, weekends, holidays and vacations from the calendar", () => {
    expect(dayKind(calendar, "2026-10-09")).toBe("school"); // a Friday in term
    expect(dayKind(calendar, "2026-10-10")).toBe("workday"); // a Saturday worked (调休)
    expect(dayKind(calendar, "2026-10-11")).toBe("weekend");
    expect(dayKind(calendar, "2026-10-02")).toBe("holiday");
    expect(dayKind(calendar, "2026-08-20")).toBe("vacation"); // a Thursday outside the terms
    expect(dayKind(null, "2026-08-20")).toBe("school"); // no calendar: every Monday–Friday
    expect(dayKind(null, "2026-08-22")).toBe("weekend");
  });
});

describe("the month's energy", () => {
  const series = (key: string, points: [number, number][], after: number | null): SiteSeries => {
    const total = points.reduce((s, [, kwh]) => s + kwh, 0);
    return { key, site: "north", time_zone: "Asia/Shanghai", points, total_kwh: total, after_hours_kwh: after, after_hours_share: after === null ? null : after / total };
  };
  const buildings = [
    { id: "a", name: "A", kind: "classroom", site: "north" },
    { id: "b", name: "B", kind: "dormitory", site: "north" },
    { id: "c", name: "C", kind: "office", site: "north" },
  ] as const;
  const month = reportMonth("2026-10", "Asia/Shanghai")!;
  const day = (d: number) => at(`2026-10-${String(d).padStart(2, "0")}T00:00:00+08:00`);

  it("sums buildings per local day, compares with the previous month and ranks the after-hours buildings", () => {
    const now = [series("a", [[day(1), 10], [day(9), 30]], 12), series("b", [[day(9), 20]], 15)];
    const before = [series("a", [[at("2026-09-01T00:00:00+08:00"), 50]], null), series("c", [[at("2026-09-01T00:00:00+08:00"), 5]], null)];
    const energy = monthEnergy(buildings, now, before, month.days, "Asia/Shanghai", calendar);
    expect(energy.totalKwh).toBe(60);
    expect(energy.previousKwh).toBe(55);
    expect(energy.changePct).toBe(9.1);
    expect(energy.afterHoursKwh).toBe(27);
    expect(energy.afterHoursShare).toBe(0.45);
    expect(energy.buildings.map((b) => [b.id, b.kwh, b.previousKwh, b.changePct])).toEqual([["a", 40, 50, -20], ["b", 20, null, null], ["c", null, 5, null]]);
    expect(energy.worstAfterHours.map((b) => b.id)).toEqual(["b", "a"]);
    expect(energy.days.find((d) => d.date === "2026-10-09")).toEqual({ date: "2026-10-09", kind: "school", kwh: 50 });
    expect(energy.days.find((d) => d.date === "2026-10-01")).toEqual({ date: "2026-10-01", kind: "holiday", kwh: 10 });
    expect(energy.days.find((d) => d.date === "2026-10-02")!.kwh).toBeNull();
  });

  it("has no change without a previous month to compare with", () => {
    expect(changePct(10, 0)).toBeNull();
    expect(changePct(10, null)).toBeNull();
    expect(changePct(0, 10)).toBe(-100);
  });
});

describe("alerts by rule", () => {
  const from = at("2026-11-01T00:00:00Z");
  const to = at("2026-12-01T00:00:00Z");
  const point = (alertId: string, rule: string, state: string, time: number, byAck = state === "acknowledged") => ({ alertId, rule, time, byAck });

  it("counts alerts that started in the month, the acknowledged ones, and the median and longest time to acknowledge", () => {
    const t = at("2026-11-10T08:00:00Z");
    const stats = alertsByRule(
      [
        point("o1", "overload", "firing", t),
        point("o1", "overload", "acknowledged", t + 2 * MINUTE),
        point("o1", "overload", "resolved", t + 9 * MINUTE),
        point("o2", "overload", "firing", t + 60 * MINUTE),
        point("o2", "overload", "firing", t + 61 * MINUTE), // an update: still the same alert
        point("o2", "overload", "resolved", t + 70 * MINUTE, true), // a latched one acknowledged with a note: resolved at once
        point("o3", "overload", "firing", t),
        point("l1", "leakage", "firing", t),
        point("old", "leakage", "firing", from - 5 * MINUTE), // opened before the month…
        point("old", "leakage", "acknowledged", from + MINUTE), // …acknowledged in it: not the month's
        point("late", "offline", "firing", to - MINUTE),
        point("late", "offline", "acknowledged", to + 20 * MINUTE), // acknowledged after the month: still counted
      ],
      from,
      to,
    );
    expect(stats).toEqual([
      { rule: "overload", count: 3, acknowledged: 2, medianAckMs: 6 * MINUTE, worstAckMs: 10 * MINUTE },
      { rule: "leakage", count: 1, acknowledged: 0, medianAckMs: null, worstAckMs: null },
      { rule: "offline", count: 1, acknowledged: 1, medianAckMs: 21 * MINUTE, worstAckMs: 21 * MINUTE },
    ]);
  });

  it("takes the middle of an odd list and the mean of the two middles of an even one", () => {
    expect(median([1, 5, 9])).toBe(5);
    expect(median([1, 5, 9, 11])).toBe(7);
    expect(median([])).toBeNull();
  });
});

describe("remote commands of the month", () => {
  const command = (id: string, issued_by: string, state: Command["state"]): Command => ({
    id, device: "brk-1", site: "north", building: "dorm", action: "switch_off", reason: "r", issued_by, state, selected_at: "2026-11-02T10:00:00Z", expires_at: "2026-11-02T10:00:30Z",
  });

  it("counts by result, sums each schedule's and lists people's and rules' commands up to the limit", () => {
    const commands = [
      command("p1", "alice", "confirmed"),
      command("s1", "schedule:lights-out", "confirmed"),
      command("s2", "schedule:lights-out", "timeout"),
      command("r1", "rule:power-limit", "failed"),
      command("p2", "bob", "expired"),
    ];
    const summary = commandSummary(commands, [{ id: "lights-out", name: "Lights out", action: "switch_off", at: "23:00", days: ["mon"] }], 2);
    expect(summary.total).toBe(5);
    expect(summary.byState).toEqual([{ state: "expired", count: 1 }, { state: "confirmed", count: 2 }, { state: "failed", count: 1 }, { state: "timeout", count: 1 }]);
    expect(summary.schedules).toEqual([{ id: "lights-out", name: "Lights out", count: 2, confirmed: 1 }]);
    expect(summary.listed.map((c) => c.id)).toEqual(["p1", "r1"]);
    expect(summary.unlisted).toBe(1);
  });
});

describe("the chart's axis and the report's language", () => {
  it("ticks at round values from 0 up to at least the largest day", () => {
    expect(niceTicks(437)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(niceTicks(9)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.37)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it("takes ?lang= first, then Accept-Language by weight, else Chinese", () => {
    expect(reportLang("en", "zh-CN")).toBe("en");
    expect(reportLang(undefined, "en-GB,en;q=0.9")).toBe("en");
    expect(reportLang(undefined, "fr;q=1, zh-TW;q=0.5, en;q=0.8")).toBe("en");
    expect(reportLang(undefined, "de, zh-Hans-CN;q=0.9")).toBe("zh-CN");
    expect(reportLang(undefined, "en;q=0")).toBe("zh-CN");
    expect(reportLang(undefined, undefined)).toBe("zh-CN");
  });
});
