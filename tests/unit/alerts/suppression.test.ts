// Flapping, inhibition and maintenance windows on the pure engine; the webhook planner.
import { describe, expect, it } from "vitest";
import { defaultRules } from "../../../alerts/rules/index.js";
import { due, emptyNotifyState, noteChange, type NotifyConfig } from "../../../alerts/notify/planner.js";
import { graceMs } from "../../../alerts/return-grace.js";
import { Harness, s } from "./harness.js";
import { SCENARIO_YAML, scenarioCampus } from "./scenario-campus.js";

const harness = () => new Harness(defaultRules(), undefined, scenarioCampus());
const power = (h: Harness, t: number, w: number) => h.reading({ device: "d1-101", ts: s(t), values: { power_w: w } });

describe("flapping guard (domain.md §8 row 27)", () => {
  it("pages at most 6 open/close cycles an hour, then keeps one info alert open until it calms down", () => {
    const h = harness();
    let t = 0;
    // power-limit: 10 s above opens, 60 s below 900 W clears — a cycle every ~2 min.
    for (let cycle = 0; cycle < 10; cycle += 1) {
      for (let i = 0; i < 3; i += 1) power(h, (t += 5), 1200);
      for (let i = 0; i < 13; i += 1) power(h, (t += 5), 100);
    }
    const changes = h.alertChanges("power-limit");
    expect(changes.filter((c) => c.change === "opened")).toHaveLength(7);
    const flapping = changes.filter((c) => c.alert.flapping);
    expect(flapping[0]).toMatchObject({ change: "opened", alert: { severity: "info", flapping: true } });
    expect(h.open("power-limit")).toHaveLength(1);
    // An hour of calm: fewer than 2 activations in the last hour ⇒ resolved.
    for (let i = 0; i < 800; i += 1) power(h, (t += 5), 100);
    expect(h.open("power-limit")).toEqual([]);
  });
});

describe("inhibition (domain.md §5, §8 row 22)", () => {
  it("links a child's offline alert to its parent's, keeps it so for the child's offline limit once the parent is back, then pages it if still silent", () => {
    const h = harness();
    h.feed({ kind: "status", status: { device: "d1-main", ts: s(0), online: false }, live: true });
    h.feed({ kind: "status", status: { device: "d1-101", ts: s(1), online: false }, live: true });
    const parent = h.open("offline").find((a) => a.device === "d1-main")!;
    const child = h.open("offline").find((a) => a.device === "d1-101")!;
    expect(parent.inhibited_by).toBeUndefined();
    expect(child.inhibited_by).toBe(parent.id);
    const back = h.wall;
    h.feed({ kind: "status", status: { device: "d1-main", ts: s(60), online: true }, live: true });
    expect(h.open("offline").map((a) => a.device)).toEqual(["d1-101"]);
    // Its rooms report every 5 s: each is given 3 × 5 s (the offline rule's limit) to report again.
    expect(graceMs(h.book, h.state, "d1-main")).toBe(15_000);
    expect(h.state.devices["d1-main"]?.track.returned).toEqual({ alert: parent.id, until: back + 15_000 });
    expect(h.open("offline")[0]!.inhibited_by).toBe(parent.id);
    h.wall = back + 14_999;
    expect(h.feed({ kind: "tick" }).filter((e) => e.type === "alert")).toEqual([]);
    h.wall = back + 15_000;
    const paged = h.feed({ kind: "tick" });
    expect(paged).toMatchObject([{ type: "alert", change: "updated", alert: { id: child.id, device: "d1-101", state: "firing" } }]);
    expect(h.open("offline")[0]!.inhibited_by).toBeUndefined();
    expect(h.state.devices["d1-main"]?.track.returned).toBeUndefined();
  });

  it("never pages a child that reports within its grace after its parent is back", () => {
    const h = harness();
    const cfg: NotifyConfig = { groupWindowMs: 0, repeatMs: {}, escalateMs: {}, secondary: false };
    let ns = emptyNotifyState();
    const pages: string[] = [];
    const note = (effects: ReturnType<Harness["feed"]>) => {
      for (const e of effects) if (e.type === "alert") ns = noteChange(ns, e.change, e.alert, h.wall);
      const out = due(ns, h.wall, cfg);
      ns = out.state;
      for (const m of out.messages) pages.push(`${String(m.body.event)} ${(m.body.alert as { device: string }).device}`);
    };
    note(h.feed({ kind: "status", status: { device: "d1-main", ts: s(0), online: false }, live: true }));
    note(h.feed({ kind: "status", status: { device: "d1-101", ts: s(1), online: false }, live: true }));
    note(h.feed({ kind: "status", status: { device: "d1-102", ts: s(1), online: false }, live: true }));
    note(h.feed({ kind: "status", status: { device: "d1-main", ts: s(60), online: true }, live: true }));
    h.wall += 5_000;
    note(h.feed({ kind: "tick" }));
    note(h.feed({ kind: "status", status: { device: "d1-101", ts: s(65), online: true }, live: true }));
    h.wall += 10_000;
    note(h.feed({ kind: "tick" }));
    // d1-101 came back within its 15 s: never paged. d1-102 did not: paged once its grace ended.
    expect(pages).toEqual(["opened d1-main", "resolved d1-main", "opened d1-102"]);
  });

  it("also inhibits under a parent's open device-trip alert, even when the child's alert opened first", () => {
    const h = harness();
    h.feed({ kind: "status", status: { device: "d1-102", ts: s(0), online: false }, live: true });
    h.feed({ kind: "event", event: { device: "d1-main", ts: s(1), type: "trip", reason: "overload" } });
    const trip = h.open("device-trip")[0]!;
    expect(h.open("offline")[0]).toMatchObject({ device: "d1-102", inhibited_by: trip.id });
  });
});

describe("maintenance windows (silences)", () => {
  it("marks alerts in a campus-file window as silenced, but never a latched critical fire alarm", () => {
    const h = harness();
    h.reading({ device: "l1-main", ts: s(0), values: {}, phases: { L1: { voltage_v: 50 }, L2: { voltage_v: 220 }, L3: { voltage_v: 220 } } });
    h.reading({ device: "l1-main", ts: s(10), values: {}, phases: { L1: { voltage_v: 50 }, L2: { voltage_v: 220 }, L3: { voltage_v: 220 } } });
    expect(h.open("phase-loss")[0]).toMatchObject({ silenced_by: "lab-works" });
    h.feed({ kind: "event", event: { device: "l1-main", ts: s(20), type: "arc" } });
    expect(h.open("arc-fault")[0]?.silenced_by).toBeUndefined();
  });

  it("creates a silence by request, publishes the list, and refuses to end a campus-file one", () => {
    const h = harness();
    const ends = new Date(h.wall + 3_600_000).toISOString();
    const created = h.feed({ kind: "silence", request: { request_id: "q1", action: "create", by: "op", silence: { scope: { devices: ["d1-101"] }, ends_at: ends, reason: "relay swap" } } });
    const result = created.find((e) => e.type === "silence-result");
    expect(result).toMatchObject({ requestId: "q1", result: { ok: true, silence: { source: "api", reason: "relay swap", scope: { devices: ["d1-101"] } } } });
    const list = created.find((e) => e.type === "silences");
    expect(list?.type === "silences" && list.silences.map((x) => x.id)).toHaveLength(2);
    for (let t = 0; t <= 15; t += 5) power(h, t, 1500);
    const id = result?.type === "silence-result" && result.result.ok ? result.result.silence.id : "";
    expect(h.open("power-limit")[0]?.silenced_by).toBe(id);

    const readOnly = h.feed({ kind: "silence", request: { request_id: "q2", action: "end", by: "op", silence_id: "lab-works" } });
    expect(readOnly[0]).toMatchObject({ type: "silence-result", result: { ok: false, code: "READ_ONLY" } });
    const invalid = h.feed({ kind: "silence", request: { request_id: "q3", action: "create", by: "op", silence: { scope: { devices: ["nope"] }, ends_at: ends, reason: "x" } } });
    expect(invalid[0]).toMatchObject({ result: { ok: false, code: "INVALID" } });
    const ended = h.feed({ kind: "silence", request: { request_id: "q4", action: "end", by: "op", silence_id: id } });
    expect(ended.find((e) => e.type === "silence-result")).toMatchObject({ result: { ok: true, silence: { id } } });
    expect(h.open("power-limit")[0]?.silenced_by).toBeUndefined(); // paged now that the window ended
  });
});

describe("webhook planner", () => {
  const cfg: NotifyConfig = { groupWindowMs: 1000, repeatMs: { critical: 60_000 }, escalateMs: { critical: 300_000 }, secondary: true };
  const alert = (id: string, extra = {}) => ({ id, rule: "offline", device: id, building: "dorm-1", site: "s", severity: "critical" as const, state: "firing" as const, value: 0, threshold: 30, message: "m", started_at: "", updated_at: "", ...extra });

  it("groups a building's alerts in one message, drops the ones inhibited meanwhile, repeats and escalates while unacknowledged", () => {
    let ns = emptyNotifyState();
    ns = noteChange(ns, "opened", alert("a"), 0);
    ns = noteChange(ns, "opened", alert("b"), 100);
    ns = noteChange(ns, "updated", alert("b", { inhibited_by: "a-alert" }), 200);
    expect(due(ns, 500, cfg).messages).toEqual([]);
    const flushed = due(ns, 1000, cfg);
    expect(flushed.messages).toHaveLength(1);
    expect(flushed.messages[0]!.body).toMatchObject({ event: "opened", alert: { id: "a" }, group: { building: "dorm-1", count: 1 } });
    ns = flushed.state;
    expect(due(ns, 61_000, cfg).messages.map((m) => m.body.event)).toEqual(["reminder"]);
    const late = due(ns, 301_000, cfg).messages;
    expect(late.find((m) => m.target === "secondary")?.body).toMatchObject({ event: "escalated", escalation: { reason: "unacknowledged" } });
  });
});

describe("maintenance windows on the watchdog's clock", () => {
  it("marks an open alert silenced on the tick its window begins and unmarks it on the tick it ends, and nothing in between", () => {
    const yaml = SCENARIO_YAML.replace('starts_at: "2020-01-01T00:00:00Z", ends_at: "2099-01-01T00:00:00Z"', 'starts_at: "2030-01-01T00:10:00Z", ends_at: "2030-01-01T00:20:00Z"');
    const h = new Harness(defaultRules(), undefined, scenarioCampus(yaml));
    h.feed({ kind: "start" });
    const lossAt = (t: number) => h.reading({ device: "l1-main", ts: s(t), values: {}, phases: { L1: { voltage_v: 50 }, L2: { voltage_v: 220 }, L3: { voltage_v: 220 } } });
    lossAt(0);
    lossAt(10);
    expect(h.open("phase-loss")[0]?.silenced_by).toBeUndefined(); // the window has not begun (wall 00:00)
    const tickAt = (iso: string) => {
      h.wall = Date.parse(iso);
      lossAt((h.wall - Date.parse("2030-01-01T00:00:00Z")) / 1000 + 20); // the device keeps reporting: no watchdog fires
      return h.feed({ kind: "tick" }).filter((e) => e.type === "alert" && e.alert.device === "l1-main"); // the others go offline meanwhile
    };
    expect(tickAt("2030-01-01T00:09:59Z")).toEqual([]);
    expect(tickAt("2030-01-01T00:10:00Z")).toMatchObject([{ change: "updated", alert: { rule: "phase-loss", silenced_by: "lab-works" } }]);
    expect(tickAt("2030-01-01T00:15:00Z")).toEqual([]);
    const ended = tickAt("2030-01-01T00:20:00Z");
    expect(ended).toMatchObject([{ change: "updated", alert: { rule: "phase-loss" } }]);
    expect(ended[0]?.type === "alert" && ended[0].alert.silenced_by).toBeUndefined();
  });
});
