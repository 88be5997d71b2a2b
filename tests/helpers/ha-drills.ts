// The five failure drills of issue 15 (CONTRACT §12) as procedures on a running cluster (./ha-cluster.ts) with
// devices publishing (./ha-devices.ts): each kills one part with SIGKILL (Redis: kill and restart), measures
// how long until the users are served again, and restarts what it killed, as a supervisor would. The
// integration test (tests/integration/ha-drills.test.ts) asserts on what they return; `npm run bench:ha`
// prints it.
import WebSocket from "ws";
import { PARTITIONS } from "../../infra/device-stream.js";
import type { Redis } from "../../infra/redis.js";
import { type Cluster, HA_ADMIN, type ProcessName } from "./ha-cluster.js";
import type { DrillDevices } from "./ha-devices.js";
import { waitFor } from "./wait.js";

export interface Drill {
  cluster: Cluster;
  devices: DrillDevices;
  /** A Redis connection of the test's own, to read the leases. */
  redis: Redis;
  /** Called right after the kill: the test starts a breach there, which must alert all the same. */
  atKill?: () => void;
}

const until = (what: string, check: () => Promise<unknown> | unknown, timeoutMs = 30_000) => waitFor(check, timeoutMs, { what, intervalMs: 50 });

export const activeAlerts = async (redis: Redis) => JSON.parse((await redis.get("campus:alerts:lease").catch(() => null)) ?? "null") as { instance: string } | null;

/**
 * What a broker, ingest or alerts process says of itself on its METRICS_PORT: the labels of its
 * `campus_power_instance_info` series on /metrics and /ready's answer; null while it cannot answer.
 */
export async function roleOf(cluster: Cluster, name: ProcessName): Promise<{ role: string; instance: string; ready: { status: number; role: string } } | null> {
  const url = `http://127.0.0.1:${cluster.metricsPorts[name]}`;
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    const line = text.split("\n").find((l) => l.startsWith("campus_power_instance_info{"));
    const label = (key: string) => line?.match(new RegExp(`${key}="([^"]*)"`))?.[1] ?? "";
    const ready = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
    return line ? { role: label("role"), instance: label("instance"), ready: { status: ready.status, role: ((await ready.json()) as { role: string }).role } } : null;
  } catch {
    return null;
  }
}

/** A dashboard's live stream on one API instance: the readings it has received so far. */
export function liveClient(cluster: Cluster, side: "a" | "b"): { socket: WebSocket; readings: string[] } {
  const readings: string[] = [];
  const socket = new WebSocket(`ws://127.0.0.1:${cluster.apiPorts[side]}/api/live?token=${HA_ADMIN}`);
  socket.on("message", (data) => { if ((JSON.parse(String(data)) as { type: string }).type === "reading") readings.push(String(data)); });
  socket.on("error", () => undefined);
  return { socket, readings };
}

/** (a) A broker node: how long until every device is connected again, and the slowest device's reconnection. */
export async function killBroker(d: Drill): Promise<{ recoveredMs: number; slowestMs: number; moved: number }> {
  d.devices.markReconnects();
  const at = Date.now();
  await d.cluster.kill("broker-a");
  d.atKill?.();
  await until("the devices of broker-a connected again", () => d.devices.reconnectMs.length >= 50 && d.devices.disconnected === 0);
  const recoveredMs = Date.now() - at;
  const result = { recoveredMs, slowestMs: Math.max(...d.devices.reconnectMs), moved: d.devices.reconnectMs.length };
  await d.cluster.start("broker-a");
  return result;
}

/** (b) An ingest worker: how long until the other holds every partition of the device stream. */
export async function killIngest(d: Drill): Promise<{ recoveredMs: number }> {
  const keys = Array.from({ length: PARTITIONS }, (_, k) => `campus:ingest:partition:${k}`);
  await until("ingest-a holding partitions", async () => (await d.redis.mget(...keys)).includes("ingest-a"));
  const at = Date.now();
  await d.cluster.kill("ingest-a");
  d.atKill?.();
  await until("ingest-b holding every partition", async () => (await d.redis.mget(...keys)).every((holder) => holder === "ingest-b"));
  const recoveredMs = Date.now() - at;
  await d.cluster.start("ingest-a");
  return { recoveredMs };
}

/**
 * (c) The active alerts service: how long until the standby holds the lease, and until a breach that starts
 * right after the kill is alerted. `breach` starts the breach; `alerted` says it was alerted.
 */
export async function killActiveAlerts(d: Drill, breach: () => void, alerted: () => boolean): Promise<{ takeoverMs: number; breachAlertedMs: number }> {
  const active = (await activeAlerts(d.redis))!.instance;
  const name = active.startsWith("alerts-a") ? "alerts-a" : "alerts-b";
  const at = Date.now();
  await d.cluster.kill(name);
  breach();
  d.atKill?.();
  await until("a new active alerts service", async () => { const now = await activeAlerts(d.redis); return now !== null && now.instance !== active; });
  const takeoverMs = Date.now() - at;
  await until("the breach during the failover alerted", alerted);
  const breachAlertedMs = Date.now() - at;
  await d.cluster.start(name);
  return { takeoverMs, breachAlertedMs };
}

/** (d) An API instance with a live client: how long until the client, reconnecting to the other, gets readings. */
export async function killApi(d: Drill): Promise<{ recoveredMs: number }> {
  const live = (side: "a" | "b") => liveClient(d.cluster, side);
  const first = live("a");
  await until("the live stream on api-a", () => first.readings.length > 0);
  const at = Date.now();
  await d.cluster.kill("api-a");
  d.atKill?.();
  // The dashboard's client, cut off, reconnects; a load balancer sends it to the instance that is left.
  await new Promise<void>((resolve) => (first.socket.readyState === WebSocket.CLOSED ? resolve() : first.socket.once("close", () => resolve())));
  const second = live("b");
  await until("readings on api-b's live stream", () => second.readings.length > 0);
  const recoveredMs = Date.now() - at;
  second.socket.close();
  await d.cluster.start("api-a");
  return { recoveredMs };
}

/**
 * (e) Redis killed and started again after `downMs`: how many readings were acknowledged while it was away
 * (must be none), and how long after its return until devices are acknowledged and connected again.
 */
export async function restartRedis(d: Drill, downMs = 3_000): Promise<{ ackedWhileDown: number; recoveredMs: number; slowestMs: number }> {
  d.devices.markReconnects();
  await d.cluster.redis.kill();
  d.atKill?.();
  // Acknowledgements already on their way when Redis died may still arrive: counted from a second later.
  await new Promise((r) => setTimeout(r, 1_000));
  const before = d.devices.ackedCount;
  await new Promise((r) => setTimeout(r, downMs - 1_000));
  const ackedWhileDown = d.devices.ackedCount - before;
  const at = Date.now();
  await d.cluster.redis.restart();
  await until("acknowledgements again, every device connected", () => d.devices.ackedCount > before + 500 && d.devices.disconnected === 0, 60_000);
  return { ackedWhileDown, recoveredMs: Date.now() - at, slowestMs: Math.max(0, ...d.devices.reconnectMs) };
}
