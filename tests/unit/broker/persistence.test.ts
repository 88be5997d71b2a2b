import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { Aedes } from "aedes";
import { describe, expect, it } from "vitest";
import { indexedMemoryPersistence } from "../../../broker/persistence.js";

const require = createRequire(import.meta.url);
const { getArrayFromStream } = require("aedes-persistence/promisified.js") as { getArrayFromStream: (s: NodeJS.ReadableStream) => Promise<unknown[]> };

interface Persistence {
  storeRetained(packet: object): Promise<void>; // as aedes calls it: no callback, a promise
  createRetainedStreamCombi(patterns: string[]): NodeJS.ReadableStream;
}

const store = (p: Persistence, topic: string, payload: string) => p.storeRetained({ cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: true });
const topicsOf = async (p: Persistence, patterns: string[]) =>
  ((await getArrayFromStream(p.createRetainedStreamCombi(patterns))) as Array<{ topic: string }>).map((m) => m.topic);

describe("the broker's persistence", () => {
  it("passes aedes-persistence's own conformance suite", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "--test", "tests/unit/broker/persistence-suite.node.ts"], { encoding: "utf8", timeout: 120_000 });
    const failures = run.stdout.split("\n").filter((line) => line.startsWith("not ok"));
    expect(failures).toEqual([]);
    expect(run.stdout).toMatch(/^# pass [1-9]\d+$/m);
    expect(run.status).toBe(0);
  }, 150_000);

  it("answers each device's subscription to its own topic among 20,000 retained messages by looking it up", async () => {
    // Each device's SUBSCRIBE to its command topic used to test every retained topic: connecting 20,000
    // devices was O(n²) (docs/benchmarks.md, bench:district). The bound is far above the lookups' cost.
    const broker = await Aedes.createBroker({ persistence: indexedMemoryPersistence() as never }); // sets it up
    const p = (broker as unknown as { persistence: Persistence }).persistence;
    const devices = Array.from({ length: 20_000 }, (_, i) => `dev-${i}`);
    for (const d of devices) await store(p, `campus/s/${d}/status`, "online");
    await store(p, "campus/s/dev-7/status", ""); // an empty retained message clears the topic
    const started = performance.now();
    let found = 0;
    for (const d of devices) found += (await topicsOf(p, [`campus/s/${d}/status`])).length;
    const tookMs = performance.now() - started;
    expect(found).toBe(devices.length - 1);
    expect(await topicsOf(p, ["campus/s/dev-7/status"])).toEqual([]);
    expect(tookMs).toBeLessThan(20_000);
    // Wildcard filters still see every match, and the patterns of one SUBSCRIBE in their order.
    expect(await topicsOf(p, ["campus/s/+/status"])).toHaveLength(devices.length - 1);
    expect(await topicsOf(p, ["campus/s/dev-1/#", "campus/s/dev-2/status", "nothing/here"])).toEqual(["campus/s/dev-1/status", "campus/s/dev-2/status"]);
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }, 120_000);
});
