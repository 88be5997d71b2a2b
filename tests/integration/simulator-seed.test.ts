// --seed makes a run reproducible to the byte: two runs with the same seed and start, through the real
// broker with real device connections, put the same messages on every topic.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../infra/logger.js";
import { startRecorder, startSimulator } from "../../simulator/index.js";
import { waitFor } from "../helpers/wait.js";
import { everyDeviceLeft, GROUP_KEY, SERVICE_PASSWORD, type Stack, startStack } from "./simulator-stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack("scenarios/campus.yaml");
});
afterAll(async () => stack?.stop());

/** Per topic, the payloads a run at 60× from `startMs` published, in order (availability excluded). */
async function run(seed: number, startMs: number): Promise<Map<string, string[]>> {
  const byTopic = new Map<string, string[]>();
  const received: { topic: string; payload: string }[] = [];
  const recorder = await startRecorder({
    mqttUrl: stack.mqttUrl,
    servicePassword: SERVICE_PASSWORD,
    clientId: `seed-recorder-${seed}-${Math.random()}`,
    write: (line) => {
      const { topic, payload } = JSON.parse(line) as { topic: string; payload: string };
      received.push({ topic, payload });
      if (/(status|LWT|online|availability)$/.test(topic)) return;
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), payload]);
    },
  });
  const simulator = await startSimulator({ campus: stack.campus, mqttUrl: stack.mqttUrl, deviceGroupKey: GROUP_KEY, log: createLogger("silent"), seed, speed: 60, durationMs: 2_000, startMs });
  await simulator.finished;
  await simulator.stop();
  // Each device's "offline" on leaving is its last message: once the recorder has them all, it has the run.
  await waitFor(() => everyDeviceLeft(stack.campus, received), 5_000, { intervalMs: 20, what: "every device's offline" });
  await recorder.stop();
  return byTopic;
}

describe("simulator seed", () => {
  it("puts the same bytes on every topic for the same seed and start, and others for another seed", async () => {
    const start = Date.now() - 3_600_000;
    const first = await run(3, start);
    const second = await run(3, start);
    const other = await run(4, start);
    expect(first.size).toBeGreaterThanOrEqual(16); // every device's topics
    expect([...first.values()].reduce((n, l) => n + l.length, 0)).toBeGreaterThan(200);
    expect(second).toEqual(first);
    expect(other.get("campus/devices/brk-d1-101/telemetry")).not.toEqual(first.get("campus/devices/brk-d1-101/telemetry"));
  });
});
