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

describe("the outgoing queue's message ids", () => {
  interface Queueing {
    outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>;
    outgoingUpdate(client: { id: string }, packet: { messageId?: number }): Promise<void>;
    outgoingClearMessageId(client: { id: string }, packet: { messageId: number }): Promise<{ payload: Buffer } | undefined>;
    outgoingStream(client: { id: string }): NodeJS.ReadableStream;
  }

  it("never gives a packet the id of one still unacknowledged, so every PUBACK clears its own packet", async () => {
    // aedes' counter wraps at 65,535: a subscriber that far behind was given an id already in flight, and one
    // of the two packets stayed queued for ever (93,000 of them after a 100,000-reading run of `up`).
    const broker = await Aedes.createBroker({ persistence: indexedMemoryPersistence() as never });
    const p = (broker as unknown as { persistence: Queueing }).persistence;
    const client = { id: "campus-ingest" };
    const Packet = require("aedes-packet") as new (packet: object, broker: object) => { messageId?: number; payload: Buffer };
    const sent = [0, 1, 2].map((i) => new Packet({ cmd: "publish", topic: "campus/devices/d/telemetry", payload: Buffer.from(`r${i}`), qos: 1 }, broker));
    for (const packet of sent) await p.outgoingEnqueue({ clientId: client.id }, packet);
    // As aedes delivers them: a copy of each with the counter's id; the third wraps onto the first's id.
    const onWire = sent.map((packet, i) => Object.assign(new Packet(packet, broker), { messageId: [65_535, 1, 65_535][i] }));
    for (const packet of onWire) await p.outgoingUpdate(client, packet);
    const ids = onWire.map((packet) => packet.messageId);
    expect(new Set(ids).size).toBe(3); // each written with an id of its own
    // A redelivery (after a reconnect) keeps the id its packet was first sent with [MQTT-4.4.0-1].
    const again = Object.assign(new Packet(sent[1]!, broker), { messageId: ids[1] });
    await p.outgoingUpdate(client, again);
    expect(again.messageId).toBe(ids[1]);

    const acked = [];
    for (const id of ids) acked.push((await p.outgoingClearMessageId(client, { messageId: id! }))?.payload.toString());
    expect(acked).toEqual(["r0", "r1", "r2"]);
    expect(await getArrayFromStream(p.outgoingStream(client))).toEqual([]);
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
});
