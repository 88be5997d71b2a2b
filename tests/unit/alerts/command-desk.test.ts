// The command desk (alerts/commands/desk.ts) around the pure core: what it publishes, writes and counts,
// in which order, with the real metrics registry; its outputs are collected instead of sent over MQTT
// (the real stack: tests/integration/commands*.test.ts).
import { describe, expect, it } from "vitest";
import { createCommandDesk } from "../../../alerts/commands/desk.js";
import { createCommandMetrics } from "../../../alerts/commands/metrics.js";
import { createLogger } from "../../../infra/logger.js";
import { createRegistry } from "../../../infra/metrics.js";
import { commandCampus, SELECT_MS, TIMEOUT_MS } from "./command-harness.js";

function desk() {
  const registry = createRegistry(false);
  const done: string[] = [];
  const lines: string[] = [];
  let now = Date.parse("2030-01-01T08:00:00.000Z");
  const d = createCommandDesk({
    settings: { campus: commandCampus(), selectTimeoutMs: SELECT_MS, commandTimeoutMs: TIMEOUT_MS },
    saved: undefined,
    now: () => now,
    publish: (topic, payload) => void done.push(`publish ${topic} ${payload}`),
    write: (line) => void lines.push(line),
    changed: () => undefined,
    saveNow: async () => void done.push("save"),
    metrics: createCommandMetrics(registry),
    log: createLogger("silent"),
  });
  const request = (body: Record<string, unknown>) => d.handle("campus/internal/command-request", Buffer.from(JSON.stringify(body)), false);
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { d, done, lines, request, metric, advance: (ms: number) => (now += ms) };
}

describe("the command desk", () => {
  it("saves the state before the device's command leaves, and announces and answers without waiting for that save", async () => {
    const { d, done, request } = desk();
    request({ request_id: "r1", step: "select", by: "op", device: "brk-101", action: "switch_off", reason: "heater" });
    await d.settled();
    const id = Object.keys(d.book().commands)[0]!;
    done.length = 0;
    request({ request_id: "r2", step: "operate", by: "op", command_id: id });
    await d.settled();
    const order = done.map((entry) => entry.split(" ").slice(0, 2).join(" "));
    expect([...order].sort()).toEqual(["publish campus/devices/brk-101/commands", "publish campus/internal/command-result/r2", "publish campus/internal/commands", "save"]);
    // The device's command leaves only once the book says `sent` on disk; the answer does not wait for it.
    expect(order.indexOf("save")).toBeLessThan(order.indexOf("publish campus/devices/brk-101/commands"));
    expect(order.at(-1)).toBe("publish campus/devices/brk-101/commands");
  });

  it("writes a `command` point and counts every change, and keeps the in-flight gauge", async () => {
    const { d, lines, request, metric, advance } = desk();
    request({ request_id: "r1", step: "select", by: "op", device: "brk-101", action: "switch_off", reason: "heater" });
    await d.settled();
    expect(await metric("campus_power_commands_selected")).toBe(1);
    request({ request_id: "r2", step: "operate", by: "op", command_id: Object.keys(d.book().commands)[0]! });
    await d.settled();
    expect(await metric("campus_power_commands_in_flight")).toBe(1);
    advance(TIMEOUT_MS);
    d.run({ kind: "tick" });
    await d.settled();
    expect(lines.map((line) => /state=(\w+)/.exec(line)![1])).toEqual(["selected", "sent", "timeout"]);
    expect(await metric("campus_power_commands_total", { action: "switch_off", state: "timeout" })).toBe(1);
    expect(await metric("campus_power_commands_in_flight")).toBe(0);
    expect(await metric("campus_power_command_requests_total", { step: "operate", result: "ok" })).toBe(1);
  });

  it("answers INVALID to a malformed request it can still answer, and counts it", async () => {
    const { d, done, request, metric } = desk();
    request({ request_id: "r9", step: "select", by: "op", device: "brk-101", action: "switch_off" });
    await d.settled();
    expect(done).toEqual([`publish campus/internal/command-result/r9 ${JSON.stringify({ ok: false, code: "INVALID", message: "not a command request: /reason: Expected required property" })}`]);
    expect(await metric("campus_power_command_messages_invalid_total", { kind: "command-request" })).toBe(1);
    expect(d.book().active).toEqual({});
  });

  it("counts an answer for a command that does not exist, and changes nothing", async () => {
    const { d, done, metric } = desk();
    const book = d.book();
    expect(d.handle("campus/internal/relay/brk-101", Buffer.from(JSON.stringify({ device: "brk-101", ts: 1, on: null, explicit: true, command_id: "nope" })), false)).toBe(true);
    await d.settled();
    expect(await metric("campus_power_command_reports_ignored_total", { reason: "unknown-command" })).toBe(1);
    expect(d.book()).toBe(book);
    expect(done).toEqual([]);
  });

  it("leaves topics that are not its own to the rule engine", () => {
    expect(desk().d.handle("campus/internal/status/brk-101", Buffer.from("{}"), false)).toBe(false);
  });
});
