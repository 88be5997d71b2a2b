import { describe, expect, it } from "vitest";
import { Harness, s, T0 } from "./harness.js";

// brk-101: 16 A breaker reporting every 10 s; brk-main: 63 A, 3-phase; meter-1: no rating.
describe("overload rule (domain.md §8 row 5)", () => {
  it("does not raise overload when the current is held above the rating for 59 s", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 55, 17);
    h.current("brk-101", s(59), 17);
    expect(h.alertChanges()).toEqual([]);
  });

  it("raises overload after 60 s above the rating", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17.5);
    const changes = h.alertChanges("overload");
    expect(changes).toHaveLength(1);
    const { alert, change, at } = changes[0]!;
    expect(change).toBe("opened");
    expect(at).toBe(s(60));
    expect(alert).toMatchObject({
      rule: "overload",
      device: "brk-101",
      building: "dorm-1",
      room: "101",
      severity: "major",
      state: "firing",
      value: 17.5,
      threshold: 16,
      started_at: new Date(s(60)).toISOString(),
      updated_at: new Date(s(60)).toISOString(),
    });
    expect(alert.id).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(alert.message).toContain("Dormitory 1, room 101");
    expect(alert.message).toContain("brk-101 (16 A, curve C)");
    expect(alert.message).toContain("17.5 A");
    expect(alert.resolved_at).toBeUndefined();
  });

  it("raises overload exactly at the rating (≥ 1.0 × In)", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 16);
    expect(h.open("overload")).toHaveLength(1);
  });

  it("updates the one open alert while the breach persists instead of opening another", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    h.hold("brk-101", 65, 120, 17); // same value: nothing new to say
    h.current("brk-101", s(125), 19);
    const changes = h.alertChanges("overload");
    expect(changes.map((c) => c.change)).toEqual(["opened", "updated"]);
    expect(changes[1]!.alert.id).toBe(changes[0]!.alert.id);
    expect(changes[1]!.alert.value).toBe(19);
    expect(changes[1]!.alert.started_at).toBe(changes[0]!.alert.started_at);
    expect(changes[1]!.alert.updated_at).toBe(new Date(s(125)).toISOString());
  });

  it("keeps the alert open while the current dips below the rating but stays above 0.9 × In", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    h.hold("brk-101", 65, 600, 15); // 15 A is between 14.4 A (0.9 × 16) and 16 A
    expect(h.open("overload")).toHaveLength(1);
    expect(h.alertChanges("overload").map((c) => c.change)).toEqual(["opened"]);
  });

  it("resolves after 2 min below 0.9 × In", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    h.hold("brk-101", 65, 180, 10); // below since 65 s: 115 s so far
    expect(h.open("overload")).toHaveLength(1);
    h.current("brk-101", s(185), 10); // 120 s below
    const last = h.alertChanges("overload").at(-1)!;
    expect(last.change).toBe("resolved");
    expect(last.alert.state).toBe("resolved");
    expect(last.alert.resolved_at).toBe(new Date(s(185)).toISOString());
    expect(h.open("overload")).toHaveLength(0);
  });

  it("neither resolves nor reopens after 1 min below 0.9 × In followed by a return above the rating", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    h.hold("brk-101", 65, 125, 10);
    h.hold("brk-101", 130, 300, 17);
    const changes = h.alertChanges("overload");
    expect(changes.map((c) => c.change)).toEqual(["opened"]);
    expect(h.open("overload")).toHaveLength(1);
  });

  it("restarts the 2 min clear timer when the current climbs back into the hysteresis band", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    h.hold("brk-101", 65, 150, 10);
    h.current("brk-101", s(155), 15);
    h.hold("brk-101", 160, 275, 10); // 115 s below since the band
    expect(h.open("overload")).toHaveLength(1);
    h.current("brk-101", s(280), 10);
    expect(h.open("overload")).toHaveLength(0);
  });

  it("restarts the 60 s on-delay when the current drops below the rating in between", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 40, 17);
    h.current("brk-101", s(45), 15.9);
    h.hold("brk-101", 50, 105, 17);
    expect(h.open("overload")).toHaveLength(0);
    h.current("brk-101", s(110), 17);
    expect(h.open("overload")).toHaveLength(1);
  });

  it("opens a new alert with a new id when the breach comes back after resolving", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    h.hold("brk-101", 65, 185, 5);
    h.hold("brk-101", 190, 250, 17);
    const opened = h.alertChanges("overload").filter((c) => c.change === "opened");
    expect(opened).toHaveLength(2);
    expect(opened[1]!.alert.id).not.toBe(opened[0]!.alert.id);
  });

  it("judges a 3-phase breaker by its worst phase", () => {
    const h = new Harness();
    for (let t = 0; t <= 60; t += 5) {
      h.reading({ device: "brk-main", ts: s(t), values: { current_a: 40 }, phases: { L1: { current_a: 30 }, L2: { current_a: 64.5 }, L3: { current_a: 20 } } });
    }
    const [opened] = h.alertChanges("overload");
    expect(opened?.alert).toMatchObject({ device: "brk-main", value: 64.5, threshold: 63 });
  });

  it("uses current_a on a 3-phase breaker that sends only totals", () => {
    const h = new Harness();
    h.hold("brk-main", 0, 60, 70);
    expect(h.open("overload")[0]?.value).toBe(70);
  });

  it("skips devices without rating_a", () => {
    const h = new Harness();
    h.hold("meter-1", 0, 300, 500);
    expect(h.alertChanges()).toEqual([]);
    expect(h.state.devices["meter-1"]?.rules.overload).toBeUndefined();
  });

  it("ignores readings without a current for duration logic", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 30, 17);
    h.reading({ device: "brk-101", ts: s(35), values: { energy_kwh: 12.5 } });
    h.hold("brk-101", 40, 60, 17);
    expect(h.open("overload")).toHaveLength(1);
  });

  it("ignores an out-of-order reading older than the last one seen", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 40, 17);
    h.current("brk-101", s(20), 0); // late: would break the on-delay if it counted
    h.hold("brk-101", 45, 60, 17);
    expect(h.open("overload")).toHaveLength(1);
    // Once open, a late low reading does not start the clear timer either.
    h.hold("brk-101", 65, 180, 10);
    h.current("brk-101", s(10), 17); // late high reading: must not break the clear timer
    h.current("brk-101", s(185), 10);
    expect(h.open("overload")).toHaveLength(0);
  });

  it("does not double-open when a sequence of readings is replayed twice", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 90, 17);
    h.hold("brk-101", 0, 90, 17);
    h.current("brk-101", s(90), 17);
    expect(h.alertChanges("overload").map((c) => c.change)).toEqual(["opened"]);
  });

  it("does not count a gap longer than 3 report intervals as a held current", () => {
    // brk-101 reports every 10 s; 60 s of silence proves nothing about the load in between.
    const h = new Harness();
    h.current("brk-101", s(0), 17);
    h.current("brk-101", s(60), 17);
    expect(h.open("overload")).toHaveLength(0);
    h.hold("brk-101", 70, 120, 17);
    expect(h.open("overload")).toHaveLength(1);
    expect(h.open("overload")[0]!.started_at).toBe(new Date(s(120)).toISOString());
  });

  it("measures durations in event time, whatever the wall clock says", () => {
    const h = new Harness();
    const wallBefore = h.wall;
    h.hold("brk-101", 0, 60, 17);
    expect(h.wall).toBe(wallBefore);
    expect(h.open("overload")[0]!.started_at).toBe(new Date(T0 + 60_000).toISOString());
  });
});
