// What buildApp needs from the outside: everything with I/O comes in here, so tests pass real
// adapters (a real InfluxClient, a real registry) and index.ts passes the MQTT-backed ones.
import type { IngestHealth } from "../domain/topics.js";
import type { AckRequest, AckResult } from "../domain/alert.js";
import type { Campus } from "../domain/campus.js";
import type { Command, CommandRequest } from "../domain/command.js";
import type { SilenceRequest, SilenceResult } from "../domain/silence.js";
import type { ApiToken } from "../domain/env.js";
import type { InfluxClient } from "../infra/influx.js";
import type { Logger } from "../infra/logger.js";
import type { Exposition, Registry } from "../infra/metrics.js";
import type { SessionStore } from "./sessions.js";
import type { AuthLimits, FailedAuthLimiter } from "./auth-limiter.js";
import type { LiveOptions } from "./live/options.js";
import type { LiveState } from "./live-state.js";

export type { AckResult } from "../domain/alert.js";

/** Thrown by `AppDeps.ack` / `AppDeps.silence` when the alerts service did not answer in time. */
export class AckTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the alerts service did not answer within ${timeoutMs} ms`);
    this.name = "AckTimeoutError";
  }
}

/** The alerts service's answer on a result topic: `{ok: true, ...}` or a refusal with a code. */
export type AlertsServiceAnswer<T> = ({ ok: true } & T) | { ok: false; code: string; message: string; devices?: string[] };

export interface ReadinessProbes {
  /** Is the MQTT connection up? */
  mqtt: () => boolean | Promise<boolean>;
  /** Does InfluxDB answer? */
  influxdb: () => boolean | Promise<boolean>;
  /** The ingest's last retained health (`INGEST_HEALTH_TOPIC`), null when none was heard of (unknown). */
  ingest?: () => IngestHealth | null;
  /** With REDIS_URL (CONTRACT §12): this instance among several (api/ha/instance.ts); absent: the single-process API. */
  instance?: () => Promise<InstanceReadiness>;
}

/** The alerts service holding the lease in Redis (`campus:alerts:lease`, written by alerts/lease.ts). */
export interface ActiveAlerts {
  instance: string;
  /** As the lease says it (the alerts service's `since`), null when it says nothing readable. */
  since: number | string | null;
}

/** What /api/ready says of an API instance that shares Redis with others. */
export interface InstanceReadiness {
  /** This instance's name. */
  instance: string;
  /** Redis answers, and this instance's sessions were read from it. */
  redis: boolean;
  /** The active alerts service; null: none holds the lease; absent: Redis cannot say (unreachable). */
  alerts?: ActiveAlerts | null;
}

export interface AppDeps {
  campus: Campus;
  tokens: readonly ApiToken[];
  /** Named accounts' login tokens (api/sessions.ts); absent: API_TOKENS only. */
  sessions?: SessionStore;
  state: LiveState;
  influx: InfluxClient;
  /** Sends an acknowledgement to the alerts service and resolves with its answer (AckTimeoutError after ~5 s). */
  ack: (request: AckRequest) => Promise<AckResult>;
  probes: ReadinessProbes;
  /** Where the API's metrics are registered. */
  metrics: Registry;
  /** What /metrics serves, when more than `metrics` (`up` adds its alerts thread's). */
  exposition?: Exposition;
  /** METRICS_TOKEN: /metrics asks for it as a bearer token; "" or absent: for none. */
  metricsToken?: string;
  log: Logger;
  /**
   * The data's clock, epoch ms (default Date.now): only for query defaults ("the last 24 h", "today").
   * Tokens, sessions and rate limits always run on the wall clock, as the live stream does.
   */
  now?: () => number;
  /** Live stream tuning (thresholds, timeouts). */
  live?: Partial<LiveOptions>;
  /** Sends a silence request to the alerts service and resolves with its answer (AckTimeoutError when none). Absent: 503. */
  silence?: (request: SilenceRequest) => Promise<SilenceResult>;
  /**
   * Sends one step of a switching command (CONTRACT §10) to the alerts service and resolves with its answer:
   * the command, or a refusal code of domain/command.ts (AckTimeoutError when none). Absent: 503.
   */
  command?: (request: CommandRequest) => Promise<AlertsServiceAnswer<{ command: Command }>>;
  /** Failed-authentication limits per client address (default: 20 per minute). */
  authLimits?: Partial<AuthLimits>;
  /** Filled in by buildApp: one limiter shared by HTTP and the live stream. */
  authLimiter?: FailedAuthLimiter;
}

/** AppDeps as the route plugins see them, completed by buildApp. */
export type RouteDeps = AppDeps & { authLimiter: FailedAuthLimiter };
