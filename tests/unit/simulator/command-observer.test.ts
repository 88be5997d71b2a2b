// `scenario run --check`'s view of remote switching: the command objects the alerts service announces on
// `campus/internal/commands`, placed on the scenario's event clock.
import { describe, expect, it } from "vitest";
import type { Command } from "../../../domain/command.js";
import { createCommandObserver } from "../../../simulator/command-observer.js";

const START = Date.parse("2026-11-25T12:00:00Z");
const S = 1_000;
const topic = "campus/internal/commands";
/** The alerts service's own times: its wall clock, far from the scenario's at a speed above 1×. */
const WALL = "2026-11-25T15:00:00.000Z";

function command(state: Command["state"], extra: Partial<Command> = {}): string {
  return JSON.stringify({
    id: "brk-d1-102.switch_off.1.1",
    device: "brk-d1-102",
    site: "scenario-school",
    building: "dorm-1",
    room: "102",
    action: "switch_off",
    reason: "burning smell",
    issued_by: "operator:d91293b8",
    state,
    selected_at: WALL,
    expires_at: WALL,
    ...(["selected", "cancelled", "expired"].includes(state) ? {} : { sent_at: WALL }),
    ...extra,
  } satisfies Partial<Command>);
}

describe("the scenario's command observer", () => {
  it("places a command's sending and ending at the scenario clock when each arrives, not at the service's own times", () => {
    const observer = createCommandObserver(START);
    observer.observe({ topic, payload: command("selected") }, START + 30 * S);
    observer.observe({ topic, payload: command("sent") }, START + 31 * S);
    observer.observe({ topic, payload: command("confirmed", { confirmed_at: WALL, detail: "brk-d1-102 answered its relay off" }) }, START + 32 * S);
    expect(observer.observations()).toEqual([
      {
        id: "brk-d1-102.switch_off.1.1", device: "brk-d1-102", action: "switch_off", issuedBy: "operator:d91293b8", state: "confirmed",
        detail: "brk-d1-102 answered its relay off", firstSeenAtMs: 30 * S, sentAtMs: 31 * S, endedAtMs: 32 * S,
      },
    ]);
  });

  it("counts an order's first announcement as its sending when it already carries sent_at, and keeps the alert it came of", () => {
    const observer = createCommandObserver(START);
    observer.observe({ topic, payload: command("selected", { issued_by: "rule:malignant-load", alert_id: "a1", sent_at: WALL }) }, START + 70 * S);
    expect(observer.observations()[0]).toMatchObject({ issuedBy: "rule:malignant-load", alertId: "a1", state: "selected", sentAtMs: 70 * S, endedAtMs: null });
  });

  it("never undoes a final state with a late copy of an earlier one, and never sends a command that was not", () => {
    const observer = createCommandObserver(START);
    observer.observe({ topic, payload: command("selected") }, START + S);
    observer.observe({ topic, payload: command("expired", { detail: "not operated within 30 s" }) }, START + 31 * S);
    observer.observe({ topic, payload: command("sent") }, START + 32 * S);
    expect(observer.observations()[0]).toMatchObject({ state: "expired", sentAtMs: null, endedAtMs: 31 * S, detail: "not operated within 30 s" });
  });

  it("measures from the start it is given once the simulator knows it", () => {
    const observer = createCommandObserver(START);
    observer.startAt(START + 10 * S);
    observer.observe({ topic, payload: command("sent") }, START + 40 * S);
    expect(observer.observations()[0]).toMatchObject({ firstSeenAtMs: 30 * S, sentAtMs: 30 * S });
  });

  it("skips a message that is not a command object, and one on another topic, and goes on", () => {
    const observer = createCommandObserver(START);
    expect(() => observer.observe({ topic, payload: "{not json" }, START)).not.toThrow();
    observer.observe({ topic, payload: JSON.stringify({ id: "x", state: "sent" }) }, START);
    observer.observe({ topic: "campus/internal/command-result/r1", payload: command("sent") }, START);
    observer.observe({ topic, payload: command("sent") }, START + 5 * S);
    expect(observer.malformed).toBe(2);
    expect(observer.observations().map((o) => [o.state, o.sentAtMs])).toEqual([["sent", 5 * S]]);
  });
});
