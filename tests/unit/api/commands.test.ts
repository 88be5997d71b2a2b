// The API's side of remote switching, pure: what it keeps of announced commands, how it rebuilds them from
// `command` points, the alerts service's answers, cursor paging, and the live stream's command messages.
import { describe, expect, it } from "vitest";
import { collapseCommandPoints, commandOfPoint, commandOrder } from "../../../api/command-history.js";
import { CommandLog } from "../../../api/command-log.js";
import { decodeCommandResult } from "../../../api/command-result.js";
import { type LiveChange, LiveState } from "../../../api/live-state.js";
import { Outbox } from "../../../api/live/outbox.js";
import { paginate } from "../../../api/paging.js";
import type { Command } from "../../../domain/command.js";
import { loadCampus } from "../../../infra/campus-file.js";

const campus = loadCampus("tests/fixtures/test-campus.yaml");
const command = (state: Command["state"], extra: Partial<Command> = {}): Command => ({
  id: "brk-d1-101.switch_off.1000.1", device: "brk-d1-101", site: "test", building: "dorm-1", room: "101", action: "switch_off", reason: "heater",
  issued_by: "operator:ab12cd34", state, selected_at: "2026-11-29T08:00:00.000Z", expires_at: "2026-11-29T08:00:30.000Z", ...extra,
});

describe("the commands the API saw announced", () => {
  it("only moves a command forward: a redelivered or reordered older state is ignored", () => {
    const log = new CommandLog();
    expect(log.apply(command("selected"))).toBe(true);
    expect(log.apply(command("confirmed", { sent_at: "x", confirmed_at: "y" }))).toBe(true);
    expect(log.apply(command("sent", { sent_at: "x" }))).toBe(false);
    expect(log.get(command("selected").id)?.state).toBe("confirmed");
  });

  it("forgets the oldest commands beyond its bound", () => {
    const log = new CommandLog(2);
    for (const n of [1, 2, 3]) log.apply(command("selected", { id: `c${n}` }));
    expect(log.all().map((c) => c.id)).toEqual(["c2", "c3"]);
  });

  it("turns a valid announcement into a live change, and ignores garbage and devices of another campus", () => {
    const state = new LiveState(campus);
    const changes: LiveChange[] = [];
    state.onChange((c) => changes.push(c));
    expect(state.applyMessage("campus/internal/commands", JSON.stringify(command("sent", { sent_at: "x" })), 0, false)).toBe(true);
    expect(state.applyMessage("campus/internal/commands", "{garbage", 0, false)).toBe(false);
    expect(state.applyMessage("campus/internal/commands", JSON.stringify({ ...command("sent"), state: "exploded" }), 0, false)).toBe(false);
    expect(state.applyMessage("campus/internal/commands", JSON.stringify(command("sent", { device: "elsewhere" })), 0, false)).toBe(false);
    expect(changes).toEqual([{ type: "command", command: command("sent", { sent_at: "x" }) }]);
  });
});

describe("commands rebuilt from `command` points", () => {
  const point = (time: number, state: string, extra: Record<string, unknown> = {}) => ({
    time, device: "brk-d1-101", building: "dorm-1", site: "test", action: "switch_off", state, command_id: "c1", issued_by: "operator:ab12cd34",
    reason: "heater", selected_at: "2026-11-29T08:00:00.000Z", expires_at: "2026-11-29T08:00:30.000Z", room: "101", ...extra,
  });

  it("keeps the newest point of each command id, with every field it carries", () => {
    const commands = collapseCommandPoints([point(3, "confirmed", { sent_at: "s", confirmed_at: "c", ended_at: "c", detail: "ok" }), point(1, "selected"), point(2, "sent", { sent_at: "s" })]);
    expect([...commands.values()]).toEqual([
      { id: "c1", device: "brk-d1-101", site: "test", building: "dorm-1", room: "101", action: "switch_off", reason: "heater", issued_by: "operator:ab12cd34", state: "confirmed", selected_at: "2026-11-29T08:00:00.000Z", expires_at: "2026-11-29T08:00:30.000Z", sent_at: "s", confirmed_at: "c", ended_at: "c", detail: "ok" },
    ]);
  });

  it("skips a point without what every command has", () => {
    expect(commandOfPoint(point(1, "selected", { selected_at: null }))).toBeNull();
    expect(commandOfPoint(point(1, "bogus"))).toBeNull();
  });
});

describe("answers of the alerts service", () => {
  it("passes a command or a refusal on, and turns anything else into an unreadable answer", () => {
    expect(decodeCommandResult(JSON.stringify({ ok: true, command: command("selected") }))).toEqual({ ok: true, command: command("selected") });
    expect(decodeCommandResult(JSON.stringify({ ok: false, code: "BUSY", message: "busy" }))).toEqual({ ok: false, code: "BUSY", message: "busy" });
    for (const bad of ["{", JSON.stringify({ ok: true, command: { id: 1 } }), JSON.stringify({ ok: false })]) expect(decodeCommandResult(bad)).toMatchObject({ ok: false, code: "INVALID_ANSWER" });
  });
});

describe("paging by cursor", () => {
  const list = ["04", "03", "03", "01"].map((minute, i) => command("confirmed", { id: `c${i}`, selected_at: `2026-11-29T08:${minute}:00.000Z` }));
  it("walks a newest-first list page by page without repeating or losing an item", () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = paginate(list, 3, cursor, commandOrder);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual(["c0", "c1", "c2", "c3"]);
    expect(() => paginate(list, 3, "not-a-cursor", commandOrder)).toThrow(/cursor/);
    expect(() => paginate([], 3, "not-a-cursor", commandOrder)).toThrow(/cursor/);
  });
});

describe("the live outbox", () => {
  it("keeps only the newest state of each command for a slow client", () => {
    const outbox = new Outbox();
    outbox.offer({ type: "command", site: "test-school", command: command("selected") });
    outbox.offer({ type: "command", site: "test-school", command: command("selected", { id: "other" }) });
    outbox.offer({ type: "command", site: "test-school", command: command("sent", { sent_at: "x" }) });
    expect(outbox.drain().map((m) => (m.type === "command" ? `${m.command.id}:${m.command.state}` : m.type))).toEqual(["other:selected", "brk-d1-101.switch_off.1000.1:sent"]);
  });
});
