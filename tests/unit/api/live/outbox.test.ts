import { describe, expect, it } from "vitest";
import type { Alert } from "../../../../domain/alert.js";
import { DEFAULT_LIVE_OPTIONS } from "../../../../api/live/options.js";
import { checkPressure, Outbox } from "../../../../api/live/outbox.js";
import type { LiveMessage } from "../../../../api/live/protocol.js";

const reading = (device: string, power_w: number): LiveMessage => ({ type: "reading", site: "s", device, ts: power_w, values: { power_w } });
const alert = (id: string, state: Alert["state"]): LiveMessage => ({
  type: "alert",
  site: "s",
  alert: { id, rule: "overload", device: "d", building: "b", site: "s", severity: "major", state, value: 1, threshold: 1, message: "", started_at: "", updated_at: "" },
});

describe("the live outbox", () => {
  it("keeps only the latest reading per device", () => {
    const outbox = new Outbox();
    outbox.offer(reading("a", 1));
    outbox.offer(reading("b", 2));
    outbox.offer(reading("a", 3));
    expect(outbox.drain()).toEqual([reading("b", 2), reading("a", 3)]);
    expect(outbox.coalesced).toBe(1);
    expect(outbox.size).toBe(0);
  });

  it("never loses the newest state of an alert or a status", () => {
    const outbox = new Outbox();
    outbox.offer(alert("x", "firing"));
    outbox.offer({ type: "status", site: "s", device: "a", online: false });
    for (let i = 0; i < 1000; i++) outbox.offer(reading("a", i));
    outbox.offer(alert("x", "acknowledged"));
    expect(outbox.drain()).toEqual([{ type: "status", site: "s", device: "a", online: false }, reading("a", 999), alert("x", "acknowledged")]);
  });

  it("bounds device events, dropping the oldest", () => {
    const outbox = new Outbox(2);
    for (let i = 0; i < 5; i++) outbox.offer({ type: "event", site: "s", event: { device: "a", ts: i, type: "trip" } });
    expect(outbox.drain().map((m) => (m.type === "event" ? m.event.ts : -1))).toEqual([3, 4]);
  });

  it("lets a snapshot replace everything that waited before it", () => {
    const outbox = new Outbox();
    outbox.offer(reading("a", 1));
    outbox.offer({ type: "snapshot", devices: [], alerts: [] });
    outbox.offer(reading("a", 2));
    expect(outbox.drain()).toEqual([{ type: "snapshot", devices: [], alerts: [] }, reading("a", 2)]);
  });
});

describe("backpressure", () => {
  const o = { ...DEFAULT_LIVE_OPTIONS, softLimitBytes: 100, hardLimitBytes: 1000, hardStuckMs: 5_000, softStuckMs: 60_000 };
  const calm = { aboveSoftSince: null, aboveHardSince: null };

  it("sends while the socket's buffer is below the soft limit", () => {
    expect(checkPressure(calm, 50, 0, o).action).toBe("send");
  });

  it("holds above the soft limit and terminates a client stuck there", () => {
    const first = checkPressure(calm, 500, 1_000, o);
    expect(first.action).toBe("hold");
    expect(checkPressure(first.pressure, 500, 30_000, o).action).toBe("hold");
    expect(checkPressure(first.pressure, 500, 61_000, o).action).toBe("terminate");
  });

  it("terminates sooner above the hard limit, and forgets pressure once drained", () => {
    const first = checkPressure(calm, 5_000, 0, o);
    expect(checkPressure(first.pressure, 5_000, 4_000, o).action).toBe("hold");
    expect(checkPressure(first.pressure, 5_000, 5_000, o).action).toBe("terminate");
    expect(checkPressure(first.pressure, 10, 5_000, o)).toEqual({ action: "send", pressure: calm });
  });
});
