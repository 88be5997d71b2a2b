// `scenario run --check`'s view of the alerts service: alert messages as the broker delivers them,
// placed on the scenario's event clock.
import { describe, expect, it } from "vitest";
import type { Alert } from "../../../domain/alert.js";
import { createAlertObserver } from "../../../simulator/alert-observer.js";

const START = Date.parse("2026-11-25T12:00:00Z");
const MIN = 60_000;
const topic = "campus/alerts/brk-d1-103/overload";

function alert(state: Alert["state"], times: { started?: number; resolved?: number } = {}): string {
  const at = (ms: number) => new Date(ms).toISOString();
  return JSON.stringify({
    id: "a1",
    rule: "overload",
    device: "brk-d1-103",
    building: "dorm-1",
    site: "test-school", // CONTRACT §9: an alert object carries its device's site
    severity: "major",
    state,
    value: 20,
    threshold: 16,
    message: "overload",
    started_at: at(times.started ?? START),
    updated_at: at(times.started ?? START),
    ...(times.resolved !== undefined ? { resolved_at: at(times.resolved) } : {}),
  });
}

describe("the scenario's alert observer", () => {
  it("places an opening at the alert's own start and a resolution at its own end, in event ms from the start", () => {
    const observer = createAlertObserver(START);
    observer.observe({ topic, payload: alert("firing", { started: START + 3 * MIN }), retained: false }, START + 4 * MIN);
    observer.observe({ topic, payload: alert("resolved", { started: START + 3 * MIN, resolved: START + 9 * MIN }), retained: false }, START + 10 * MIN);
    observer.observe({ topic, payload: "", retained: false }, START + 10 * MIN); // the retained copy cleared: already counted
    expect(observer.observations()).toEqual([
      { device: "brk-d1-103", rule: "overload", change: "opened", atMs: 3 * MIN, severity: "major" },
      { device: "brk-d1-103", rule: "overload", change: "resolved", atMs: 9 * MIN },
    ]);
  });

  it("takes the arrival on the scenario clock when the alert's own time is not in the run (wall-clock rules at 100×)", () => {
    const observer = createAlertObserver(START);
    // The offline watchdog stamps the wall clock: far after the scenario's clock at a speed above 1×.
    observer.observe({ topic, payload: alert("firing", { started: START + 500 * MIN }), retained: false }, START + 2 * MIN);
    observer.observe({ topic, payload: "", retained: false }, START + 5 * MIN);
    expect(observer.observations().map((o) => [o.change, o.atMs])).toEqual([["opened", 2 * MIN], ["resolved", 5 * MIN]]);
  });

  it("reports alerts already open when the watch began, and never counts them as opening", () => {
    const observer = createAlertObserver(START);
    observer.observe({ topic, payload: alert("firing", { started: START - 60 * MIN }), retained: true }, START);
    observer.observe({ topic, payload: alert("acknowledged", { started: START - 60 * MIN }), retained: false }, START + MIN);
    expect(observer.preExisting).toEqual(["brk-d1-103/overload"]);
    expect(observer.observations()).toEqual([]);
  });

  it("measures from the start it is given once the simulator knows it", () => {
    const observer = createAlertObserver(START);
    observer.startAt(START + MIN);
    observer.observe({ topic, payload: alert("firing", { started: START + 3 * MIN }), retained: false }, START + 4 * MIN);
    expect(observer.observations()[0]!.atMs).toBe(2 * MIN);
  });

  it("keeps, for each alert seen live, the command it carries (the dormitory power rule's cut-off), never a retained one's", () => {
    const observer = createAlertObserver(START);
    const withCommand = (state: Alert["state"], id: string, commandId?: string) => JSON.stringify({ ...JSON.parse(alert(state, { started: START + MIN })), id, ...(commandId ? { command_id: commandId } : {}) });
    observer.observe({ topic, payload: withCommand("firing", "a0", "c0"), retained: true }, START);
    observer.observe({ topic: "campus/alerts/brk-d1-101/malignant-load", payload: withCommand("firing", "a1"), retained: false }, START + MIN);
    observer.observe({ topic: "campus/alerts/brk-d1-101/malignant-load", payload: withCommand("firing", "a1", "c1"), retained: false }, START + MIN);
    observer.observe({ topic: "campus/alerts/brk-d1-101/malignant-load", payload: withCommand("resolved", "a1"), retained: false }, START + 2 * MIN);
    expect([...observer.linkedCommands()]).toEqual([["a1", { device: "brk-d1-101", rule: "malignant-load", commandId: "c1" }]]);
  });

  it("skips a message on an alert topic that is not an alert object, and goes on", () => {
    const observer = createAlertObserver(START);
    expect(() => observer.observe({ topic, payload: "{not json", retained: false }, START + MIN)).not.toThrow();
    observer.observe({ topic, payload: JSON.stringify({ state: "firing" }), retained: true }, START + MIN);
    observer.observe({ topic: "campus/devices/x/telemetry", payload: alert("firing"), retained: false }, START + MIN);
    observer.observe({ topic, payload: alert("firing", { started: START + 2 * MIN }), retained: false }, START + 2 * MIN);
    expect(observer.malformed).toBe(2);
    expect(observer.preExisting).toEqual([]);
    expect(observer.observations()).toEqual([{ device: "brk-d1-103", rule: "overload", change: "opened", atMs: 2 * MIN, severity: "major" }]);
  });
});
