import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { schedulesByKey, summarise } from "../../../api/energy-math.js";
import { type Campus, parseCampusText } from "../../../domain/campus.js";
import { deviceDayMeasurement, type HourOfDevice, sumDeviceDays, wholeDays } from "../../../infra/device-energy-rollup.js";

const TZ = "Asia/Shanghai";
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const FIXTURE = readFileSync("tests/fixtures/test-campus.yaml", "utf8");
// The test campus with a school calendar: National Day (1–7 Oct) off, Saturday 10 Oct a make-up workday.
const CALENDAR = `
calendar:
  terms: [{ name: autumn, from: 2026-09-01, to: 2027-01-22 }]
  holidays: [{ from: 2026-10-01, to: 2026-10-07 }]
  workdays: [2026-10-10]
`;
function campusOf(text: string): Campus {
  const result = parseCampusText(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.campus;
}
const campus = campusOf(FIXTURE + CALENDAR);

/** Every device, every hour of [from, to), with kWh that differ per device and hour. */
function hoursOf(fromMs: number, toMs: number): HourOfDevice[] {
  const hours: HourOfDevice[] = [];
  campus.devices.forEach((device, d) => {
    for (let t = fromMs, i = 0; t < toMs; t += HOUR, i++) hours.push({ device: device.id, hourStartMs: t, kwh: ((d + 1) * 0.173 + (i % 7) * 0.031) * (i % 5 === 0 ? 0 : 1) });
  });
  return hours;
}

describe("the per-device daily energy rollup", () => {
  it("splits each device's days as GET /api/energy splits its hours, over a holiday and a make-up workday", () => {
    // 30 Sep (a school day) to 11 Oct: the National Day week, a weekend, the make-up Saturday.
    const hours = hoursOf(at("2026-09-30T00:00:00+08:00"), at("2026-10-12T00:00:00+08:00"));
    const scheduleFor = schedulesByKey(campus, "device");
    const days = sumDeviceDays(campus, hours, TZ).map((d) => ({ key: d.device, hourStartMs: d.dayStartMs, kwh: d.kwh, afterHoursKwh: d.afterHoursKwh }));
    expect(days).toHaveLength(campus.devices.length * 12);
    for (const every of ["1d", "1w", "1mo"] as const) {
      const fromHours = summarise(hours.map((h) => ({ key: h.device, hourStartMs: h.hourStartMs, kwh: h.kwh })), every, TZ, scheduleFor);
      const fromDays = summarise(days, every, TZ, scheduleFor);
      expect(fromDays).toEqual(fromHours);
    }
    // A classroom's holiday is after hours all day; its make-up Saturday has a school day's hours.
    const plug = (date: string) => days.find((d) => d.key === "plug-c1-own" && d.hourStartMs === at(`${date}T00:00:00+08:00`))!;
    expect(plug("2026-10-02").afterHoursKwh).toBeCloseTo(plug("2026-10-02").kwh, 9);
    expect(plug("2026-10-10").afterHoursKwh).toBeLessThan(plug("2026-10-10").kwh / 2);
  });

  it("rolls up only whole local days, and none in a zone whose midnight is not on an hour", () => {
    const from = at("2026-11-30T07:13:00+08:00");
    expect(wholeDays(from, at("2026-12-03T00:00:00+08:00"), TZ)).toEqual([at("2026-12-01T00:00:00+08:00"), at("2026-12-02T00:00:00+08:00")]);
    expect(wholeDays(from, at("2026-12-02T23:00:00+08:00"), TZ)).toEqual([at("2026-12-01T00:00:00+08:00")]);
    // Berlin's 25-hour day of 25 October 2026 is one day.
    expect(wholeDays(at("2026-10-24T00:00:00+02:00"), at("2026-10-27T00:00:00+01:00"), "Europe/Berlin")).toEqual([
      at("2026-10-24T00:00:00+02:00"),
      at("2026-10-25T00:00:00+02:00"),
      at("2026-10-26T00:00:00+01:00"),
    ]);
    expect(wholeDays(at("2026-11-30T00:00:00+05:30"), at("2026-12-03T00:00:00+05:30"), "Asia/Kolkata")).toEqual([]);
  });

  it("names the rollup after what the split depends on, so an edited campus file never reads a stale one", () => {
    expect(deviceDayMeasurement(campusOf(FIXTURE + CALENDAR))).toBe(deviceDayMeasurement(campus));
    expect(deviceDayMeasurement(campusOf(FIXTURE))).not.toBe(deviceDayMeasurement(campus));
    expect(deviceDayMeasurement(campusOf(FIXTURE.replace("kind: dormitory", "kind: office") + CALENDAR))).not.toBe(deviceDayMeasurement(campus));
    expect(deviceDayMeasurement(campus)).toMatch(/^energy_device_day_[0-9a-f]{8}$/);
  });
});
