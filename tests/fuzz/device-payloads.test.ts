// Fuzz: generated payloads on every topic of every device format (CONTRACT §3) through the ingest's own
// router and message processing (ingest/process-message.ts), a sequence at a time with the per-device
// vendor state kept as the ingest keeps it. Never a throw; every point is storable and every stored value
// finite and inside its physical range; an event's detail stays bounded.
// Runtime: ~3 s (2,000 sequences of up to 6 messages, capped at 20 s). Replay: FUZZ_SEED=<seed> npx vitest run tests/fuzz/device-payloads.test.ts
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { processMessage, type MessageEffects } from "../../ingest/process-message.js";
import { RAW_RETENTION_MS, RECEIVED_AT, message, pointProblem, router } from "./device-messages.js";
import { fuzzParameters } from "./seed.js";

function check(effects: MessageEffects) {
  for (const point of effects.points) expect(pointProblem(point), JSON.stringify(point).slice(0, 300)).toBeNull();
  for (const publication of effects.publish) expect(() => JSON.parse(publication.payload)).not.toThrow();
  for (const refusal of effects.refusals) expect(refusal.reason.length).toBeLessThan(2_000);
}

describe("fuzzing device payloads through the ingest's decoding", () => {
  it("never throws and never yields a point outside its physical range, whatever a device sends", () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), (messages) => {
        const states = new Map<string, unknown>();
        for (const { topic, payload } of messages) {
          const effects = processMessage(router, topic, payload, { receivedAt: RECEIVED_AT, maxAgeMs: RAW_RETENTION_MS, previousState: (key) => states.get(key) });
          if (effects.state) states.set(effects.state.key, effects.state.value);
          check(effects);
        }
      }),
      fuzzParameters(2_000, 20_000),
    );
  }, 60_000);
});

// Cases the fuzzing found, kept as regular tests (the seed that found each is in its name).
describe("what the payload fuzzing found", () => {
  const process = (topic: string, payload: string) => processMessage(router, topic, Buffer.from(payload), { receivedAt: RECEIVED_AT, maxAgeMs: RAW_RETENTION_MS });

  it("cuts a Zigbee2MQTT fault code to 1,024 characters (seed 419780747: a 1,025-character fault was stored whole)", () => {
    const effects = process("zigbee2mqtt/lab/din-breaker-1", JSON.stringify({ fault: "x".repeat(150_000) }));
    expect(effects.points).toHaveLength(1);
    expect(effects.points[0]!.fields.detail).toBe("x".repeat(1024));
  });

  it("turns at most 32 new protection codes of one message into events", () => {
    const faults = Array.from({ length: 1_000 }, (_, i) => `code-${i}`);
    const zigbee = process("zigbee2mqtt/lab/din-breaker-1", JSON.stringify({ faults }));
    const shelly = process("shellyplus1pm-a8032ab12345/status/switch:0", JSON.stringify({ output: true, errors: faults }));
    expect(zigbee.points.filter((p) => p.measurement === "device_event")).toHaveLength(32);
    expect(shelly.points.filter((p) => p.measurement === "device_event")).toHaveLength(32);
    expect(zigbee.state?.value).toHaveLength(32);
  });
});
