import { describe, expect, it } from "vitest";
import { parseEvent, parseStatus, parseTelemetry, resolveTimestamp } from "../../../domain/reading.js";

const receivedAt = Date.parse("2026-11-29T08:00:00.000Z");
const options = { receivedAt, maxAgeMs: 90 * 86_400_000 };

describe("native telemetry", () => {
  it("parses the contract's example reading with its device timestamp", () => {
    const payload = JSON.stringify({
      ts: "2026-11-29T07:59:00.000Z", voltage_v: 221.4, current_a: 4.2, power_w: 920.5, energy_kwh: 1532.25, power_factor: 0.99,
      frequency_hz: 50.0, leakage_ma: 2.1, temperature_c: 38.5, switch_on: true,
      phases: { L1: { voltage_v: 221.0, current_a: 4.1, power_w: 300.0 }, L2: {}, L3: {} },
    });
    const result = parseTelemetry("brk-1", payload, options);
    expect(result.refusals).toEqual([]);
    expect(result.readings).toHaveLength(1);
    const reading = result.readings[0]!;
    expect(reading.ts).toBe(Date.parse("2026-11-29T07:59:00.000Z"));
    expect(reading.values).toMatchObject({ voltage_v: 221.4, switch_on: true, energy_kwh: 1532.25 });
    expect(reading.phases).toEqual({ L1: { voltage_v: 221.0, current_a: 4.1, power_w: 300.0 } });
    expect(reading.tsFallback).toBeUndefined();
  });

  it("accepts a batch and refuses only its invalid items", () => {
    const payload = JSON.stringify([{ ts: receivedAt - 2000, power_w: 1 }, { ts: receivedAt - 1000, power_w: "high" }, { ts: receivedAt, power_w: 3 }]);
    const result = parseTelemetry("brk-1", payload, options);
    expect(result.readings.map((r) => r.values.power_w)).toEqual([1, 3]);
    expect(result.refusals).toEqual([{ code: "PAYLOAD_INVALID", reason: '"power_w" must be a finite number (item 1)' }]);
  });

  it.each([
    ["not JSON", "{power_w: 1", "PAYLOAD_NOT_JSON"],
    ["a wrong type", '{"current_a": "4"}', "PAYLOAD_INVALID"],
    ["an unknown field", '{"power": 4}', "PAYLOAD_INVALID"],
    ["no measurement", '{"ts": 1}', "PAYLOAD_INVALID"],
    ["a number", "42", "PAYLOAD_INVALID"],
    ["an unknown phase", '{"phases": {"L4": {"current_a": 1}}}', "PAYLOAD_INVALID"],
    ["an impossible value", '{"voltage_v": 100000}', "PAYLOAD_INVALID"],
    ["an empty batch", "[]", "PAYLOAD_INVALID"],
  ])("refuses %s", (_name, payload, code) => {
    const result = parseTelemetry("brk-1", payload, options);
    expect(result.readings).toEqual([]);
    expect(result.refusals[0]?.code).toBe(code);
  });

  it("refuses a payload above the size limit without parsing it", () => {
    const huge = JSON.stringify({ power_w: 1, pad: "x".repeat(300_000) });
    expect(parseTelemetry("brk-1", huge, options).refusals[0]?.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("timestamps", () => {
  it("uses the receive time when the device gives none, without counting it as a fallback", () => {
    expect(resolveTimestamp(undefined, options)).toEqual({ ts: receivedAt });
  });
  it("accepts epoch milliseconds and ISO 8601 with an offset", () => {
    expect(resolveTimestamp(receivedAt - 5, options)).toEqual({ ts: receivedAt - 5 });
    expect(resolveTimestamp("2026-11-29T16:00:00+08:00", options)).toEqual({ ts: receivedAt });
  });
  it("falls back to the receive time for a timestamp more than 5 minutes ahead", () => {
    expect(resolveTimestamp(receivedAt + 5 * 60_000 + 1, options)).toEqual({ ts: receivedAt, fallback: "future" });
    expect(resolveTimestamp(receivedAt + 5 * 60_000, options)).toEqual({ ts: receivedAt + 5 * 60_000 });
  });
  it("falls back for an ISO time without a zone, garbage, and times older than the raw retention", () => {
    expect(resolveTimestamp("2026-11-29T08:00:00", options).fallback).toBe("no-zone");
    expect(resolveTimestamp("yesterday", options).fallback).toBe("unparseable");
    expect(resolveTimestamp(receivedAt - 91 * 86_400_000, options).fallback).toBe("too-old");
  });
});

describe("status and events", () => {
  it("reads online and offline", () => {
    expect(parseStatus("online")).toEqual({ ok: true, value: true });
    expect(parseStatus("offline")).toEqual({ ok: true, value: false });
    expect(parseStatus("maybe").ok).toBe(false);
  });
  it("reads a trip event and refuses an unknown reason", () => {
    const ok = parseEvent("brk-1", JSON.stringify({ ts: receivedAt, type: "trip", reason: "overload", detail: "thermal" }), options);
    expect(ok).toEqual({ ok: true, value: { device: "brk-1", ts: receivedAt, type: "trip", reason: "overload", detail: "thermal" } });
    expect(parseEvent("brk-1", JSON.stringify({ type: "trip", reason: "gremlins" }), options).ok).toBe(false);
  });
});
