import { describe, expect, it } from "vitest";
import { Harness, s } from "./harness.js";

const TICK_MS = 1_000;

/** Advances the wall clock tick by tick for `ms`, feeding a tick at each step. */
function runTicks(h: Harness, ms: number, tickMs = TICK_MS) {
  const end = h.wall + ms;
  while (h.wall + tickMs <= end) {
    h.wall += tickMs;
    h.feed({ kind: "tick" });
  }
}

// brk-101 reports every 10 s → offline after 30 s of silence; smoke-1 is a detector (60 s → 180 s).
describe("offline rule (domain.md §8 row 22)", () => {
  it("raises offline at once on an offline status (last will)", () => {
    const h = new Harness();
    h.feed({ kind: "start" });
    h.feed({ kind: "status", status: { device: "brk-101", ts: s(5), online: false }, live: true });
    const [opened] = h.alertChanges("offline");
    expect(opened?.change).toBe("opened");
    expect(opened?.alert).toMatchObject({ device: "brk-101", severity: "warning", state: "firing", started_at: new Date(s(5)).toISOString() });
    expect(opened?.alert.message).toContain("Dormitory 1, room 101: breaker brk-101 (16 A, curve C) went offline");
  });

  it("raises offline as major for a fire-monitoring detector", () => {
    const h = new Harness();
    h.feed({ kind: "status", status: { device: "smoke-1", ts: s(0), online: false }, live: true });
    expect(h.open("offline")[0]?.severity).toBe("major");
  });

  it("ignores a repeated or older offline status", () => {
    const h = new Harness();
    h.feed({ kind: "status", status: { device: "brk-101", ts: s(5), online: false }, live: true });
    h.feed({ kind: "status", status: { device: "brk-101", ts: s(5), online: false }, live: true });
    h.current("brk-101", s(20), 3); // back
    h.feed({ kind: "status", status: { device: "brk-101", ts: s(5), online: false }, live: false }); // retained replay
    expect(h.alertChanges("offline").map((c) => c.change)).toEqual(["opened", "resolved"]);
  });

  it("raises offline by watchdog exactly at 3 × the report interval after the last data", () => {
    const h = new Harness();
    h.feed({ kind: "start" });
    h.current("brk-101", s(0), 3);
    const lastSeen = h.wall;
    h.wall = lastSeen + 29_999;
    h.feed({ kind: "tick" });
    expect(h.open("offline").filter((a) => a.device === "brk-101")).toHaveLength(0);
    h.wall = lastSeen + 30_000;
    h.feed({ kind: "tick" });
    const alert = h.open("offline").find((a) => a.device === "brk-101");
    expect(alert).toMatchObject({ severity: "warning", threshold: 30, value: 30, started_at: new Date(lastSeen + 30_000).toISOString() });
    expect(alert?.message).toContain("sent no data for 30 s (limit 30 s = 3 × its 10 s report interval)");
  });

  it("is never later than one tick on a 1 s timer, whatever the phase of the tick", () => {
    for (const offsetMs of [1, 250, 999]) {
      const h = new Harness();
      h.feed({ kind: "start" });
      h.wall += offsetMs; // the last data arrives between two ticks
      h.current("brk-101", s(0), 3);
      const deadline = h.wall + 30_000;
      h.wall -= offsetMs;
      let noticedAt: number | undefined;
      while (noticedAt === undefined && h.wall < deadline + 5_000) {
        h.wall += TICK_MS;
        const effects = h.feed({ kind: "tick" });
        if (effects.some((e) => e.type === "alert" && e.alert.device === "brk-101")) noticedAt = h.wall;
      }
      expect(noticedAt! - deadline).toBeGreaterThanOrEqual(0);
      expect(noticedAt! - deadline).toBeLessThan(TICK_MS);
      expect(h.open("offline").find((a) => a.device === "brk-101")?.started_at).toBe(new Date(deadline).toISOString());
    }
  });

  it("counts the watchdog from the service start for a device never seen", () => {
    const h = new Harness();
    h.feed({ kind: "tick" }); // before start: no clock to count from
    expect(h.alertChanges()).toEqual([]);
    const startedAt = h.wall;
    h.feed({ kind: "start" });
    runTicks(h, 29_000);
    expect(h.open("offline").find((a) => a.device === "brk-101")).toBeUndefined();
    runTicks(h, 1_000);
    expect(h.open("offline").find((a) => a.device === "brk-101")?.started_at).toBe(new Date(startedAt + 30_000).toISOString());
    // The detector has a longer interval (60 s → 180 s) and is still within it.
    expect(h.open("offline").find((a) => a.device === "smoke-1")).toBeUndefined();
  });

  it("opens the watchdog alert once, not on every tick", () => {
    const h = new Harness();
    h.feed({ kind: "start" });
    runTicks(h, 120_000);
    expect(h.alertChanges("offline").filter((c) => c.alert.device === "brk-101")).toHaveLength(1);
  });

  it("keeps the watchdog quiet while live data keeps arriving", () => {
    const h = new Harness();
    h.feed({ kind: "start" });
    for (let i = 0; i < 12; i++) {
      runTicks(h, 10_000);
      h.current("brk-101", s(i * 10), 3);
    }
    expect(h.open("offline").find((a) => a.device === "brk-101")).toBeUndefined();
  });

  it("does not take a retained replay of an old reading as a sign of life", () => {
    const h = new Harness();
    h.feed({ kind: "start" });
    runTicks(h, 20_000);
    h.reading({ device: "brk-101", ts: s(0), values: { current_a: 3 } }, false);
    runTicks(h, 10_000);
    expect(h.open("offline").find((a) => a.device === "brk-101")).toBeDefined();
  });

  it.each([
    ["a reading", (h: Harness) => h.current("brk-101", s(100), 3)],
    ["a late buffered reading", (h: Harness) => h.current("brk-101", s(-500), 3)],
    ["an online status", (h: Harness) => h.feed({ kind: "status", status: { device: "brk-101", ts: s(100), online: true }, live: true })],
    ["a device event", (h: Harness) => h.feed({ kind: "event", event: { device: "brk-101", ts: s(100), type: "switch", reason: "manual" } })],
  ])("clears offline on %s", (_name, message) => {
    const h = new Harness();
    h.feed({ kind: "start" });
    h.current("brk-101", s(0), 3);
    runTicks(h, 31_000);
    expect(h.open("offline").find((a) => a.device === "brk-101")).toBeDefined();
    message(h);
    expect(h.open("offline").find((a) => a.device === "brk-101")).toBeUndefined();
    expect(h.alertChanges("offline").filter((c) => c.alert.device === "brk-101").at(-1)?.change).toBe("resolved");
  });

  it("restarts the watchdog after a device comes back", () => {
    const h = new Harness();
    h.feed({ kind: "start" });
    runTicks(h, 31_000);
    h.current("brk-101", s(0), 3);
    runTicks(h, 31_000);
    const changes = h.alertChanges("offline").filter((c) => c.alert.device === "brk-101").map((c) => c.change);
    expect(changes).toEqual(["opened", "resolved", "opened"]);
  });
});
