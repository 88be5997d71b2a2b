// The demo's past (simulator/history.ts): counters that rise and end where the live simulator starts, the
// whole span covered, weekends and the calendar's holidays quieter than school days, and the --history span.
import { describe, expect, it } from "vitest";
import type { Campus } from "../../../domain/campus.js";
import type { SchoolCalendar } from "../../../domain/calendar.js";
import { DEMO_CAMPUS_FILE } from "../../../domain/env.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { DAY_MS, HISTORY_STEP_MS, type HistoryStep, historyOfSite, parseHistorySpan } from "../../../simulator/history.js";
import { createCampusModel } from "../../../simulator/model.js";

const campus = loadCampus(DEMO_CAMPUS_FILE);
/** The demo campus as a file without `calendar:` would be: every Monday–Friday a school day. */
const noCalendar: Campus = { ...campus, calendar: null };
// Asia/Shanghai is UTC+8 all year; 2026-11-18 is a Wednesday, 2026-11-21 a Saturday.
const at = (localIso: string) => Date.parse(`${localIso}+08:00`);
const collect = (site: Campus, fromMs: number, toMs: number, seed = 1): HistoryStep[] =>
  [...historyOfSite(site, { seed, fromMs, toMs })].filter((step): step is HistoryStep => step !== null);

/** kWh the devices at the top of classroom buildings used on a local day (mean power × 24 h). */
function classroomKwh(steps: readonly HistoryStep[], site: Campus): number {
  let wattSum = 0;
  for (const step of steps) {
    for (const { device, reading } of step.readings) {
      if (device.parent === null && site.buildingById.get(device.building)?.kind === "classroom") wattSum += reading.values.power_w ?? 0;
    }
  }
  return (wattSum * HISTORY_STEP_MS) / 3_600_000 / 1000;
}
const dayOf = (site: Campus, localDate: string) => classroomKwh(collect(site, at(`${localDate}T00:00:00`), at(`${localDate}T00:00:00`) + DAY_MS), site);

describe("the demo's past", () => {
  const toMs = at("2026-11-25T10:02:17");
  const fromMs = toMs - 3 * DAY_MS;
  const steps = collect(campus, fromMs, toMs);

  it("covers the whole span with every device at every 5-minute instant", () => {
    expect(steps[0]!.ts).toBe(Math.ceil(fromMs / HISTORY_STEP_MS) * HISTORY_STEP_MS);
    expect(toMs - steps.at(-1)!.ts).toBeLessThanOrEqual(HISTORY_STEP_MS);
    expect(steps.length).toBe(3 * 288);
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.ts - steps[i - 1]!.ts).toBe(HISTORY_STEP_MS);
    for (const step of steps) {
      expect(step.readings.map((r) => r.device.id)).toEqual(campus.devices.map((d) => d.id));
      for (const { reading } of step.readings) expect(reading.ts).toBe(step.ts);
    }
  });

  it("has counters that never fall and end at the counter the live simulator starts with", () => {
    const live = createCampusModel(campus, { seed: 1, startMs: toMs });
    const metered = campus.devices.filter((d) => d.kind !== "detector");
    expect(metered.length).toBeGreaterThan(30);
    for (const device of metered) {
      const counter = steps.map((s) => s.readings.find((r) => r.device.id === device.id)!.reading.values.energy_kwh!);
      for (let i = 1; i < counter.length; i++) expect(counter[i]!, device.id).toBeGreaterThanOrEqual(counter[i - 1]!);
      expect(counter.at(-1), device.id).toBeCloseTo(live.byId.get(device.id)!.energyKwh, 3);
      // It really rose: the past is consumption, not a flat line at the live value.
      expect(counter.at(-1)! - counter[0]!, device.id).toBeGreaterThan(0);
    }
  });

  it("starts a new counter cycle where a small seeded counter could not have covered the span, never below zero", () => {
    const weeks = collect(campus, toMs - 20 * DAY_MS, toMs);
    let resets = 0;
    for (const [index, device] of campus.devices.entries()) {
      if (device.kind === "detector") continue;
      const counter = weeks.map((s) => s.readings[index]!.reading.values.energy_kwh!);
      const falls = counter.flatMap((kwh, i) => (i > 0 && kwh < counter[i - 1]! ? [kwh] : []));
      expect(Math.min(...counter), device.id).toBeGreaterThanOrEqual(0);
      // At most one reset (CONTRACT §3: a decrease is a new counter cycle), and it restarts from zero.
      expect(falls.length, device.id).toBeLessThanOrEqual(1);
      for (const after of falls) expect(after, device.id).toBeLessThan(1);
      resets += falls.length;
    }
    // Seed 1 has such a device (a desk socket of the office block), so the rule above is exercised.
    expect(resets).toBeGreaterThan(0);
  });

  it("gives the same past for the same seed and another for another seed", () => {
    const values = (past: HistoryStep[]) => past.map((s) => s.readings.map((r) => r.reading.values));
    const once = collect(campus, fromMs, fromMs + DAY_MS);
    expect(values(collect(campus, fromMs, fromMs + DAY_MS))).toEqual(values(once));
    expect(collect(campus, fromMs, fromMs + DAY_MS, 2)[100]!.readings[0]!.reading.values).not.toEqual(once[100]!.readings[0]!.reading.values);
  });

  it("keeps classroom buildings quiet on a weekend and busy on a school day", () => {
    const wednesday = dayOf(noCalendar, "2026-11-18");
    const saturday = dayOf(noCalendar, "2026-11-21");
    expect(wednesday).toBeGreaterThan(10);
    expect(saturday).toBeLessThan(wednesday * 0.5);
  });

  it("keeps them quiet on a holiday of the calendar and busy on its make-up Saturday", () => {
    const calendar: SchoolCalendar = {
      terms: [{ name: "autumn", from: "2026-09-01", to: "2027-01-20" }],
      holidays: [{ from: "2026-11-18", to: "2026-11-18" }],
      workdays: ["2026-11-21"],
    };
    const withCalendar: Campus = { ...campus, calendar };
    const schoolWednesday = dayOf(noCalendar, "2026-11-18");
    const ordinarySaturday = dayOf(noCalendar, "2026-11-21");
    expect(dayOf(withCalendar, "2026-11-18")).toBeLessThan(schoolWednesday * 0.5);
    expect(dayOf(withCalendar, "2026-11-21")).toBeGreaterThan(ordinarySaturday * 2);
    // Outside every term (the summer vacation) a Wednesday is no school day either.
    expect(dayOf(withCalendar, "2026-08-19")).toBeLessThan(dayOf(noCalendar, "2026-08-19") * 0.5);
  });

  it("follows the demo campus's own calendar: the National Day week is quiet, the Monday after it is not", () => {
    expect(campus.calendar).not.toBeNull();
    expect(dayOf(campus, "2026-10-05")).toBeLessThan(dayOf(campus, "2026-10-12") * 0.5);
  });
});

describe("--history", () => {
  const retention = 90 * DAY_MS;
  it("takes days or hours, and 0 for none", () => {
    expect(parseHistorySpan("14d", retention)).toEqual({ ok: true, ms: 14 * DAY_MS });
    expect(parseHistorySpan("30d", retention)).toEqual({ ok: true, ms: 30 * DAY_MS });
    expect(parseHistorySpan("36h", retention)).toEqual({ ok: true, ms: 36 * 3_600_000 });
    expect(parseHistorySpan("0", retention)).toEqual({ ok: true, ms: 0 });
  });

  it.each(["14", "2w", "-1d", "1.5d", "0d", "30m", "fortnight", ""])("refuses %j with what it takes", (text) => {
    const parsed = parseHistorySpan(text, retention);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain("such as 14d, 30d or 36h, or 0 for none");
  });

  it("refuses a span beyond the raw retention, naming it", () => {
    const parsed = parseHistorySpan("91d", retention);
    expect(parsed).toEqual({ ok: false, problem: expect.stringContaining("RAW_RETENTION_DAYS, 90 days") });
    expect(parseHistorySpan("90d", retention).ok).toBe(true);
  });
});
