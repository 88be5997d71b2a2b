import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { toLine } from "../../../domain/line-protocol.js";
import { eventToPoint, readingToPoints, statusToPoint } from "../../../ingest/points.js";

const campus = loadCampus(join(import.meta.dirname, "../../fixtures/test-campus.yaml"));
const device = (id: string) => campus.deviceById.get(id)!;
const TS = Date.parse("2026-11-29T08:00:00.000Z");

describe("readings as InfluxDB points", () => {
  it("tags a reading with site, device, kind, building and room, and keeps every field", () => {
    const points = readingToPoints(
      { device: "brk-d1-101", ts: TS, values: { voltage_v: 221.4, current_a: 4.2, power_w: 920.5, energy_kwh: 1532.25, power_factor: 0.99, switch_on: true } },
      device("brk-d1-101"),
    );
    expect(points).toEqual([
      {
        measurement: "electrical",
        tags: { site: "test-school", device: "brk-d1-101", kind: "breaker", building: "dorm-1", room: "101" },
        fields: { voltage_v: 221.4, current_a: 4.2, power_w: 920.5, energy_kwh: 1532.25, power_factor: 0.99, switch_on: true },
        ts: TS,
      },
    ]);
    expect(toLine(points[0]!)).toBe(
      "electrical,building=dorm-1,device=brk-d1-101,kind=breaker,room=101,site=test-school voltage_v=221.4,current_a=4.2,power_w=920.5,energy_kwh=1532.25,power_factor=0.99,switch_on=true 1795939200000",
    );
  });

  it("omits the room tag when the device has no room", () => {
    const [point] = readingToPoints({ device: "brk-c1-main", ts: TS, values: { power_w: 10 } }, device("brk-c1-main"));
    expect(point!.tags).toEqual({ site: "test-school", device: "brk-c1-main", kind: "breaker", building: "class-1" });
    expect(toLine(point!)).not.toContain("room=");
  });

  it("writes one point per phase tagged with the phase, carrying that phase's fields", () => {
    const points = readingToPoints(
      {
        device: "feeder-d1",
        ts: TS,
        values: { power_w: 900, leakage_ma: 12 },
        phases: { L1: { voltage_v: 221, current_a: 4.1, power_w: 300 }, L2: { voltage_v: 219, current_a: 4 }, L3: { current_a: 4.2 } },
      },
      device("feeder-d1"),
    );
    const base = { site: "test-school", device: "feeder-d1", kind: "meter", building: "dorm-1" };
    expect(points).toEqual([
      { measurement: "electrical", tags: base, fields: { power_w: 900, leakage_ma: 12 }, ts: TS },
      { measurement: "electrical", tags: { ...base, phase: "L1" }, fields: { voltage_v: 221, current_a: 4.1, power_w: 300 }, ts: TS },
      { measurement: "electrical", tags: { ...base, phase: "L2" }, fields: { voltage_v: 219, current_a: 4 }, ts: TS },
      { measurement: "electrical", tags: { ...base, phase: "L3" }, fields: { current_a: 4.2 }, ts: TS },
    ]);
  });

  it("writes no totals point when a reading carries only phases", () => {
    const points = readingToPoints({ device: "feeder-d1", ts: TS, values: {}, phases: { L1: { current_a: 1 } } }, device("feeder-d1"));
    expect(points).toHaveLength(1);
    expect(points[0]!.tags.phase).toBe("L1");
  });

  it("stores a status as device_status with an online boolean", () => {
    const point = statusToPoint({ device: "brk-d1-101", ts: TS, online: false }, device("brk-d1-101"));
    expect(toLine(point)).toBe("device_status,building=dorm-1,device=brk-d1-101,site=test-school online=false 1795939200000");
  });

  it("stores an event as device_event tagged with its type, reason and detail as strings", () => {
    const point = eventToPoint({ device: "brk-d1-101", ts: TS, type: "trip", reason: "overload", detail: 'tripped at 21.3 A, "hot"' }, device("brk-d1-101"));
    expect(toLine(point)).toBe('device_event,building=dorm-1,device=brk-d1-101,site=test-school,type=trip reason="overload",detail="tripped at 21.3 A, \\"hot\\"" 1795939200000');
  });

  it("keeps an event without reason as a point with an empty reason", () => {
    const point = eventToPoint({ device: "brk-d1-101", ts: TS, type: "arc" }, device("brk-d1-101"));
    expect(toLine(point)).toBe('device_event,building=dorm-1,device=brk-d1-101,site=test-school,type=arc reason="" 1795939200000');
  });
});
