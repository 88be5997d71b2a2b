// Schedules and rules give the command core orders (CONTRACT §10): selected and operated in one step, by
// `schedule:{id}` or `rule:{rule id}`, audited like a person's command, and refused exactly as a person's
// selection would be: a protected, unswitchable, offline or busy device is never forced.
import { describe, expect, it } from "vitest";
import { CommandHarness, outcome } from "./command-harness.js";

describe("orders of schedules and rules", () => {
  it("selects and operates at once: both changes announced, the device's own command sent, by the issuer", () => {
    const h = new CommandHarness();
    const result = h.order({ device: "brk-101", by: "schedule:lights-out", reason: "Lights out (schedule lights-out)" });
    if (!result.ok) return expect.unreachable(result.message);
    expect(result.command).toMatchObject({ device: "brk-101", action: "switch_off", state: "sent", issued_by: "schedule:lights-out", reason: "Lights out (schedule lights-out)", building: "dorm-1", room: "101" });
    expect(h.changes().map((c) => c.state)).toEqual(["selected", "sent"]);
    expect(h.sends()).toEqual([expect.objectContaining({ topic: "campus/devices/brk-101/commands" })]);
    expect(result.command.alert_id).toBeUndefined();
    // The device's word confirms it as it would a person's.
    h.report({ device: "brk-101", on: false });
    expect(h.command(result.command.id).state).toBe("confirmed");
  });

  it("carries the alert that made a rule switch", () => {
    const h = new CommandHarness();
    const result = h.order({ device: "plug-101", by: "rule:malignant-load", alert_id: "brk-101.malignant-load.1.1" });
    expect(result.ok && result.command).toMatchObject({ issued_by: "rule:malignant-load", alert_id: "brk-101.malignant-load.1.1" });
    expect(h.sends()[0]).toMatchObject({ topic: "cmnd/tasmota_101/POWER", payload: "OFF" });
  });

  it("refuses a protected device, a feeder of one, and a device without a relay: nothing selected, nothing sent", () => {
    const h = new CommandHarness();
    const before = h.book;
    expect(outcome(h.order({ device: "brk-fire-pump" }))).toBe("PROTECTED");
    expect(outcome(h.order({ device: "brk-pump-feeder", action: "switch_on" }))).toBe("PROTECTED");
    expect(outcome(h.order({ device: "meter-1" }))).toBe("NOT_SWITCHABLE");
    expect(outcome(h.order({ device: "brk-fixed" }))).toBe("NOT_SWITCHABLE");
    expect(outcome(h.order({ device: "nowhere" }))).toBe("NOT_FOUND");
    expect(h.book).toBe(before);
    expect(h.changes()).toEqual([]);
    expect(h.sends()).toEqual([]);
  });

  it("refuses an offline device and one whose command is in flight", () => {
    const h = new CommandHarness();
    h.status("brk-101", false);
    expect(outcome(h.order({ device: "brk-101" }))).toBe("DEVICE_OFFLINE");
    h.sent("shelly-102");
    const busy = h.order({ device: "shelly-102", action: "switch_on", by: "schedule:power-on" });
    expect(busy).toMatchObject({ ok: false, code: "BUSY", message: expect.stringContaining("one command per device at a time") });
    expect(h.sends()).toHaveLength(1);
  });
});
