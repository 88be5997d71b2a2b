// The district in the alerts service (CONTRACT §9), pure: every device is judged by its own school — its
// zone and occupied hours, nominal voltage, `alerts:` section, maintenance windows, dormitory actions and
// schedules — never by the first school's; its alerts and commands carry its site. East (Shanghai, 220 V)
// is the first site, West (Berlin, 230 V) the second: district-campus.ts.
import { describe, expect, it } from "vitest";
import { emptyPowerRuleState, step } from "../../../alerts/automation/power-rule.js";
import { checkSchedules, describeRun, runOrders, startSchedules } from "../../../alerts/automation/scheduler.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { alertLine } from "../../../alerts/writer.js";
import type { Alert } from "../../../domain/alert.js";
import type { Reading } from "../../../domain/reading.js";
import { CommandHarness } from "./command-harness.js";
import { districtCampus } from "./district-campus.js";
import { Harness } from "./harness.js";

const campus = districtCampus();
const harness = () => new Harness(defaultRules(), undefined, campus);
/** Readings of both devices every `stepS` of event time from `from` for `seconds`. */
function feed(h: Harness, devices: string[], from: number, seconds: number, stepS: number, values: Reading["values"]) {
  for (let t = 0; t <= seconds; t += stepS) for (const device of devices) h.reading({ device, ts: from + t * 1000, values });
}
const T = Date.parse("2026-11-30T02:00:00Z");
/** A malignant-load alert opened on a dormitory room's breaker (`east-101`, `west-101`). */
const malignantLoad = (device: string): Alert => {
  const site = device.split("-")[0]!;
  return { id: `${device}.malignant-load.1.1`, rule: "malignant-load", device, building: `${site}-dorm`, site, severity: "warning", state: "firing", value: 1500, threshold: 300, message: "a heater", started_at: "", updated_at: "" };
};

describe("rules judge each device by its own site", () => {
  it("measures a voltage against its own site's nominal voltage", () => {
    const h = harness();
    // 243 V for 6 min: above 220 V + 7 % (235.4 V) in East, below 230 V + 7 % (246.1 V) in West.
    feed(h, ["east-feed", "west-feed"], T, 360, 10, { voltage_v: 243 });
    expect(h.open("overvoltage").map((a) => [a.device, a.threshold])).toEqual([["east-feed", 235.4]]);
  });

  it("tunes a device's rules by its own site's alerts section", () => {
    const h = harness();
    // East shortens overload's on-delay to 10 s; West keeps the default 60 s.
    feed(h, ["east-101", "west-101"], T, 30, 5, { current_a: 20 });
    expect(h.open("overload").map((a) => a.device)).toEqual(["east-101"]);
    feed(h, ["east-101", "west-101"], T + 35_000, 40, 5, { current_a: 20 });
    expect(h.open("overload").map((a) => a.device).sort()).toEqual(["east-101", "west-101"]);
  });

  it("judges after hours in each site's own zone: noon in Shanghai is 05:00 in Berlin", () => {
    const h = harness();
    const wednesdayNoonInShanghai = Date.parse("2026-12-02T04:00:00Z"); // a school day in both
    feed(h, ["east-feed", "west-feed"], wednesdayNoonInShanghai, 40 * 60, 60, { power_w: 500 });
    expect(h.open("after-hours").map((a) => a.device)).toEqual(["west-feed"]);
  });

  it("mutes with a school's maintenance window only that school's alerts, even one scoped by rule alone", () => {
    const h = harness();
    feed(h, ["east-101", "west-101"], T, 75, 5, { current_a: 20 });
    const bySite = Object.fromEntries(h.open("overload").map((a) => [a.site, a.silenced_by ?? null]));
    expect(bySite).toEqual({ east: "east-rewiring", west: null });
  });
});

describe("the site on alerts", () => {
  it("carries the device's site on the alert object and on its InfluxDB point", () => {
    const h = harness();
    feed(h, ["east-101", "west-101"], T, 75, 5, { current_a: 20 });
    const [east, west] = ["east-101", "west-101"].map((device) => h.open("overload").find((a) => a.device === device)!);
    expect([east!.site, west!.site]).toEqual(["east", "west"]);
    expect(alertLine(west!, T)).toMatch(/^alert,building=west-dorm,device=west-101,rule=overload,severity=major,site=west /);
  });
});

describe("automation per site", () => {
  it("runs each site's schedule at 23:00 in its own zone, on that site's devices", () => {
    const eastAt = Date.parse("2030-01-08T15:00:00Z"); // 23:00 in Shanghai
    const westAt = Date.parse("2030-01-08T22:00:00Z"); // 23:00 in Berlin (CET)
    const started = startSchedules(campus, null, eastAt - 1_000).clock;
    const east = checkSchedules(campus, started, eastAt + 100);
    const west = checkSchedules(campus, east.clock, westAt + 100);
    expect([...east.due, ...west.due].map(describeRun)).toEqual(["east-lights-out at 2030-01-08 23:00 (Asia/Shanghai)", "west-lights-out at 2030-01-08 23:00 (Europe/Berlin)"]);
    expect([...east.missed, ...west.missed]).toEqual([]);
    expect(west.due.flatMap(runOrders)).toEqual([{ device: "west-101", action: "switch_off", by: "schedule:west-lights-out", reason: "Lights out (schedule west-lights-out, 2030-01-08 23:00 Europe/Berlin)" }]);
  });

  it("switches a room off by its own site's dormitory action", () => {
    const west = step(campus, emptyPowerRuleState(), { kind: "opened", alert: malignantLoad("west-101") }, T);
    const east = step(campus, emptyPowerRuleState(), { kind: "opened", alert: malignantLoad("east-101") }, T);
    expect(west.effects).toEqual([expect.objectContaining({ type: "order", order: expect.objectContaining({ device: "west-101", action: "switch_off", by: "rule:malignant-load" }) })]);
    expect(west.state.circuits["west-101"]?.restore_at).toBe(T + 5 * 60_000);
    expect(east.effects).toEqual([]);
  });

  it("counts a room's restores per day of its own site", () => {
    const cut = Date.parse("2030-01-08T20:00:00Z"); // 21:00 on the 8th in Berlin, 04:00 on the 9th in Shanghai
    const off = step(campus, emptyPowerRuleState(), { kind: "opened", alert: malignantLoad("west-101") }, cut);
    const restoreAt = cut + 5 * 60_000;
    const on = step(campus, off.state, { kind: "tick" }, restoreAt);
    expect(on.effects).toEqual([expect.objectContaining({ type: "order", order: expect.objectContaining({ device: "west-101", action: "switch_on" }) })]);
    const command = { id: "c1", device: "west-101", site: "west", action: "switch_on" as const, reason: "", issued_by: "rule:malignant-load", state: "sent" as const, selected_at: "", expires_at: "", building: "west-dorm" };
    const restored = step(campus, on.state, { kind: "issued", device: "west-101", action: "switch_on", result: { ok: true, command } }, restoreAt);
    expect(restored.state.restores).toEqual({ "west-101": { day: "2030-01-08", count: 1 } });
  });

  it("gives a command the site of its device", () => {
    const h = new CommandHarness(undefined, campus);
    const selected = h.select("west-101");
    expect(selected.ok && selected.command.site).toBe("west");
  });
});
