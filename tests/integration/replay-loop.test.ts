// `campus-power replay --loop` as a user runs it (the real CLI as a child process) against the real
// broker: a tiny recording is published again round after round, each round restamped to its own now,
// until the command is stopped — what a service-account subscriber receives shows it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { readEnv } from "../../domain/env.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService } from "../../infra/mqtt.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const CAMPUS = "scenarios/campus.yaml";
const GROUP_KEY = "replay-loop-group-key-0123456789";
const SERVICE_PASSWORD = "replay-loop-service-password";
const dir = mkdtempSync(join(tmpdir(), "campus-replay-loop-"));
let broker: RunningBroker;
let subscriber: MqttClient | undefined;
let cli: CliProcess | undefined;

beforeAll(async () => {
  const env = readEnv({ DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD, LOG_LEVEL: "silent", DATA_DIR: dir });
  broker = await startBroker({ env, campus: loadCampus(CAMPUS), log: createLogger("silent"), metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
});
afterAll(async () => {
  await cli?.stop("SIGKILL");
  await subscriber?.endAsync(true);
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("replay --loop", () => {
  it("publishes the recording again and again, each round restamped, until stopped", async () => {
    const t = Date.parse("2026-11-25T12:00:00Z");
    const file = join(dir, "three.ndjson");
    const recorded = [1, 2, 3].map((i) => ({
      t: t + (i - 1) * 200,
      topic: "campus/devices/brk-o1-101/telemetry",
      payload: JSON.stringify({ ts: new Date(t + (i - 1) * 200).toISOString(), power_w: i }),
    }));
    // A line of a device the campus does not have: skipped in every round.
    recorded.push({ t: t + 500, topic: "campus/devices/not-in-campus/telemetry", payload: "{}" });
    writeFileSync(file, `${recorded.map((m) => JSON.stringify(m)).join("\n")}\n`);

    subscriber = await connectService(`mqtt://127.0.0.1:${broker.tcpPort}`, SERVICE_PASSWORD, "replay-loop-observer");
    const received: { power_w: number; ts: string; at: number }[] = [];
    subscriber.on("message", (_topic, payload) => received.push({ ...(JSON.parse(payload.toString()) as { power_w: number; ts: string }), at: Date.now() }));
    await subscriber.subscribeAsync("campus/devices/+/telemetry", { qos: 1 });

    const before = Date.now();
    // Speed 2: a round (0.5 s recorded) takes about 0.25 s.
    cli = startCli(["replay", file, "--speed", "2", "--loop", "--restamp"], {
      CAMPUS_CONFIG: CAMPUS,
      MQTT_URL: `mqtt://127.0.0.1:${broker.tcpPort}`,
      DEVICE_GROUP_KEY: GROUP_KEY,
      LOG_LEVEL: "warn",
      DATA_DIR: dir,
    });
    await waitFor(() => received.length >= 3 * 3, 20_000, 50);
    expect(received.length, cli.output()).toBeGreaterThanOrEqual(9);
    expect(cli.child.exitCode, "a looping replay goes on").toBeNull();
    const { code } = await cli.stop("SIGTERM");
    expect(code).toBe(0);

    // Round after round, in the recorded order (a subscriber may see part of a round stopped midway).
    const powers = received.map((m) => m.power_w);
    expect(powers).toEqual(powers.map((_, i) => (i % 3) + 1));
    // --restamp: each round's first message is stamped with that round's start, later rounds later,
    // and the recorded spacing (200 ms) kept within a round.
    const rounds = Math.floor(received.length / 3);
    const firsts = Array.from({ length: rounds }, (_, r) => Date.parse(received[r * 3]!.ts));
    expect(firsts[0]!).toBeGreaterThanOrEqual(before - 1_000);
    for (let r = 1; r < rounds; r++) expect(firsts[r]!).toBeGreaterThan(firsts[r - 1]!);
    for (let r = 0; r < rounds; r++) {
      expect(Date.parse(received[r * 3 + 1]!.ts) - firsts[r]!).toBe(200);
      expect(Date.parse(received[r * 3 + 2]!.ts) - firsts[r]!).toBe(400);
    }
  });
});
