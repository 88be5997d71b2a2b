// `up`'s in-process feed subscription (broker/index.ts) under a long queue in aedes' emitter. mqemitter runs a
// queued message as soon as the one before it is released, in the same call stack; when every subscriber of
// each queued message answers at once, that is one stack frame chain per queued message. bench:commands found it:
// a lights-out schedule's 500 commands on top of 5,000 readings/s filled the queue behind slow QoS 1 deliveries,
// and `up` died of "Maximum call stack size exceeded" in DeviceFeed.routed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DeviceFeed } from "../../broker/device-feed.js";
import { startBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { waitFor } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "campus-feed-burst-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the in-process feed under a long emitter queue", () => {
  it("routes 50,000 queued messages without growing the call stack", async () => {
    const env = readEnv({ DATA_DIR: dir, DEVICE_GROUP_KEY: "burst-group-key-0123456789", SERVICE_PASSWORD: "burst-service-password" });
    const ctx = { env, campus: loadCampus("tests/fixtures/test-campus.yaml"), log: createLogger("silent"), metrics: createRegistry(false) };
    const feed = new DeviceFeed(() => undefined);
    const broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1", feed });
    try {
      let routed = 0;
      const routedBefore = feed.routed.bind(feed);
      feed.routed = (topic, payload) => (topic.startsWith("burst/fast/") && routed++, routedBefore(topic, payload));
      // A subscriber that holds each of its messages for a while, as a QoS 1 delivery waiting on a session does:
      // its messages take every one of the emitter's concurrent slots, and the rest queue behind them.
      let slow = 0;
      broker.aedes.subscribe("burst/slow/#", (_packet, done) => setTimeout(() => (slow++, done()), 20), () => undefined);
      const publish = (topic: string) => broker.aedes.publish({ cmd: "publish", topic, payload: Buffer.from("{}"), qos: 0, retain: false, dup: false }, () => undefined);
      for (let i = 0; i < 200; i++) publish(`burst/slow/${i}`);
      for (let i = 0; i < 50_000; i++) publish(`burst/fast/${i % 100}`);
      expect(await waitFor(() => routed === 50_000 && slow === 200, 30_000)).toBe(true);
    } finally {
      await broker.stop();
    }
  });
});
