// The alert state in Redis, per device (alerts/redis-state.ts; docs/ha.md): a save writes the devices whose slot
// changed and the rest, fenced, in one script; a failed save leaves its devices to the next; a takeover reads it
// back whole, a value written whole by an earlier version too. Real Redis; the store of the alerts service.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FENCE_KEY } from "../../alerts/lease.js";
import { createStateStore } from "../../alerts/persistence.js";
import { DEVICES_KEY, NOTIFIED_KEY, STATE_KEY, type Tracked } from "../../alerts/redis-state.js";
import { type Fence, loadFencedBackends } from "../../alerts/redis-store.js";
import type { DeviceSlot, EngineState, SavedState } from "../../alerts/saved-state.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { connectRedis, type Redis, untilReady } from "../../infra/redis.js";

const dir = mkdtempSync(join(tmpdir(), "campus-power-alerts-redis-state-"));
let server: LocalRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startLocalRedis({ dir: join(dir, "redis") });
  redis = connectRedis(server.url, { name: "test", log: createLogger("silent") });
  await untilReady(redis, server.url, createLogger("silent"));
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await redis.flushall();
  await redis.set(FENCE_KEY, 7);
});

const slot = (lastReadingTs: number): DeviceSlot => ({ track: { lastReadingTs, lastStatusTs: null, lastSeenAt: lastReadingTs }, rules: { overload: { rule: { n: lastReadingTs }, active: false, latched: false, openings: 0 } } });
const saved = (engine: EngineState): SavedState => ({ version: 1, saved_at: "2026-12-07T00:00:00.000Z", engine, pending_writes: ["alert,device=x v=1 1"] });

/** A store on the fenced backends, as an alerts service that took the lease with `token` has; `refused` counts refusals. */
async function storeOf(state: () => EngineState, token = 7) {
  const fence: Fence & { refusals: number } = { token, refusals: 0, onRefused: () => void fence.refusals++, writable: () => true };
  const backends = await loadFencedBackends(redis, fence);
  const store = createStateStore(backends.state, () => saved(state()), createLogger("silent"), { debounceMs: 1 });
  return { store, fence };
}

const tracked = (id: string, notified: boolean): Tracked => ({
  alert: { id, rule: "offline", device: id.slice(3), building: "b1", site: "s1", severity: "warning", state: "firing", value: 0, threshold: 0, message: "offline", started_at: "2026-12-07T00:00:00.000Z", updated_at: "2026-12-07T00:00:00.000Z" },
  notified,
  ...(notified ? { firstSentAt: 1, lastSentAt: 1 } : {}),
});
const withNotifier = (engine: EngineState, alerts: Record<string, Tracked>): SavedState => ({ ...saved(engine), notify: { state: { alerts, groups: {} }, outbox: [], seq: 9 } });

const fields = async () => Object.fromEntries(Object.entries(await redis.hgetall(DEVICES_KEY)).map(([id, text]) => [id, JSON.parse(text) as DeviceSlot]));

describe("the alert state in Redis", () => {
  it("keeps each device in its own field and writes only the devices whose slot changed", async () => {
    const state: EngineState = { version: 1, devices: { a: slot(1), b: slot(2), c: slot(3) }, silenceSeq: 4 };
    const { store } = await storeOf(() => state);
    await store.saveNow();
    expect(await fields()).toEqual(state.devices);
    const rest = JSON.parse((await redis.get(STATE_KEY))!) as SavedState;
    expect(rest.engine).toEqual({ version: 1, silenceSeq: 4 }); // the devices are in the hash alone
    expect(rest.pending_writes).toEqual(["alert,device=x v=1 1"]);

    // b's field is changed behind the store's back: a save that does not concern b leaves it as it is.
    await redis.hset(DEVICES_KEY, "b", JSON.stringify(slot(200)));
    state.devices.a = slot(10); // the engine puts a new slot in place of a changed one
    state.devices.d = slot(4);
    delete state.devices.c;
    await store.saveNow();
    expect(await fields()).toEqual({ a: slot(10), b: slot(200), d: slot(4) });
  });

  it("writes nothing when refused by the fence, and a failed save's devices go with the next one", async () => {
    const state: EngineState = { version: 1, devices: { a: slot(1), b: slot(2) } };
    const { store, fence } = await storeOf(() => state);
    await store.saveNow();
    const before = { rest: await redis.get(STATE_KEY), devices: await redis.hgetall(DEVICES_KEY) };

    await redis.set(FENCE_KEY, 8); // another instance took the lease
    state.devices.a = slot(11);
    await store.saveNow();
    expect(fence.refusals).toBe(1);
    expect({ rest: await redis.get(STATE_KEY), devices: await redis.hgetall(DEVICES_KEY) }).toEqual(before);

    await redis.set(FENCE_KEY, 7); // (as if the refusal had been a passing failure)
    state.devices.b = slot(12);
    await store.saveNow();
    expect(await fields()).toEqual({ a: slot(11), b: slot(12) });
  });

  it("reads the state back whole at a takeover, and keeps writing per device from there", async () => {
    const state: EngineState = { version: 1, devices: { a: slot(1), b: slot(2) }, silenceSeq: 2 };
    await (await storeOf(() => state)).store.saveNow();
    let taken: EngineState | null = null;
    const next = await storeOf(() => taken!);
    const loaded = next.store.load();
    expect(loaded).toEqual(saved(state));
    taken = loaded!.engine;
    taken.devices.b = slot(20);
    await next.store.saveNow();
    expect(await fields()).toEqual({ a: slot(1), b: slot(20) });
  });

  it("writes no device at a takeover's start, which changes only every device's watchdog clock", async () => {
    const state: EngineState = { version: 1, devices: { a: slot(1), b: slot(2) } };
    await (await storeOf(() => state)).store.saveNow();
    let taken: EngineState | null = null;
    const next = await storeOf(() => taken!);
    taken = next.store.load()!.engine;
    // Marks in the fields show whether a save wrote them again.
    await redis.hset(DEVICES_KEY, "a", JSON.stringify(slot(100)), "b", JSON.stringify(slot(200)));
    for (const [id, was] of Object.entries(taken.devices)) taken.devices[id] = { ...was, track: { ...was.track, lastSeenAt: 5_000 } }; // as engine.ts start does
    await next.store.saveNow();
    expect(await fields()).toEqual({ a: slot(100), b: slot(200) });
    // A change of anything else is written.
    const b = taken.devices.b!;
    taken.devices.b = { ...b, track: { ...b.track, lastReadingTs: 6_000, lastSeenAt: 6_000 } };
    await next.store.saveNow();
    expect(await fields()).toEqual({ a: slot(100), b: taken.devices.b });
  });

  it("reads a state an earlier version wrote whole, and moves its devices into the hash at the first save", async () => {
    const whole = saved({ version: 1, devices: { a: slot(1), b: slot(2) } });
    await redis.set(STATE_KEY, JSON.stringify(whole));
    let engine: EngineState | null = null;
    const { store } = await storeOf(() => engine!);
    const loaded = store.load();
    expect(loaded).toEqual(whole);
    engine = loaded!.engine;
    await store.saveNow();
    expect(await fields()).toEqual(whole.engine.devices);
    expect((JSON.parse((await redis.get(STATE_KEY))!) as SavedState).engine).toEqual({ version: 1 });
  });

  it("keeps a state with an unreadable device aside, names that device, and starts without it", async () => {
    await (await storeOf(() => ({ version: 1, devices: { a: slot(1) } }))).store.saveNow();
    await redis.hset(DEVICES_KEY, "b", "{not json");
    const errors: Record<string, unknown>[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => void errors.push(JSON.parse(line) as Record<string, unknown>) });
    const backends = await loadFencedBackends(redis, { token: 7, onRefused: () => undefined, writable: () => true });
    const store = createStateStore(backends.state, () => saved({ version: 1, devices: {} }), log);
    expect(store.load()).toBeNull();
    expect(errors[0]).toMatchObject({ key: STATE_KEY, reason: expect.stringContaining("/engine/devices/b") });
    const aside = errors[0]!.movedTo as string;
    expect(aside).toMatch(/^campus:alerts:state:corrupt-\d+$/);
    await expect.poll(async () => JSON.parse((await redis.get(aside)) ?? "null")).toMatchObject({ engine: { devices: { a: slot(1), b: "{not json" } } });
  });

  it("keeps each alert the notifier tracks in its own field of campus:alerts:notified, writes what changed, and reads them back at a takeover", async () => {
    const engine: EngineState = { version: 1, devices: { a: slot(1) } };
    let alerts: Record<string, Tracked> = { "al-a": tracked("al-a", true), "al-b": tracked("al-b", false) };
    const fence: Fence = { token: 7, onRefused: () => undefined, writable: () => true };
    const store = createStateStore((await loadFencedBackends(redis, fence)).state, () => withNotifier(engine, alerts), createLogger("silent"), { debounceMs: 1 });
    await store.saveNow();
    const notifiedFields = async () => Object.fromEntries(Object.entries(await redis.hgetall(NOTIFIED_KEY)).map(([id, text]) => [id, JSON.parse(text) as Tracked]));
    expect(await notifiedFields()).toEqual(alerts);
    expect((JSON.parse((await redis.get(STATE_KEY))!) as SavedState).notify).toEqual({ state: { alerts: {}, groups: {} }, outbox: [], seq: 9 });

    // al-a resolved (its field deleted), al-b paged, al-c opened.
    const { "al-a": _resolved, ...open } = alerts;
    alerts = { ...open, "al-b": tracked("al-b", true), "al-c": tracked("al-c", false) };
    await store.saveNow();
    expect(await notifiedFields()).toEqual(alerts);

    const next = await storeOf(() => engine);
    expect(next.store.load()).toEqual(withNotifier(engine, alerts));
  });
});
