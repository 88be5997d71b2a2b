// The alerts service with REDIS_URL (CONTRACT §12; docs/ha.md): any number of processes, exactly one active.
// Each waits as a standby until it takes the lease (./lease.ts), then loads the state from Redis
// (./redis-store.ts) and runs the service exactly as in one process (index.ts), and stands down the moment
// the lease is, or may be, someone else's. Two instances that both believe they are active (a paused process
// waking up) cannot both publish, through three layers of fencing:
//   (a) Redis: every save carries the fencing token; a save after another instance took the lease is refused.
//   (b) MQTT: the broker (every node of the cluster) lets one connection hold a client id, so the new active's
//       CONNECT with ALERTS_CLIENT_ID closes the old one's socket. The old one never reconnects on its own
//       (mqtt.js reconnectPeriod 0): after a 'close' it asks Redis first, and stands down, discarding its queue,
//       unless the lease is still its own. Nothing it publishes after its lease ran out leaves: `holds()` is
//       checked on the monotonic clock before every publication, whatever Redis has not said yet.
//   (c) InfluxDB: before each write of alert points the lease is checked in Redis (best effort: a write already
//       on its way when the lease passes still lands; points are idempotent, CONTRACT §4).
import { setTimeout as sleep } from "node:timers/promises";
import type { InfluxClient } from "../infra/influx.js";
import { redactUrl } from "../infra/influx.js";
import { connectRedis, untilReady } from "../infra/redis.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { createLease, DEFAULT_LEASE_MS, type HeldLease, holdLease, STANDBY_RETRY_MS } from "./lease.js";
import { createLeaseMetrics } from "./metrics.js";
import { type FencedBackends, loadFencedBackends } from "./redis-store.js";

export interface AlertsRedis {
  url: string;
  /** A name unique per process (e.g. hostname-pid): in the lease, the logs and `/api/ready`. */
  instance: string;
  /** The lease's TTL, ms (default 5,000; renewed every fifth of it). */
  leaseMs?: number;
  /** This instance stood down (its lease was, or may have been, lost): the CLI exits so its supervisor restarts it as a standby. */
  onDeposed?: () => void;
}

export type AlertsRole = "standby" | "active" | "deposed" | "stopped";

/** What the running service needs from its term as the active instance (index.ts). */
export interface ActiveTerm {
  backends: FencedBackends;
  /** True while it may publish and write (./lease.ts `holds`). */
  holds(): boolean;
  /** The InfluxDB client for alert points: each write checks the lease first (layer c). */
  guardWrites(influx: InfluxClient): InfluxClient;
  /** The MQTT connection closed: `reconnect` runs only once the lease proved still ours (layer b). */
  connectionClosed(reconnect: () => void): void;
  /** The service's forced stop, run once on standing down: no saves, no publications, queue discarded. */
  onStandDown(forceStop: () => Promise<void>): void;
}

export interface Standby<T> extends RunningService {
  role(): AlertsRole;
  /** The running service while active, else null. */
  running(): T | null;
}

/** How long a save or read of the state may take before it is given up (and the save sent again), ms. */
const STATE_COMMAND_TIMEOUT_MS = 30_000;

/** How long after a lost MQTT connection the lease is asked about again, or the connection retried, ms. */
const RECONNECT_MS = 1_000;

export function startWithLease<T extends RunningService>(ctx: ServiceContext, o: AlertsRedis, run: (term: ActiveTerm) => Promise<T>): Standby<T> {
  const log = ctx.log.child({ service: "alerts", instance: o.instance });
  const metrics = createLeaseMetrics(ctx.metrics);
  const ttlMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  // The state's connection waits longer for an answer than the lease's: whether Redis is there is the lease's
  // question (5 s), and a storm's save (20,000 devices' slots) or a takeover's read of them can take more than 5 s
  // to cross a loaded machine (run D16: two saves timed out and were sent again while the lease held).
  const redis = connectRedis(o.url, { name: `alerts-${o.instance}`, log, commandTimeoutMs: STATE_COMMAND_TIMEOUT_MS });
  // The lease on a connection of its own: a renewal never queues behind the state's read or a large save (a
  // storm's), whose bytes and reply would otherwise go first on the one socket.
  const leaseRedis = connectRedis(o.url, { name: `alerts-lease-${o.instance}`, log });
  const lease = createLease(leaseRedis, o.instance, ttlMs);
  const abort = new AbortController();
  let role: AlertsRole = "standby";
  let running: T | null = null;
  let held: HeldLease | null = null;
  let forceStop: (() => Promise<void>) | null = null;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => (timers.delete(timer), fn()), ms);
    timers.add(timer);
  };
  metrics.active.set(0);

  const standDown = async (reason: string) => {
    if (role !== "active") return;
    role = "deposed";
    metrics.active.set(0);
    metrics.deposed.inc();
    held?.drop();
    for (const timer of timers) clearTimeout(timer);
    log.error({ reason, fence: held?.token }, "deposed: the alerts service stands down (nothing more published, written or saved); restart it as a standby");
    await forceStop?.().catch((error: unknown) => log.error({ err: error }, "standing down failed"));
    o.onDeposed?.();
  };
  /** After a refused save, a lost connection or write: stand down unless Redis says the lease is still ours. */
  const verify = async (what: string): Promise<boolean> => {
    const verdict = (await held?.check()) ?? "lost";
    if (verdict === "ours" || (verdict === "unknown" && held?.holds())) return true;
    await standDown(`${what}, and the lease is ${verdict === "lost" ? "not ours any more" : "past its TTL with Redis unreachable"}`);
    return false;
  };

  const term = (backends: FencedBackends): ActiveTerm => ({
    backends,
    holds: () => role === "active" && held !== null && held.holds(),
    guardWrites(influx) {
      const write = async (lines: string, retentionPolicy?: string) => {
        if (role !== "active" || !held?.holds() || !(await verify("before writing alert points"))) throw new Error("alerts lease not held: alert points are not written");
        return influx.write(lines, retentionPolicy);
      };
      // The writer only calls write(); everything else is the client itself.
      const guarded: InfluxClient = Object.create(influx, { write: { value: write } });
      return guarded;
    },
    connectionClosed(reconnect) {
      const attempt = async () => {
        if (role !== "active") return;
        const verdict = (await held?.check()) ?? "lost";
        if (role !== "active") return;
        if (verdict === "lost") return void standDown("MQTT connection closed and the lease is not ours any more (another instance connected with our client id)");
        if (verdict === "unknown") {
          if (!held?.holds()) return void standDown("MQTT connection closed, Redis unreachable and the lease past its TTL");
          return later(RECONNECT_MS, () => void attempt());
        }
        later(RECONNECT_MS, () => role === "active" && held?.holds() && reconnect());
      };
      void attempt();
    },
    onStandDown(stop) {
      forceStop = stop;
    },
  });

  /** Takes over with the token just acquired: false when the state could not be read (back to standby). */
  const takeOver = async (token: number, sentAt: number): Promise<boolean> => {
    const hold = holdLease(lease, token, {
      ttlMs,
      sentAt,
      onLost: (reason) => void standDown(reason),
      onRenewalFailure: (error) => {
        metrics.renewalFailures.inc();
        log.warn({ err: error instanceof Error ? error.message : String(error), fence: token }, "alerts lease not renewed (Redis did not answer); standing down if this lasts its TTL");
      },
    });
    held = hold;
    let backends: FencedBackends;
    try {
      backends = await loadFencedBackends(redis, {
        token,
        onRefused: (key) => {
          metrics.fencedRefused.inc();
          log.error({ key, fence: token }, "save refused by the fence: another alerts instance took the lease");
          void standDown(`a save of ${key} was refused by the fence`);
        },
        writable: () => role === "active",
      });
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "took the alerts lease but could not read the state from Redis; standby again");
      hold.drop();
      return false;
    }
    // The lease may have lapsed while the state was read (standDown does nothing before `active`): never start
    // without it; another instance may hold it by now.
    if (!hold.holds()) {
      log.warn({ fence: token }, "the alerts lease lapsed while the state was read; standby again");
      hold.drop();
      return false;
    }
    role = "active";
    metrics.active.set(1);
    metrics.takeovers.inc();
    log.warn({ fence: token }, `active: alerts service ${o.instance} holds the lease and starts`);
    try {
      running = await run(term(backends));
    } catch (error) {
      if (abort.signal.aborted) return true; // stopped while connecting
      log.error({ err: error }, "the active alerts service could not start");
      await standDown("the service could not start");
    }
    return true;
  };

  const ready = () => redis.status === "ready" && leaseRedis.status === "ready";
  const standby = async () => {
    let said: string | null = null;
    const say = (what: string, message: string) => {
      if (said !== what) log.warn(message);
      said = what;
    };
    while (!abort.signal.aborted) {
      if (!ready()) {
        // A connection still opening is not worth a warning; one that does not open within a second is.
        for (let waited = 0; !ready() && waited < 1_000 && !abort.signal.aborted; waited += 50) await sleep(50);
        if (ready() || abort.signal.aborted) continue;
        say("no redis", `standby: Redis (${redactUrl(o.url)}) unreachable; the alerts service waits for it and never runs without the lease`);
        await untilReady(redis.status === "ready" ? leaseRedis : redis, o.url, log, abort.signal).catch(() => undefined);
        continue;
      }
      try {
        const sentAt = performance.now();
        const token = await lease.acquire(new Date());
        if (token !== null && (await takeOver(token, sentAt))) return;
        const holder = token === null ? await lease.read() : null;
        if (holder) say(`held by ${holder.instance}`, `standby: alerts service ${holder.instance} is active`);
      } catch (error) {
        say("failing", `standby: cannot reach the alerts lease (${error instanceof Error ? error.message : String(error)}); trying again`);
      }
      await sleep(STANDBY_RETRY_MS, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  };
  const standing = standby();

  let stopping: Promise<void> | null = null;
  return {
    role: () => role,
    running: () => running,
    stop() {
      stopping ??= (async () => {
        abort.abort();
        // Stopped while still connecting as the new active (a broker away): give the start up.
        if (role === "active" && running === null) await forceStop?.();
        await standing;
        for (const timer of timers) clearTimeout(timer);
        if (role === "active") {
          // A clean stop writes what is pending, saves (fenced) and disconnects as the active it still is,
          // then hands the lease over at once.
          await (running ? running.stop() : forceStop?.());
          if (role === "active") await held?.release();
        }
        role = "stopped";
        metrics.active.set(0);
        redis.disconnect();
        leaseRedis.disconnect();
        log.info("alerts service (standby or active) stopped");
      })();
      return stopping;
    },
  };
}
