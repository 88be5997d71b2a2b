// What each split service gets with REDIS_URL (CONTRACT §12, docs/ha.md); nothing without it, so the
// single-process mode is exactly as before. The CLI is the only place that may hand the broker the
// ingest's topic filters (services do not import each other).
import { hostname } from "node:os";
import type { Campus } from "../domain/campus.js";
import type { Env } from "../domain/env.js";
import { buildRouter } from "../ingest/routing.js";

/** INSTANCE_NAME, or the host name: stable across restarts, as the ingest's spool and consumer need. */
export const instanceName = (env: Pick<Env, "instanceName">): string => env.instanceName || hostname();

/** The broker node: the cluster on Redis, and which publishes of service accounts the ingest reads. */
export function brokerHa(env: Pick<Env, "redisUrl">, campus: Campus) {
  return env.redisUrl ? { redis: { url: env.redisUrl, deviceFilters: buildRouter(campus).subscriptions } } : {};
}

/**
 * An ingest worker: its MQTT client id, its consumer name in the device stream and its spool folder all carry
 * its instance name, so two workers never share a session or a spool, and a restarted worker finds its own.
 */
export function ingestHa(env: Pick<Env, "redisUrl" | "instanceName">) {
  if (!env.redisUrl) return {};
  const name = instanceName(env);
  return { clientId: `campus-ingest-${name}`, redis: { url: env.redisUrl, consumer: name } };
}

/** The alerts lease's holder name: the process id too, so a restarted process never passes for the one it replaces. */
export const alertsInstanceName = (env: Pick<Env, "instanceName">): string => `${instanceName(env)}-${process.pid}`;

/** An alerts service: a candidate for the lease; stood down, it exits so that its supervisor starts it again as a standby. */
export function alertsHa(env: Pick<Env, "redisUrl" | "instanceName">, onDeposed: () => void) {
  return env.redisUrl ? { redis: { url: env.redisUrl, instance: alertsInstanceName(env), onDeposed } } : {};
}

export function apiHa(env: Pick<Env, "redisUrl" | "instanceName">) {
  return env.redisUrl ? { redis: { url: env.redisUrl, instance: instanceName(env) } } : {};
}
