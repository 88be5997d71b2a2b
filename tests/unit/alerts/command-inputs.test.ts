// The command desk's edges, pure: decoding of requests and relay reports, the `command` point in line
// protocol (CONTRACT §10 tags and fields), and the book saved with the alert state.
import { describe, expect, it } from "vitest";
import { commandLine } from "../../../alerts/commands/desk.js";
import { decodeCommandMessage } from "../../../alerts/commands/inputs.js";
import { parseSavedState } from "../../../alerts/persistence.js";
import { initialState } from "../../../alerts/engine.js";
import { CommandHarness } from "./command-harness.js";

describe("decoding command messages", () => {
  it("decodes a select request and a relay report, and leaves every other topic alone", () => {
    const request = { request_id: "r-1", step: "select", by: "operator:ab12cd34", device: "brk-101", action: "switch_off", reason: "heater" };
    expect(decodeCommandMessage("campus/internal/command-request", JSON.stringify(request), false)).toEqual({ ok: true, input: { kind: "request", request } });
    const report = { device: "brk-101", ts: 5, on: false, explicit: true, command_id: "x" };
    expect(decodeCommandMessage("campus/internal/relay/brk-101", JSON.stringify(report), false)).toEqual({ ok: true, input: { kind: "report", report } });
    expect(decodeCommandMessage("campus/internal/status/brk-101", JSON.stringify({ device: "brk-101", ts: 1, online: true }), false)).toBeNull();
    expect(decodeCommandMessage("campus/internal/commands", "{}", false)).toBeNull();
  });

  it("refuses a request without a reason or with an unknown action, keeping its request id to answer INVALID", () => {
    for (const bad of [{ step: "select", by: "op", device: "brk-101", action: "switch_off" }, { step: "select", by: "op", device: "brk-101", action: "explode", reason: "r" }]) {
      const decoded = decodeCommandMessage("campus/internal/command-request", JSON.stringify({ request_id: "r-2", ...bad }), false);
      expect(decoded).toMatchObject({ ok: false, kind: "command-request", requestId: "r-2" });
    }
    expect(decodeCommandMessage("campus/internal/command-request", "{not json", false)).toEqual({ ok: false, kind: "command-request", reason: "not a JSON object" });
  });

  it("refuses garbage relay reports, one for another device, and a retained copy", () => {
    const good = { device: "brk-101", ts: 5, on: true, explicit: false };
    const cases: [string, string, boolean][] = [
      ["campus/internal/relay/brk-101", "{garbage", false],
      ["campus/internal/relay/brk-101", JSON.stringify({ ...good, on: "maybe" }), false],
      ["campus/internal/relay/brk-102", JSON.stringify(good), false],
      ["campus/internal/relay/brk-101", JSON.stringify(good), true],
    ];
    for (const [topic, payload, retained] of cases) expect(decodeCommandMessage(topic, payload, retained)).toMatchObject({ ok: false, kind: "relay" });
  });
});

describe("the audit point", () => {
  it("has the contract's tags and fields, and the rest of the command as string fields", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    const line = commandLine(command, h.now);
    expect(line.startsWith(`command,action=switch_off,building=dorm-1,device=brk-101,site=s1,state=sent `)).toBe(true);
    expect(line).toContain(`command_id="${command.id}"`);
    expect(line).toContain(`issued_by="operator:alice000"`);
    expect(line).toContain(`reason="heater in room"`);
    expect(line).toContain(`sent_at="${command.sent_at}"`);
    expect(line).toContain(`room="101"`);
    expect(line.endsWith(` ${h.now}`)).toBe(true);
  });
});

describe("the saved book", () => {
  it("is accepted back from the state file with every command, and a file without it is still read", () => {
    const h = new CommandHarness();
    h.sent("brk-101");
    h.select("plug-101");
    const base = { version: 1 as const, saved_at: "2030-01-01T00:00:00.000Z", engine: initialState(), pending_writes: [] };
    const parsed = parseSavedState(JSON.stringify({ ...base, commands: h.book }));
    expect(parsed).toEqual({ ok: true, saved: { ...base, commands: JSON.parse(JSON.stringify(h.book)) } });
    expect(parseSavedState(JSON.stringify(base)).ok).toBe(true);
  });

  it("refuses a book whose command is of another shape", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    const broken = structuredClone(h.book);
    (broken.commands[command.id]!.command as { state: string }).state = "half-sent";
    const parsed = parseSavedState(JSON.stringify({ version: 1, saved_at: "x", engine: initialState(), pending_writes: [], commands: broken }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(/commands/);
  });
});
