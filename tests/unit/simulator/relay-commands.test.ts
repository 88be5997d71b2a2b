// A simulated device reads its commands as a real device of its format does: the product's own command
// messages (domain/formats/commands.ts) in every format, garbage, and a native command past its expiry.
import { describe, expect, it } from "vitest";
import type { Device } from "../../../domain/campus.js";
import { COMMAND_ACTIONS } from "../../../domain/command.js";
import { commandMessage } from "../../../domain/formats/commands.js";
import { loadCampus } from "../../../infra/campus-file.js";
import type { Fault } from "../../../simulator/faults.js";
import { decideCommand, parseCommand } from "../../../simulator/relay-commands.js";

const campus = loadCampus("scenarios/campus.yaml");
const ofFormat = (format: Device["format"]) => campus.devices.find((d) => d.format === format && d.kind !== "meter")!;
const FORMATS = ["native", "tasmota", "shelly-gen1", "shelly-gen2", "zigbee2mqtt"] as const;
const EXPIRES = "2026-11-25T12:00:30.000Z";
const command = (action: (typeof COMMAND_ACTIONS)[number]) => ({ id: "cmd-1", action, issued_by: "operator:ab12", expires_at: EXPIRES });
const behaviour = (mode: NonNullable<Fault["behaviour"]>, delayMs = 0): Fault => ({ type: "command", device: "x", atMs: 0, forMs: Infinity, rampMs: 0, value: delayMs, behaviour: mode });

describe("a simulated device reading its command topic", () => {
  it("reads the product's switch_off and switch_on in every format", () => {
    for (const format of FORMATS) {
      const device = ofFormat(format);
      for (const action of COMMAND_ACTIONS) {
        const parsed = parseCommand(format, commandMessage(device, command(action), 41).payload);
        expect(parsed.ok, `${format} ${action}`).toBe(true);
        if (!parsed.ok) continue;
        expect(parsed.request.intent, `${format} ${action}`).toBe(action === "switch_on" ? "on" : "off");
        if (format === "native") expect(parsed.request).toMatchObject({ commandId: "cmd-1", expiresAtMs: Date.parse(EXPIRES) });
        if (format === "shelly-gen2") expect(parsed.request.rpc).toEqual({ id: 41, src: `campus-power/${device.id}` });
      }
    }
  });

  it("reads what the real devices also take: Tasmota 0/1/TOGGLE and an empty query, Gen1 toggle, Gen2 Switch.Toggle, Z2M in any case", () => {
    expect([..."01"].map((p) => parseCommand("tasmota", p))).toEqual([
      { ok: true, request: { intent: "off" } },
      { ok: true, request: { intent: "on" } },
    ]);
    expect(parseCommand("tasmota", "toggle")).toEqual({ ok: true, request: { intent: "toggle" } });
    expect(parseCommand("tasmota", "")).toEqual({ ok: true, request: { intent: "query" } });
    expect(parseCommand("shelly-gen1", "toggle")).toEqual({ ok: true, request: { intent: "toggle" } });
    expect(parseCommand("shelly-gen2", '{"id":"a","src":"me","method":"Switch.Toggle","params":{"id":0}}')).toEqual({ ok: true, request: { intent: "toggle", rpc: { id: "a", src: "me" } } });
    expect(parseCommand("zigbee2mqtt", '{"state":"off","brightness":3}')).toEqual({ ok: true, request: { intent: "off" } });
  });

  it("takes garbage for nothing, and answers a Gen2 request it cannot carry out with the RPC error a Shelly gives", () => {
    for (const [format, payload] of [
      ["native", "{not json"],
      ["native", '{"id":"c","action":"explode","issued_by":"x","expires_at":"2026-11-25T12:00:30Z"}'],
      ["native", '{"id":"c","action":"switch_off","issued_by":"x","expires_at":"soon"}'],
      ["tasmota", "BLINK"],
      ["shelly-gen1", "ON"],
      ["zigbee2mqtt", '{"brightness":3}'],
      ["shelly-gen2", '{"method":"Switch.Set","params":{"id":0,"on":false}}'],
    ] as const) {
      const parsed = parseCommand(format, payload);
      expect(parsed.ok, `${format} ${payload}`).toBe(false);
      expect(decideCommand(parsed, null, 0), `${format} ${payload}`).toMatchObject({ outcome: "invalid" });
      expect(decideCommand(parsed, null, 0).action, `${format} ${payload}`).toBeUndefined();
    }
    const rpc = { id: 7, src: "campus-power/x" };
    const wrongMethod = parseCommand("shelly-gen2", '{"id":7,"src":"campus-power/x","method":"Switch.Sett","params":{"id":0,"on":false}}');
    expect(decideCommand(wrongMethod, behaviour("ignore"), 0).action).toEqual({ kind: "reject", afterMs: 0, error: { rpc, code: 404, message: "No handler for Switch.Sett" } });
    expect(parseCommand("shelly-gen2", '{"id":7,"src":"campus-power/x","method":"Switch.Set","params":{"id":1,"on":false}}')).toMatchObject({ rpcError: { rpc, code: -105 } });
    expect(parseCommand("shelly-gen2", '{"id":7,"src":"campus-power/x","method":"Switch.Set","params":{"id":0}}')).toMatchObject({ rpcError: { rpc, code: -103 } });
  });
});

describe("what a simulated device does about a command", () => {
  const offCommand = parseCommand("native", JSON.stringify(command("switch_off")));
  const beforeExpiry = Date.parse(EXPIRES) - 1;

  it("obeys at once unless told otherwise", () => {
    expect(decideCommand(offCommand, null, beforeExpiry)).toEqual({ outcome: "obeyed", action: { kind: "switch", afterMs: 0, request: { intent: "off", commandId: "cmd-1", expiresAtMs: Date.parse(EXPIRES) } } });
  });

  it("ignores a native command past its expires_at, by its own clock", () => {
    expect(decideCommand(offCommand, null, Date.parse(EXPIRES) + 1)).toMatchObject({ outcome: "expired" });
    expect(decideCommand(offCommand, null, Date.parse(EXPIRES) + 1).action).toBeUndefined();
  });

  it("ignores, refuses or takes its time when a command fault says so", () => {
    const ignored = decideCommand(offCommand, behaviour("ignore"), beforeExpiry);
    expect(ignored.outcome).toBe("ignored");
    expect(ignored.action).toBeUndefined();
    expect(decideCommand(offCommand, behaviour("refuse"), beforeExpiry)).toMatchObject({ outcome: "refused", action: { kind: "refuse", afterMs: 0 } });
    expect(decideCommand(offCommand, behaviour("slow", 20_000), beforeExpiry)).toMatchObject({ outcome: "delayed", action: { kind: "switch", afterMs: 20_000 } });
  });
});
