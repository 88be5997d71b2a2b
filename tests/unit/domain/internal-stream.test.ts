import { describe, expect, it } from "vitest";
import { decodeAckResult, decodeAlert, decodeInternalMessage, decodeReadingBatch } from "../../../domain/internal-stream.js";
import { internalTopic, parseAlertTopic, parseInternalTopic } from "../../../domain/topics.js";

const json = (value: unknown) => JSON.stringify(value);

describe("internal topics", () => {
  it("round-trips every internal topic through its parser", () => {
    expect(parseInternalTopic(internalTopic.reading("brk-1"))).toEqual({ kind: "reading", device: "brk-1" });
    expect(parseInternalTopic(internalTopic.status("brk-1"))).toEqual({ kind: "status", device: "brk-1" });
    expect(parseInternalTopic(internalTopic.event("brk-1"))).toEqual({ kind: "event", device: "brk-1" });
    expect(parseInternalTopic(internalTopic.ack)).toEqual({ kind: "ack" });
    expect(parseInternalTopic(internalTopic.ackResult("req-1"))).toEqual({ kind: "ack-result", requestId: "req-1" });
    expect(parseInternalTopic(internalTopic.relay("brk-1"))).toEqual({ kind: "relay", device: "brk-1" });
    expect(parseInternalTopic(internalTopic.commandRequest)).toEqual({ kind: "command-request" });
    expect(parseInternalTopic(internalTopic.commandResult("req-2"))).toEqual({ kind: "command-result", requestId: "req-2" });
    expect(parseInternalTopic(internalTopic.commands)).toEqual({ kind: "commands" });
  });

  it("rejects other topics, extra levels and names inherited from Object", () => {
    for (const topic of ["campus/devices/brk-1/telemetry", "campus/internal/readings/", "campus/internal/readings/a/b", "campus/internal/toString/x", "campus/internal/__proto__/x", "campus/internal"]) {
      expect(parseInternalTopic(topic), topic).toBeNull();
    }
  });

  it("parses alert topics and nothing else", () => {
    expect(parseAlertTopic("campus/alerts/brk-1/overload")).toEqual({ device: "brk-1", rule: "overload" });
    for (const topic of ["campus/alerts/brk-1", "campus/alerts/brk-1/overload/x", "campus/alerts//overload", "campus/internal/ack"]) expect(parseAlertTopic(topic), topic).toBeNull();
  });
});

describe("internal messages", () => {
  it("decodes a reading, a status, an event and an ack request", () => {
    const reading = { device: "brk-1", ts: 1, values: { power_w: 5 }, phases: { L1: { power_w: 5 } } };
    expect(decodeInternalMessage(internalTopic.reading("brk-1"), json(reading), true)).toEqual({ ok: true, message: { kind: "reading", reading } });
    const status = { device: "brk-1", ts: 2, online: false };
    expect(decodeInternalMessage(internalTopic.status("brk-1"), Buffer.from(json(status)), true)).toEqual({ ok: true, message: { kind: "status", status } });
    const event = { device: "brk-1", ts: 3, type: "trip", reason: "overload" };
    expect(decodeInternalMessage(internalTopic.event("brk-1"), json(event), true)).toEqual({ ok: true, message: { kind: "event", event } });
    const request = { alert_id: "a", by: "operator:ab12", request_id: "r-1", note: "on it" };
    expect(decodeInternalMessage(internalTopic.ack, json(request), true)).toEqual({ ok: true, message: { kind: "ack", request } });
  });

  it("says why a malformed message is refused", () => {
    const reason = (topic: string, payload: string) => {
      const decoded = decodeInternalMessage(topic, payload, true);
      return decoded !== null && !decoded.ok ? decoded.reason : null;
    };
    expect(reason(internalTopic.reading("brk-1"), "")).toBe("empty payload");
    expect(reason(internalTopic.reading("brk-1"), "{")).toBe("not JSON");
    expect(reason(internalTopic.reading("brk-1"), "[]")).toBe("not an object");
    expect(reason(internalTopic.reading("brk-1"), json({ device: "brk-2", ts: 1, values: {} }))).toMatch(/match the topic/);
    expect(reason(internalTopic.reading("brk-1"), json({ device: "brk-1", ts: 1 }))).toMatch(/values/);
    expect(reason(internalTopic.reading("brk-1"), json({ device: "brk-1", ts: 1, values: {}, phases: 3 }))).toMatch(/phases/);
    expect(reason(internalTopic.status("brk-1"), json({ device: "brk-1", ts: 1 }))).toMatch(/online/);
    expect(reason(internalTopic.event("brk-1"), json({ device: "brk-1", ts: 1, type: "party" }))).toMatch(/event type/);
    expect(reason(internalTopic.ack, json({ alert_id: "a", by: "b", request_id: "../../x" }))).toMatch(/request_id/);
  });

  it("leaves topics that carry none of them to others", () => {
    expect(decodeInternalMessage(internalTopic.ackResult("r-1"), "{}", true)).toBeNull();
    for (const topic of [internalTopic.commandRequest, internalTopic.commandResult("r-2"), internalTopic.commands]) expect(decodeInternalMessage(topic, "{}", false), topic).toBeNull();
    expect(decodeInternalMessage("campus/devices/brk-1/telemetry", "{}", true)).toBeNull();
  });

  it("reads a retained alert and an ack result, and refuses garbage", () => {
    const alert = {
      id: "a", rule: "overload", device: "brk-1", site: "s", building: "dorm-1", severity: "major", state: "firing", value: 20, threshold: 16,
      message: "m", started_at: "2026-12-05T00:00:00.000Z", updated_at: "2026-12-05T00:00:00.000Z", latched: false,
    };
    expect(decodeAlert(json(alert))).toEqual(alert);
    expect(decodeAlert(json({ id: "a", device: "brk-1", rule: "overload", state: "firing" }))).toBeNull(); // not a whole alert object (CONTRACT §5)
    expect(decodeAlert(json({ ...alert, severity: "loud" }))).toBeNull();
    expect(decodeAlert("nope")).toBeNull();
    expect(decodeAckResult(json({ ok: false, code: "NOT_FOUND", message: "m" }))).toEqual({ ok: false, code: "NOT_FOUND", message: "m" });
    expect(decodeAckResult("{")).toEqual({ ok: false, code: "INVALID", message: expect.any(String) });
  });
});

describe("reading batches", () => {
  it("names the batch topic after the ingest's client id, topic-safe, and parses it", () => {
    expect(internalTopic.readingBatch("campus-ingest")).toBe("campus/internal/readings-batch/campus-ingest");
    expect(internalTopic.readingBatch("a/b+#")).toBe("campus/internal/readings-batch/a_b__");
    expect(parseInternalTopic(internalTopic.readingBatch("w1"))).toEqual({ kind: "reading-batch", source: "w1" });
    expect(decodeInternalMessage(internalTopic.readingBatch("w1"), "[]", true)).toBeNull();
  });

  it("decodes the readings of a batch in order and skips bad items one by one", () => {
    const a = { device: "brk-1", ts: 1, values: { power_w: 5 } };
    const b = { device: "brk-2", ts: 2, values: { current_a: 1 }, phases: { L1: { current_a: 1 } } };
    const c = { device: "brk-1", ts: 3, values: { power_w: 6 } };
    const batch = decodeReadingBatch(json([a, 7, b, { device: "brk-1", ts: "x", values: {} }, { device: "brk-1", ts: 4 }, { device: "brk-1", ts: 5, values: {}, phases: [] }, c]));
    expect(batch.readings).toEqual([a, b, c]);
    expect(batch.invalid).toEqual([
      { index: 1, reason: "not an object" },
      { index: 3, reason: expect.stringMatching(/device and ts/) },
      { index: 4, reason: expect.stringMatching(/values/) },
      { index: 5, reason: expect.stringMatching(/phases/) },
    ]);
    expect(decodeReadingBatch(Buffer.from(json([a])))).toEqual({ readings: [a], invalid: [] });
  });

  it("refuses a payload that is not a JSON array as a whole", () => {
    expect(decodeReadingBatch("")).toEqual({ readings: [], invalid: [{ index: -1, reason: "empty payload" }] });
    expect(decodeReadingBatch("[{")).toEqual({ readings: [], invalid: [{ index: -1, reason: "not JSON" }] });
    expect(decodeReadingBatch(json({ device: "brk-1" }))).toEqual({ readings: [], invalid: [{ index: -1, reason: expect.stringMatching(/array/) }] });
  });

  it("takes a per-device reading only as the broker's retained starting state, never forwarded live", () => {
    // A live copy repeats a reading that a batch carries and may overtake it (findings/alerts-order.md).
    const reading = { device: "brk-1", ts: 30, values: { power_w: 5 } };
    expect(decodeInternalMessage(internalTopic.reading("brk-1"), json(reading), true)).toEqual({ ok: true, message: { kind: "reading", reading } });
    expect(decodeInternalMessage(internalTopic.reading("brk-1"), json(reading), false)).toBeNull();
    expect(decodeInternalMessage(internalTopic.reading("brk-1"), "{", false)).toBeNull();
    // Statuses are retained too, but each one is news, live or not.
    const status = { device: "brk-1", ts: 2, online: true };
    expect(decodeInternalMessage(internalTopic.status("brk-1"), json(status), false)).toEqual({ ok: true, message: { kind: "status", status } });
  });
});

describe("relay reports", () => {
  const periodic = { device: "brk-1", ts: 5, on: false, explicit: false };
  const rpcError = { device: "sh-2", ts: 6, on: null, explicit: true, rpc_id: 17, error: "Switch 0 is locked by a script" };
  const relay = (device: string, payload: unknown, retained = false) => decodeInternalMessage(internalTopic.relay(device), json(payload), retained);

  it("decodes a periodic report and an explicit answer without a state", () => {
    expect(relay("brk-1", periodic)).toEqual({ ok: true, message: { kind: "relay", report: periodic } });
    expect(relay("sh-2", rpcError)).toEqual({ ok: true, message: { kind: "relay", report: rpcError } });
    const native = { device: "brk-1", ts: 7, on: null, explicit: true, command_id: "cmd-1" };
    expect(relay("brk-1", native)).toEqual({ ok: true, message: { kind: "relay", report: native } });
  });

  it("says why a malformed report is refused", () => {
    const reason = (device: string, payload: unknown) => {
      const decoded = relay(device, payload);
      return decoded !== null && !decoded.ok ? decoded.reason : null;
    };
    expect(reason("brk-2", periodic)).toMatch(/match the topic/);
    expect(reason("brk-1", { ...periodic, on: "OFF" })).toMatch(/on \(a boolean or null\)/);
    expect(reason("brk-1", { device: "brk-1", ts: 5, on: true })).toMatch(/explicit/);
    expect(reason("sh-2", { ...rpcError, rpc_id: 1.5 })).toMatch(/relay report/);
    expect(reason("sh-2", { ...rpcError, error: 42 })).toMatch(/relay report/);
    expect(decodeInternalMessage(internalTopic.relay("brk-1"), "{", false)).toEqual({ ok: false, kind: "relay", reason: "not JSON" });
  });

  it("refuses a report from the broker's retained store: it was published before anyone asked", () => {
    expect(relay("brk-1", periodic, true)).toEqual({ ok: false, kind: "relay", reason: expect.stringMatching(/retained/) });
  });
});
