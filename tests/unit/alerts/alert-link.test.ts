// The alert ↔ command link (CONTRACT §10): an alert whose opening switched its room off is published, stored
// and kept carrying the command's id; the command names the alert (tests/unit/alerts/command-orders.test.ts).
import { describe, expect, it } from "vitest";
import { linkCommand } from "../../../alerts/automation/alert-link.js";
import { createEffectPerformer } from "../../../alerts/effects.js";
import { createAlertMetrics } from "../../../alerts/metrics.js";
import type { Alert } from "../../../domain/alert.js";
import { createLogger } from "../../../infra/logger.js";
import { createRegistry } from "../../../infra/metrics.js";
import { Harness, s } from "./harness.js";

/** An overload on brk-101 (16 A) opened by the real engine, and its state. */
function openedOverload() {
  const h = new Harness();
  h.hold("brk-101", 0, 65, 20);
  const opened = h.alertChanges("overload").find((c) => c.change === "opened")!;
  return { h, alert: opened.alert };
}

describe("the alert ↔ command link", () => {
  it("puts the command's id on the open alert in the engine state, where later changes keep it", () => {
    const { h, alert } = openedOverload();
    h.state = linkCommand(h.state, alert, "brk-101.switch_off.1.1");
    expect(h.open("overload")[0]).toMatchObject({ id: alert.id, command_id: "brk-101.switch_off.1.1" });
    h.current("brk-101", s(70), 25); // a new value: the alert is updated
    const updated = h.alertChanges("overload").at(-1)!;
    expect(updated).toMatchObject({ change: "updated", alert: { command_id: "brk-101.switch_off.1.1" } });
  });

  it("leaves the state alone when the alert is no longer open", () => {
    const { h, alert } = openedOverload();
    expect(linkCommand(h.state, { ...alert, id: "another" }, "c")).toBe(h.state);
  });

  it("publishes and stores an alert that switched its room already carrying the command, and every later change too", () => {
    const { alert } = openedOverload();
    const published: { topic: string; payload: string; retain: boolean }[] = [];
    const lines: string[] = [];
    const linked: [string, string][] = [];
    const performEffect = createEffectPerformer({
      publish: (topic, payload, retain) => published.push({ topic, payload, retain }),
      write: (line) => lines.push(line),
      notifier: () => null,
      metrics: createAlertMetrics(createRegistry(false)),
      log: createLogger("silent"),
      opened: (a) => (a.id === alert.id ? "brk-101.switch_off.9.1" : null),
      link: (a, id) => linked.push([a.id, id]),
    });
    const updated: Alert = { ...alert, value: 25 };
    performEffect({ type: "alert", change: "opened", alert, at: 1 });
    performEffect({ type: "alert", change: "updated", alert: updated, at: 2 });
    expect(linked).toEqual([[alert.id, "brk-101.switch_off.9.1"]]);
    expect(published.map((p) => (JSON.parse(p.payload) as Alert).command_id)).toEqual(["brk-101.switch_off.9.1", "brk-101.switch_off.9.1"]);
    expect(lines.every((line) => line.includes('command_id="brk-101.switch_off.9.1"'))).toBe(true);
  });
});
