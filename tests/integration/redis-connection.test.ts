// infra/redis.ts against a real redis-server (infra/local-redis.ts): a service with REDIS_URL waits for Redis,
// a command while Redis is away fails at once instead of waiting in memory, and the loss and the return are
// logged once each, without the password.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, type Redis, untilReady } from "../../infra/redis.js";
import { checkDurability } from "../../broker/cluster.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { freePort } from "../../infra/free-port.js";
import { waitFor } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "campus-redis-connection-"));
const lines: string[] = [];
const log = pino({ level: "info" }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
let redis: LocalRedis;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, "redis") });
});

afterAll(async () => {
  clients.forEach((client) => client.disconnect());
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the Redis connection (REDIS_URL)", () => {
  it("waits for a Redis that is not there yet, saying so, and is ready once it starts", async () => {
    const port = await freePort();
    const url = `redis://:not-in-the-log@127.0.0.1:${port}`;
    const client = connectRedis(url, { name: "test-late", log, maxBackoffMs: 200 });
    clients.push(client);
    let ready = false;
    const waiting = untilReady(client, url, log, undefined, 300).then(() => (ready = true));
    await waitFor(() => lines.some((line) => line.includes("waiting for Redis")), 10_000, { what: "the wait is logged" });
    expect(ready).toBe(false);
    const late = await startLocalRedis({ dir: join(dir, "late"), port });
    try {
      await waiting;
      expect(await client.ping()).toBe("PONG");
    } finally {
      await late.stop();
    }
    expect(lines.join("")).not.toContain("not-in-the-log");
  });

  it("fails a command at once while Redis is away, logs the loss once, and works again after a restart", async () => {
    const client = connectRedis(redis.url, { name: "test-restart", log, maxBackoffMs: 200 });
    clients.push(client);
    await untilReady(client, redis.url, log);
    await client.set("kept", "1");
    lines.length = 0;
    await redis.kill();
    await waitFor(() => client.status !== "ready", 10_000, { what: "the client sees Redis gone" });
    const started = Date.now();
    await expect(client.set("lost", "1")).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    await redis.restart();
    await untilReady(client, redis.url, log);
    // The append-only file kept what was written before the kill; nothing was written while Redis was away.
    expect(await client.get("kept")).toBe("1");
    expect(await client.get("lost")).toBeNull();
    const said = () => lines.map((line) => JSON.parse(line) as { msg: string });
    // ioredis emits "ready" on the next tick after its status says so.
    await waitFor(() => said().some((line) => line.msg === "Redis reachable again"), 5_000, { what: "the return is logged" });
    expect(said().filter((line) => line.msg === "Redis unreachable; retrying")).toHaveLength(1);
    expect(said().filter((line) => line.msg === "Redis reachable again")).toHaveLength(1);
  });

  it("says at a broker's start whether Redis saves each write before answering, and warns when it does not", async () => {
    const client = connectRedis(redis.url, { name: "durability-check", log });
    clients.push(client);
    await untilReady(client, redis.url, log);
    const from = lines.length; // the earlier tests' warnings are theirs
    const warned = () => lines.slice(from).filter((l) => JSON.parse(l).level === 40).map((l) => JSON.parse(l).msg as string);
    expect(await checkDurability(client, log)).toBe("always");
    expect(warned()).toEqual([]);
    try {
      await client.config("SET", "appendfsync", "everysec");
      expect(await checkDurability(client, log)).toBe("weaker");
      expect(warned().at(-1)).toMatch(/\(appendfsync is not always\): a power loss can lose readings/);
      await client.config("SET", "appendonly", "no");
      expect(await checkDurability(client, log)).toBe("weaker");
      expect(warned().at(-1)).toMatch(/without its append-only file/);
    } finally {
      await client.config("SET", "appendonly", "yes");
      await client.config("SET", "appendfsync", "always");
    }
    expect(await checkDurability(client, log)).toBe("always");
  });
});
