// The pure command core: select-before-operate and every refusal of CONTRACT §10, without sockets.
import { describe, expect, it } from "vitest";
import { commandMessage } from "../../../domain/formats/commands.js";
import { ALICE, BOB, CommandHarness, commandCampus, outcome, SELECT_MS, TIMEOUT_MS } from "./command-harness.js";

describe("select", () => {
  it("selects a command without sending anything, expiring 30 s later", () => {
    const h = new CommandHarness();
    const result = h.select("brk-101");
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.command).toMatchObject({
      device: "brk-101", site: "s1", building: "dorm-1", room: "101", action: "switch_off", reason: "heater in room",
      issued_by: ALICE, state: "selected", selected_at: new Date(h.now).toISOString(), expires_at: new Date(h.now + SELECT_MS).toISOString(),
    });
    expect(result.command.id).toBe(`brk-101.switch_off.${h.now}.1`);
    expect(h.sends()).toEqual([]);
    expect(h.changes().map((c) => c.state)).toEqual(["selected"]);
    expect(h.book.active["brk-101"]).toBe(result.command.id);
  });

  it("refuses an unknown device with NOT_FOUND", () => {
    const h = new CommandHarness();
    expect(outcome(h.select("brk-404"))).toBe("NOT_FOUND");
    expect(h.changes()).toEqual([]);
  });

  it("refuses a protected device, and a feeder upstream of one, with PROTECTED naming the protected devices", () => {
    const h = new CommandHarness();
    const pump = h.select("brk-fire-pump");
    const feeder = h.select("brk-pump-feeder");
    const main = h.select("brk-main", "switch_on");
    for (const result of [pump, feeder, main]) {
      expect(outcome(result)).toBe("PROTECTED");
      if (!result.ok) expect(result.devices).toEqual(["brk-fire-pump"]);
    }
    expect(h.book.active).toEqual({});
  });

  it("refuses a meter and a breaker marked switchable: false with NOT_SWITCHABLE", () => {
    const h = new CommandHarness();
    expect(outcome(h.select("meter-1"))).toBe("NOT_SWITCHABLE");
    expect(outcome(h.select("brk-fixed"))).toBe("NOT_SWITCHABLE");
  });

  it("refuses a device whose last status is offline, and accepts it once it is back", () => {
    const h = new CommandHarness();
    h.status("brk-101", false);
    const refused = h.select("brk-101");
    expect(outcome(refused)).toBe("DEVICE_OFFLINE");
    if (!refused.ok) expect(refused.message).toMatch(/brk-101 is offline/);
    h.advance(1_000).status("brk-101", true);
    expect(outcome(h.select("brk-101"))).toBe("ok");
  });

  it("keeps the newest status when an older one arrives after it", () => {
    const h = new CommandHarness();
    h.status("brk-101", true, h.now);
    h.status("brk-101", false, h.now - 5_000); // a retained copy from before
    expect(outcome(h.select("brk-101"))).toBe("ok");
  });

  it("accepts a device never heard of: its own answer decides", () => {
    expect(outcome(new CommandHarness().select("brk-101"))).toBe("ok");
  });

  it("refuses a second command for a device while one is selected or sent (BUSY), and accepts one after it ended", () => {
    const h = new CommandHarness();
    const first = h.select("brk-101");
    expect(outcome(h.select("brk-101", "switch_on", BOB))).toBe("BUSY");
    if (first.ok) h.operate(first.command.id);
    const busy = h.select("brk-101", "switch_on", BOB);
    expect(outcome(busy)).toBe("BUSY");
    if (!busy.ok) expect(busy.message).toMatch(/sent by operator:alice/);
    expect(outcome(h.select("plug-101"))).toBe("ok"); // another device is free
    h.advance(TIMEOUT_MS).feed({ kind: "tick" });
    expect(outcome(h.select("brk-101", "switch_on", BOB))).toBe("ok");
  });

  it("frees a device whose selection ran out even before the tick saw it", () => {
    const h = new CommandHarness();
    h.select("brk-101");
    h.advance(SELECT_MS);
    expect(outcome(h.select("brk-101", "switch_on", BOB))).toBe("ok");
    expect(h.changes().map((c) => c.state)).toEqual(["selected", "expired", "selected"]);
  });

  it("refuses a request that arrives after the API stopped waiting for its answer, and does nothing", () => {
    const h = new CommandHarness();
    const result = h.select("brk-101", "switch_off", ALICE, { answer_by: h.now - 2_000 });
    if (!result.ok) expect(result.message).toMatch(/arrived 2 s after the API stopped waiting/);
    expect(outcome(result)).toBe("EXPIRED");
    expect(h.book.active).toEqual({});
    expect(h.ignored().map((e) => e.reason)).toEqual(["stale-request"]);
    expect(outcome(h.select("brk-101", "switch_off", ALICE, { answer_by: h.now - 1 }))).toBe("EXPIRED");
    expect(outcome(h.select("brk-101", "switch_off", ALICE, { answer_by: h.now }))).toBe("ok");
  });
});

describe("operate", () => {
  it("sends the device's own command and answers `sent`", () => {
    const h = new CommandHarness();
    const selected = h.select("plug-101");
    if (!selected.ok) throw new Error(selected.message);
    h.advance(2_000);
    const operated = h.operate(selected.command.id);
    expect(operated.ok && operated.command).toMatchObject({ state: "sent", sent_at: new Date(h.now).toISOString() });
    expect(h.sends().map(({ topic, payload }) => ({ topic, payload }))).toEqual([{ topic: "cmnd/tasmota_101/POWER", payload: "OFF" }]);
    // The book says sent before the send effect (the adapter saves it before publishing).
    const order = h.effects.map((e) => e.type);
    expect(order.indexOf("change", order.indexOf("change") + 1)).toBeLessThan(order.indexOf("send"));
  });

  it("numbers a Shelly Gen2 RPC with an id the command keeps for its reply", () => {
    const h = new CommandHarness();
    const command = h.sent("shelly-102", "switch_on");
    const rpcId = h.book.commands[command.id]!.rpc_id!;
    const device = commandCampus().deviceById.get("shelly-102")!;
    const { topic, payload } = commandMessage(device, command, rpcId);
    expect(h.sends()[0]).toMatchObject({ topic, payload });
    expect(JSON.parse(h.sends()[0]!.payload)).toMatchObject({ id: rpcId, method: "Switch.Set", params: { id: 0, on: true } });
  });

  it("refuses someone else's selection with NOT_SELECTOR and leaves it selected", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    if (!selected.ok) throw new Error(selected.message);
    expect(outcome(h.operate(selected.command.id, BOB))).toBe("NOT_SELECTOR");
    expect(outcome(h.cancel(selected.command.id, BOB))).toBe("NOT_SELECTOR");
    expect(h.command(selected.command.id).state).toBe("selected");
    expect(h.sends()).toEqual([]);
  });

  it("refuses an operate after the selection's 30 s with EXPIRED, and ends it expired", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    if (!selected.ok) throw new Error(selected.message);
    h.advance(SELECT_MS);
    const late = h.operate(selected.command.id);
    expect(outcome(late)).toBe("EXPIRED");
    expect(h.command(selected.command.id)).toMatchObject({ state: "expired", detail: expect.stringMatching(/not operated within 30 s/) });
    expect(h.sends()).toEqual([]);
  });

  it("refuses a second operate, and an operate of a cancelled command, with EXPIRED", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    expect(outcome(h.operate(command.id))).toBe("EXPIRED");
    expect(h.sends()).toHaveLength(1);
    const other = h.select("plug-101");
    if (!other.ok) throw new Error(other.message);
    h.cancel(other.command.id);
    expect(outcome(h.operate(other.command.id))).toBe("EXPIRED");
  });

  it("refuses an unknown command with NOT_FOUND", () => {
    expect(outcome(new CommandHarness().operate("brk-101.switch_off.1.1"))).toBe("NOT_FOUND");
  });

  it("refuses while the device went offline after the selection, keeping the selection", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    if (!selected.ok) throw new Error(selected.message);
    h.status("brk-101", false);
    expect(outcome(h.operate(selected.command.id))).toBe("DEVICE_OFFLINE");
    expect(h.command(selected.command.id).state).toBe("selected");
  });
});

describe("cancel, expiry and timeout", () => {
  it("cancels a selection, freeing the device, and refuses to cancel a sent command", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    if (!selected.ok) throw new Error(selected.message);
    const cancelled = h.cancel(selected.command.id);
    expect(cancelled.ok && cancelled.command).toMatchObject({ state: "cancelled", detail: expect.stringMatching(/cancelled by operator:alice/) });
    expect(h.book.active).toEqual({});
    const sent = h.sent("brk-101");
    expect(outcome(h.cancel(sent.id))).toBe("EXPIRED");
    expect(h.command(sent.id).state).toBe("sent");
  });

  it("expires a selection nobody operated on the tick after 30 s", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    if (!selected.ok) throw new Error(selected.message);
    h.advance(SELECT_MS - 1).feed({ kind: "tick" });
    expect(h.command(selected.command.id).state).toBe("selected");
    h.advance(1).feed({ kind: "tick" });
    expect(h.command(selected.command.id)).toMatchObject({ state: "expired", ended_at: new Date(h.now).toISOString() });
  });

  it("times a sent command out when the device reports nothing within COMMAND_TIMEOUT_S, saying it is offline when it is", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    h.advance(TIMEOUT_MS - 1).feed({ kind: "tick" });
    expect(h.command(command.id).state).toBe("sent");
    h.status("brk-101", false);
    h.advance(1).feed({ kind: "tick" });
    expect(h.command(command.id)).toMatchObject({ state: "timeout", detail: "brk-101 did not report the commanded state within 15 s; brk-101 is offline" });
    expect(h.book.active).toEqual({});
  });

  it("answers EXPIRED for a command that ended minutes ago, and NOT_FOUND once it left the book", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    if (!selected.ok) throw new Error(selected.message);
    h.cancel(selected.command.id);
    h.advance(5 * 60_000).feed({ kind: "tick" });
    expect(outcome(h.operate(selected.command.id))).toBe("EXPIRED");
    h.advance(6 * 60_000).feed({ kind: "tick" });
    expect(outcome(h.operate(selected.command.id))).toBe("NOT_FOUND");
  });

  it("returns the very same book for a tick that changes nothing", () => {
    const h = new CommandHarness();
    h.sent("brk-101");
    const before = h.book;
    h.advance(1_000).feed({ kind: "tick" });
    expect(h.book).toBe(before);
  });
});

describe("restart", () => {
  it("ends a sent command whose time ran out while the service was away as timeout, saying the service restarted", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    const restarted = new CommandHarness(structuredClone(h.book));
    restarted.now = h.now + 60_000;
    restarted.feed({ kind: "start" });
    expect(restarted.command(command.id)).toMatchObject({ state: "timeout", detail: expect.stringMatching(/within 15 s; the alerts service was restarting meanwhile/) });
    expect(restarted.book.active).toEqual({});
  });

  it("keeps a sent command's deadline from sent_at across a restart, and its timeout then says so", () => {
    const h = new CommandHarness();
    const command = h.sent("brk-101");
    const restarted = new CommandHarness(structuredClone(h.book));
    restarted.now = h.now + 5_000;
    restarted.feed({ kind: "start" });
    expect(restarted.command(command.id).state).toBe("sent");
    restarted.advance(TIMEOUT_MS - 5_000 - 1).feed({ kind: "tick" });
    expect(restarted.command(command.id).state).toBe("sent");
    restarted.advance(1).feed({ kind: "tick" });
    expect(restarted.command(command.id).detail).toMatch(/restarting meanwhile/);
  });

  it("expires a selection that ran out while the service was away", () => {
    const h = new CommandHarness();
    const selected = h.select("brk-101");
    if (!selected.ok) throw new Error(selected.message);
    const restarted = new CommandHarness(structuredClone(h.book));
    restarted.now = h.now + SELECT_MS;
    restarted.feed({ kind: "start" });
    expect(restarted.command(selected.command.id).state).toBe("expired");
  });
});
