// The Redis connection every service uses with REDIS_URL (CONTRACT §12; docs/ha.md): ioredis, reconnecting
// for ever with a capped backoff. Commands never wait in a client-side queue while Redis is away
// (`enableOfflineQueue: false`, no retry of a command in flight): they fail at once, so nothing is ever
// acknowledged into this process's memory in Redis's stead (a device is then not acknowledged and resends).
// A lost and a regained connection are logged once each; the URL is logged without its password.
import { Redis } from "ioredis";
import { setTimeout as sleep } from "node:timers/promises";
import { redactUrl } from "./influx.js";
import type { Logger } from "./logger.js";

export type { Redis } from "ioredis";

export interface RedisConnectOptions {
  /** Shown in Redis's CLIENT LIST and in our logs, e.g. "broker-feed". */
  name: string;
  log: Logger;
  /** Longest wait between reconnection attempts, ms (default 2,000). */
  maxBackoffMs?: number;
  /** A command not answered in this long fails, ms (default 5,000; above any BLOCK a connection uses). */
  commandTimeoutMs?: number;
}

/** Opens a connection (lazily: `untilReady` waits for it). */
export function connectRedis(url: string, options: RedisConnectOptions): Redis {
  const maxBackoffMs = options.maxBackoffMs ?? 2_000;
  const client = new Redis(url, {
    connectionName: options.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxBackoffMs),
    // A Redis that accepts TCP but never answers, or a host that vanished without a reset (power, network), must
    // not hold a command for ever: connecting and every command are bounded, and TCP keep-alive finds a dead peer.
    connectTimeout: 5_000,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    keepAlive: 10_000,
    lazyConnect: false,
  });
  // "reconnecting" fires only when ioredis will try again (a lost connection or a failed attempt), never on a
  // disconnect we asked for: the loss is logged at the first one, with the last error seen if any.
  let lost = false;
  let lastError: string | undefined;
  client.on("error", (error: Error) => (lastError = error.message));
  client.on("reconnecting", () => {
    if (lost) return;
    lost = true;
    options.log.warn({ redis: redactUrl(url), connection: options.name, err: lastError }, "Redis unreachable; retrying");
  });
  client.on("ready", () => {
    if (lost) options.log.info({ redis: redactUrl(url), connection: options.name }, "Redis reachable again");
    lost = false;
    lastError = undefined;
  });
  return client;
}

/**
 * Resolves once the connection is ready, saying every `everyMs` that it still waits (CONTRACT §12: a service
 * with REDIS_URL set waits for Redis, and never falls back to running alone). Rejects only when `signal` aborts.
 */
export async function untilReady(client: Redis, url: string, log: Logger, signal?: AbortSignal, everyMs = 5_000): Promise<void> {
  const started = Date.now();
  let said = started;
  while (client.status !== "ready") {
    signal?.throwIfAborted();
    if (Date.now() - said >= everyMs) {
      said = Date.now();
      log.warn({ redis: redactUrl(url), waitedMs: said - started }, "waiting for Redis (REDIS_URL) before starting");
    }
    await sleep(50);
  }
}
