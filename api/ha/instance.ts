// One API instance among several (CONTRACT §12; docs/ha.md): its Redis connections, the shared parts it hands
// to the API (sign-in sessions: ./redis-sessions.ts; failed authentications: ./redis-failures.ts), what
// /api/ready says of it (Redis reachable, the active alerts service), and the role metrics. Every instance
// then answers alike: nothing a client relies on lives in one instance's memory or DATA_DIR (the live state
// comes from the broker cluster's stream, the history from InfluxDB).
import { Gauge, metric, type Registry } from "../../infra/metrics.js";
import type { Logger } from "../../infra/logger.js";
import { connectRedis, type Redis, untilReady } from "../../infra/redis.js";
import { resultWithin } from "../../infra/timeout.js";
import type { SharedFailureCount } from "../auth-limiter.js";
import type { ActiveAlerts, InstanceReadiness } from "../deps.js";
import type { SessionReplica, SharedSessions } from "../sessions.js";
import { redisFailureCount } from "./redis-failures.js";
import { RedisSessions } from "./redis-sessions.js";

/** Written by the active alerts service (alerts/lease.ts): JSON `{instance, token, since}`, absent when none holds it. */
export const ALERTS_LEASE_KEY = "campus:alerts:lease";
/** /api/ready's Redis look must not hold the probe up (api/routes/system.ts waits 2.5 s for the others). */
const REDIS_PROBE_TIMEOUT_MS = 2_000;

export interface ApiRedisConfig {
  url: string;
  /** This process's name, unique among the instances (e.g. hostname-pid): in /api/ready, /metrics and Redis's CLIENT LIST. */
  instance: string;
}

export interface ApiInstance {
  /** SessionStoreOptions.shared: the sessions every instance sees. */
  sharedSessions: (replica: SessionReplica) => SharedSessions;
  /** The failed-authentication limiter's shared count (per client address). */
  failures: SharedFailureCount;
  /** What /api/ready says of this instance; `sessionsLoaded`: the session replica was filled from Redis. */
  readiness(sessionsLoaded: () => boolean): Promise<InstanceReadiness>;
  stop(): Promise<void>;
}

/** The lease's holder, or null when the value is absent or not a lease (then no alerts service is known to be active). */
export function decodeAlertsLease(value: string | null): ActiveAlerts | null {
  if (value === null) return null;
  try {
    const lease = JSON.parse(value) as { instance?: unknown; since?: unknown };
    if (typeof lease?.instance !== "string") return null;
    const since = typeof lease.since === "number" || typeof lease.since === "string" ? lease.since : null;
    return { instance: lease.instance, since };
  } catch {
    return null;
  }
}

/** The instance-info gauge (`role` "single" or "instance", `name` this instance's: empty alone). */
export function registerRoleMetric(registry: Registry, role: "single" | "instance", name: string): void {
  const info = metric(registry, "campus_power_api_instance_info", () =>
    new Gauge({ name: "campus_power_api_instance_info", help: "This API process's role (CONTRACT §12): single, or one instance among several sharing Redis", labelNames: ["role", "name"], registers: [registry] }),
  );
  info.set({ role, name }, 1);
}

/** Opens the connections (Redis may be away: everything waits for it, and /api/ready says so meanwhile). */
export function startApiInstance(config: ApiRedisConfig, log: Logger, registry: Registry): ApiInstance {
  const redis = connectRedis(config.url, { name: `api-${config.instance}`, log });
  const subscriber = connectRedis(config.url, { name: `api-${config.instance}-sessions`, log });
  registerRoleMetric(registry, "instance", config.instance);
  trackRedisUp([redis, subscriber], registry);
  const abort = new AbortController();
  // Says every 5 s that it still waits; the API listens meanwhile, answering 503 on /api/ready.
  untilReady(redis, config.url, log, abort.signal).catch(() => undefined);

  const readiness = async (sessionsLoaded: () => boolean): Promise<InstanceReadiness> => {
    const unreachable: InstanceReadiness = { instance: config.instance, redis: false };
    if (redis.status !== "ready" || subscriber.status !== "ready") return unreachable;
    const lease = redis.get(ALERTS_LEASE_KEY).then((value) => ({ instance: config.instance, redis: sessionsLoaded(), alerts: decodeAlertsLease(value) }));
    return resultWithin(lease.catch(() => unreachable), REDIS_PROBE_TIMEOUT_MS, unreachable);
  };

  return {
    sharedSessions: (replica) => new RedisSessions({ redis, subscriber, log }, replica),
    failures: redisFailureCount(redis, "address"),
    readiness,
    async stop() {
      abort.abort();
      // disconnect, not QUIT: QUIT would wait for a Redis that may be away (nothing is left to write: the
      // session store carried its last slides before this).
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}

/**
 * `campus_power_redis_up`: 1 while both connections are ready, read at each scrape, so it agrees with
 * `/api/ready` (which asks the same); set on their events it lagged behind it (ioredis emits on the next tick).
 */
function trackRedisUp(connections: readonly Redis[], registry: Registry): void {
  metric(registry, "campus_power_redis_up", () => new Gauge({
    name: "campus_power_redis_up",
    help: "1 while this process's Redis connections (REDIS_URL) are ready, else 0",
    registers: [registry],
    collect() {
      this.set(connections.every((connection) => connection.status === "ready") ? 1 : 0);
    },
  }));
}
