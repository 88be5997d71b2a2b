// The pure command core: what the device reports decides (CONTRACT §10 and the confirmation table of
// issue 11), including the answers that must change nothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isFinal } from "../../../domain/command.js";
import { CommandHarness, TIMEOUT_MS } from "./command-harness.js";

describe("confirmation", () => {
  it("confirms on the first periodic report after sending that shows the commanded state", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101", "switch_off");
    h.advance(1_000).report({ device: "brk-101", on: false });
    expect(h.command(command.id)).toMatchObject({ state: "confirmed", confirmed_at: new Date(h.now).toISOString(), detail: "brk-101 reported its relay off" });
    expect(h.book.active).toEqual({});
  });

  it("is not failed by a periodic report of the opposite state: it may have left before the device acted", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101", "switch_off");
    h.report({ device: "brk-101", on: true });
    expect(h.command(command.id).state).toBe("sent");
    h.report({ device: "brk-101", on: false });
    expect(h.command(command.id).state).toBe("confirmed");
  });

  it("fails on an explicit answer of the opposite state (Tasmota keeping its relay on)", () => {
    const h = new CommandHarness();
    const command = h.sent("plug-101", "switch_off");
    h.report({ device: "plug-101", on: true, explicit: true });
    expect(h.command(command.id)).toMatchObject({ state: "failed", detail: "plug-101 answered that its relay stayed on" });
  });

  it("confirms on an explicit answer of the commanded state", () => {
    const h = new CommandHarness();
    const command = h.sent("plug-101", "switch_on");
    h.report({ device: "plug-101", on: true, explicit: true });
    expect(h.command(command.id).state).toBe("confirmed");
  });

  it("fails on an explicit answer with an error, saying why", () => {
    const h = new CommandHarness();
    const command = h.sent("shelly-102");
    const rpcId = h.book.commands[command.id]!.rpc_id!;
    h.report({ device: "shelly-102", explicit: true, rpc_id: rpcId, error: "-103: relay locked by overtemperature" });
    expect(h.command(command.id)).toMatchObject({ state: "failed", detail: "shelly-102 refused the command: -103: relay locked by overtemperature" });
  });

  it("confirms a Shelly Gen2 RPC reply with the request's id and no error", () => {
    const h = new CommandHarness();
    const command = h.sent("shelly-102");
    h.report({ device: "shelly-102", explicit: true, rpc_id: h.book.commands[command.id]!.rpc_id! });
    expect(h.command(command.id)).toMatchObject({ state: "confirmed", detail: "shelly-102 answered the command without an error" });
  });

  it("ignores a periodic report older than the command by more than the device-clock tolerance (a buffered flush)", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101", "switch_off");
    h.report({ device: "brk-101", on: false, ts: h.now - 3_600_000 });
    expect(h.command(command.id).state).toBe("sent");
  });

  it("ignores relay reports about a device whose command is only selected", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    h.report({ device: "brk-101", on: false, explicit: true });
    expect(selected.ok && h.command(selected.command.id).state).toBe("selected");
  });

  it("times out rather than confirms when the report arrives after COMMAND_TIMEOUT_S, before the tick", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    h.advance(TIMEOUT_MS).report({ device: "brk-101", on: false });
    expect(h.command(command.id).state).toBe("timeout");
  });
});

describe("answers naming their command (a native switch or fault event, as the ingest reports it)", () => {
  it("confirms on the answer naming the command", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    h.report({ device: "brk-101", explicit: true, command_id: command.id });
    expect(h.command(command.id)).toMatchObject({ state: "confirmed", detail: "brk-101 answered the command without an error" });
  });

  it("fails on the refusal naming the command, with the device's reason", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    h.report({ device: "brk-101", explicit: true, command_id: command.id, error: "local lock engaged" });
    expect(h.command(command.id)).toMatchObject({ state: "failed", detail: "brk-101 refused the command: local lock engaged" });
  });

  it("fails on an answer naming the command that reports the opposite state", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101", "switch_on");
    h.report({ device: "brk-101", explicit: true, command_id: command.id, on: false });
    expect(h.command(command.id)).toMatchObject({ state: "failed", detail: "brk-101 answered that its relay stayed off" });
  });
});

describe("answers that change nothing, counted", () => {
  it("counts a confirmation for a command that does not exist", () => {
    const h = new CommandHarness();
    const effects = h.report({ device: "brk-101", explicit: true, command_id: "brk-101.switch_off.1.99" });
    expect(effects).toEqual([{ type: "ignored", reason: "unknown-command", device: "brk-101", detail: expect.stringMatching(/does not exist/) }]);
  });

  it("counts a Shelly RPC reply with an unknown id, and changes nothing", () => {
    const h = new CommandHarness();
    const command = h.sent("shelly-102");
    const book = h.book;
    h.report({ device: "shelly-102", explicit: true, rpc_id: 4242 });
    expect(h.ignored().map((e) => e.reason)).toEqual(["unknown-rpc-id"]);
    expect(h.book).toBe(book);
    expect(h.command(command.id).state).toBe("sent");
  });

  it("does not let a device answer another device's command", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    h.report({ device: "plug-101", explicit: true, command_id: command.id });
    expect(h.ignored().map((e) => e.reason)).toEqual(["other-device"]);
    expect(h.command(command.id).state).toBe("sent");
  });

  it("counts an answer after the command ended as late, and a repeated confirmation not at all", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    h.report({ device: "brk-101", explicit: true, command_id: command.id });
    const confirmed = h.book;
    h.report({ device: "brk-101", explicit: true, command_id: command.id });
    expect(h.book).toBe(confirmed);
    expect(h.ignored()).toEqual([]);
    const other = h.sent("plug-101");
    h.advance(TIMEOUT_MS).feed({ kind: "tick" });
    h.report({ device: "plug-101", explicit: true, command_id: other.id });
    expect(h.command(other.id).state).toBe("timeout");
    expect(h.ignored().map((e) => e.reason)).toEqual(["late"]);
  });
});

describe("invariants over any sequence of steps", () => {
  const devices = ["brk-101", "plug-101", "shelly-102", "brk-main", "meter-1"];
  const people = ["operator:a", "operator:b"];
  const action = fc.oneof(
    fc.record({ kind: fc.constant("select" as const), device: fc.constantFrom(...devices), by: fc.constantFrom(...people), on: fc.boolean() }),
    fc.record({ kind: fc.constantFrom("operate" as const, "cancel" as const), pick: fc.nat(), by: fc.constantFrom(...people) }),
    fc.record({ kind: fc.constant("report" as const), device: fc.constantFrom(...devices), on: fc.option(fc.boolean()), explicit: fc.boolean() }),
    fc.record({ kind: fc.constant("status" as const), device: fc.constantFrom(...devices), online: fc.boolean() }),
    fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  );

  it("keeps at most one active command per device, never sends without an operate by the selector, and ends every command by its deadline", () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        const h = new CommandHarness();
        let operates = 0;
        for (const a of actions) {
          const ids = Object.keys(h.book.commands);
          if (a.kind === "select") h.select(a.device, a.on ? "switch_on" : "switch_off", a.by);
          else if (a.kind === "operate" && ids.length > 0) {
            const id = ids[a.pick % ids.length]!;
            const before = h.command(id);
            if (h.operate(id, a.by).ok) {
              operates++;
              expect(before.issued_by).toBe(a.by);
            }
          } else if (a.kind === "cancel" && ids.length > 0) h.cancel(ids[a.pick % ids.length]!, a.by);
          else if (a.kind === "report") h.report({ device: a.device, on: a.on, explicit: a.explicit });
          else if (a.kind === "status") h.status(a.device, a.online);
          else if (a.kind === "wait") h.advance(a.ms).feed({ kind: "tick" });
          const active = Object.values(h.book.commands).filter((t) => !isFinal(t.command.state));
          expect(new Set(active.map((t) => t.command.device)).size).toBe(active.length);
          for (const t of active) expect(h.book.active[t.command.device]).toBe(t.command.id);
        }
        expect(h.sends()).toHaveLength(operates);
        h.advance(TIMEOUT_MS + 30_000).feed({ kind: "tick" });
        expect(Object.values(h.book.commands).every((t) => isFinal(t.command.state))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
