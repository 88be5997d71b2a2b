// The saved alert state (alerts/saved-state.ts, persistence.ts parseSavedState): everything the engine
// and the notifier produce is accepted back, and a file that is not JSON, or JSON of another shape, is
// refused with the reason (the service then sets it aside and starts empty: alerts.test.ts).
import { describe, expect, it } from "vitest";
import { due, emptyNotifyState, noteChange } from "../../../alerts/notify/planner.js";
import { parseSavedState } from "../../../alerts/persistence.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import type { SavedState } from "../../../alerts/saved-state.js";
import { addAlertSites } from "../../../alerts/state-upgrade.js";
import { openAlerts } from "../../../alerts/engine.js";
import { Harness, s, testCampus } from "./harness.js";
import { scenarioCampus } from "./scenario-campus.js";

/** A state with open, acknowledged, flapping and inhibited alerts, an API silence, a planner and an outbox. */
function busyState(): SavedState {
  const h = new Harness(defaultRules(), undefined, scenarioCampus());
  h.feed({ kind: "start" });
  h.hold("d1-101", 0, 60, 20);
  for (let t = 65; t < 1300; t += 5) h.reading({ device: "d1-102", ts: s(t), values: { power_w: t % 120 < 15 ? 1200 : 100 } }); // flapping power-limit
  h.feed({ kind: "status", status: { device: "d1-main", ts: s(0), online: false }, live: true });
  h.feed({ kind: "status", status: { device: "d1-103", ts: s(1), online: false }, live: true }); // inhibited under d1-main
  h.feed({ kind: "ack", request: { alert_id: h.open("overload")[0]!.id, by: "op", note: "seen", request_id: "r1" } });
  h.feed({ kind: "silence", request: { request_id: "s1", action: "create", by: "op", silence: { scope: { buildings: ["teach-1"] }, ends_at: "2099-01-01T00:00:00Z", reason: "works" } } });
  let notify = emptyNotifyState();
  for (const e of h.effects) if (e.type === "alert") notify = noteChange(notify, e.change, e.alert, 1_000);
  const cfg = { groupWindowMs: 0, repeatMs: {}, escalateMs: {}, secondary: false };
  const body = JSON.stringify(due(notify, 2_000, cfg).messages[0]!.body);
  const outbox = [{ id: "2000-1", target: "primary" as const, body, created_at: 2_000, attempts: 2, next_at: 3_000, expires_at: 90_000 }];
  return { version: 1, saved_at: "2030-01-01T00:00:00.000Z", engine: h.state, pending_writes: ["alert,device=d1-101 value=20 1"], notify: { state: notify, outbox, seq: 1 } };
}

describe("the saved alert state", () => {
  it("accepts back everything the engine and the notifier save", () => {
    const saved = busyState();
    expect(saved.engine.silences).toHaveLength(1);
    expect(Object.values(saved.engine.devices).flatMap((d) => Object.values(d.rules)).some((i) => i.flapping)).toBe(true);
    const parsed = parseSavedState(JSON.stringify(saved));
    expect(parsed).toEqual({ ok: true, saved: JSON.parse(JSON.stringify(saved)) });
  });

  it("accepts a file saved before pending InfluxDB points were kept, with none pending", () => {
    const { pending_writes: _, ...older } = busyState();
    const parsed = parseSavedState(JSON.stringify(older));
    expect(parsed.ok && parsed.saved.pending_writes).toEqual([]);
  });

  it("refuses a file that is not JSON, saying so", () => {
    expect(parseSavedState('{"version": 1, "engine": {')).toMatchObject({ ok: false, reason: expect.stringMatching(/^not JSON: /) });
  });

  it.each([
    ["another kind of JSON", "[1, 2, 3]", "(root)"],
    ["another version", JSON.stringify({ ...busyState(), version: 2 }), "/version"],
    ["a device slot that is not one", JSON.stringify({ ...busyState(), engine: { version: 1, devices: { "d1-101": 5 } } }), "/engine/devices/d1-101"],
    ["an outbox that is not a list", JSON.stringify({ ...busyState(), notify: { ...busyState().notify, outbox: 5 } }), "/notify/outbox"],
    ["an open alert without an id", JSON.stringify(withoutAlertId(busyState())), "/engine/devices/d1-101/rules/overload/alert/id"],
  ])("refuses %s, naming where", (_what, text, path) => {
    const parsed = parseSavedState(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(new RegExp(`^not an alert state: ${path.replace(/[()]/g, "\\$&")}: `));
  });
});

describe("a state file from before alerts carried their site (CONTRACT §9)", () => {
  /** The file's text with `site` taken off every alert object in it (engine, tracked, grouped). */
  const withoutSites = (saved: SavedState) => JSON.stringify(saved, (_key, value: unknown) => {
    if (typeof value !== "object" || value === null || !("rule" in value) || !("site" in value)) return value;
    const { site: _site, ...rest } = value as Record<string, unknown>;
    return rest;
  });
  const upgrade = (campus = scenarioCampus()) => (raw: unknown) => addAlertSites(raw, campus).raw;

  it("gives every alert in it its device's site", () => {
    const saved = busyState();
    const older = withoutSites(saved);
    expect(older).not.toContain('"site"');
    expect(parseSavedState(older).ok).toBe(false); // the schema wants the site: the upgrade is what reads it
    expect(parseSavedState(older, upgrade())).toEqual({ ok: true, saved: JSON.parse(JSON.stringify(saved)) });
  });

  it("leaves out, and names, the alerts of devices no site has any more, keeping the rest of the file", () => {
    const saved = busyState();
    const elsewhere = testCampus(); // another school: none of the saved devices is in it
    const { dropped } = addAlertSites(JSON.parse(withoutSites(saved)), elsewhere);
    const notify = saved.notify!.state;
    const everyAlert = [...openAlerts(saved.engine), ...Object.values(notify.alerts).map((t) => t.alert), ...Object.values(notify.groups).flatMap((g) => g.items.map((i) => i.alert))];
    expect(dropped.sort()).toEqual([...new Set(everyAlert.map((a) => a.id))].sort());
    const parsed = parseSavedState(withoutSites(saved), upgrade(elsewhere));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(openAlerts(parsed.saved.engine)).toEqual([]);
    expect(Object.values(parsed.saved.notify!.state.groups).flatMap((g) => g.items)).toEqual([]);
    expect([parsed.saved.notify!.state.alerts, parsed.saved.engine.silences?.length, parsed.saved.notify!.outbox.length]).toEqual([{}, 1, 1]);
  });
});

function withoutAlertId(saved: SavedState): unknown {
  const slot = saved.engine.devices["d1-101"]!;
  const { id: _, ...alert } = slot.rules.overload!.alert!;
  return { ...saved, engine: { ...saved.engine, devices: { ...saved.engine.devices, "d1-101": { ...slot, rules: { ...slot.rules, overload: { ...slot.rules.overload, alert } } } } } };
}
