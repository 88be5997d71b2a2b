// 12-factor configuration (CONTRACT §1): every variable has a default, read once, every problem listed.
import { fileURLToPath } from "node:url";
import { readAlertWebhook, type AlertWebhookEnv } from "./env-alerts.js";
import { CampusError, ErrorCodes, type Problem } from "./errors.js";

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
export interface ApiToken {
  role: Role;
  token: string;
}

export const SECRET_VARIABLES = ["DEVICE_GROUP_KEY", "API_TOKENS", "SERVICE_PASSWORD"] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

export const DEMO_CAMPUS_FILE = fileURLToPath(new URL("../config/demo-campus.yaml", import.meta.url));

export interface Env {
  campusConfig: string;
  mqttPort: number;
  mqttWsPort: number;
  mqttUrl: string;
  httpPort: number;
  influxUrl: string;
  influxDb: string;
  influxUsername: string;
  influxPassword: string;
  dataDir: string;
  deviceGroupKey: string;
  apiTokens: readonly ApiToken[];
  servicePassword: string;
  logLevel: string;
  /** Raw InfluxDB retention for electrical readings, ms; device timestamps older than this are not sane. */
  rawRetentionMs: number;
  /** Host the listeners bind to. */
  bindHost: string;
  /** Ingest spool (DATA_DIR/ingest/spool) size at which it counts as full and back-pressure starts, bytes. */
  spoolMaxBytes: number;
  /** Alert webhook (CONTRACT §5, docs/alerts.md); null when ALERT_WEBHOOK_URL is unset. */
  alertWebhook: AlertWebhookEnv | null;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Reads the environment. `required` lists the secrets the starting command cannot run without;
 * a missing one is a problem (the demo fills them in before calling this).
 */
export function readEnv(source: NodeJS.ProcessEnv, required: readonly SecretVariable[] = []): Env {
  const problems: Problem[] = [];
  const text = (name: string, fallback: string) => {
    const value = source[name];
    return value === undefined || value === "" ? fallback : value;
  };
  const port = (name: string, fallback: number) => {
    const raw = text(name, String(fallback));
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      problems.push({ path: name, message: `must be a port number 0..65535 (got "${raw}")` });
      return fallback;
    }
    return value;
  };
  const url = (name: string, fallback: string) => {
    const raw = text(name, fallback);
    try {
      new URL(raw);
    } catch {
      problems.push({ path: name, message: `must be a URL (got "${raw}")` });
    }
    return raw.replace(/\/+$/, "");
  };

  const mqttPort = port("MQTT_PORT", 1883);
  const env: Env = {
    campusConfig: text("CAMPUS_CONFIG", DEMO_CAMPUS_FILE),
    mqttPort,
    mqttWsPort: port("MQTT_WS_PORT", 9001),
    mqttUrl: url("MQTT_URL", `mqtt://127.0.0.1:${mqttPort}`),
    httpPort: port("HTTP_PORT", 8080),
    influxUrl: url("INFLUX_URL", "http://127.0.0.1:8086"),
    influxDb: text("INFLUX_DB", "campus_power"),
    influxUsername: text("INFLUX_USERNAME", ""),
    influxPassword: text("INFLUX_PASSWORD", ""),
    dataDir: text("DATA_DIR", "./data"),
    deviceGroupKey: text("DEVICE_GROUP_KEY", ""),
    apiTokens: parseApiTokens(text("API_TOKENS", ""), problems),
    servicePassword: text("SERVICE_PASSWORD", ""),
    logLevel: text("LOG_LEVEL", "info"),
    rawRetentionMs: parseDays(text("RAW_RETENTION_DAYS", "90"), problems) * 86_400_000,
    bindHost: text("BIND_HOST", "0.0.0.0"),
    spoolMaxBytes: parsePositive("SPOOL_MAX_MB", text("SPOOL_MAX_MB", "1024"), 1024, problems) * 1024 * 1024,
    alertWebhook: readAlertWebhook(text, problems),
  };
  if (!/^[A-Za-z0-9_-]+$/.test(env.influxDb)) problems.push({ path: "INFLUX_DB", message: "must be letters, digits, _ or -" });
  if (!LOG_LEVELS.includes(env.logLevel)) problems.push({ path: "LOG_LEVEL", message: `must be one of ${LOG_LEVELS.join(", ")}` });
  const present: Record<SecretVariable, boolean> = {
    DEVICE_GROUP_KEY: env.deviceGroupKey !== "",
    API_TOKENS: env.apiTokens.length > 0,
    SERVICE_PASSWORD: env.servicePassword !== "",
  };
  for (const name of required) {
    if (!present[name]) problems.push({ path: name, message: "is required (it has no default outside --demo)" });
  }
  if (env.deviceGroupKey !== "" && env.deviceGroupKey.length < 16) {
    problems.push({ path: "DEVICE_GROUP_KEY", message: "must be at least 16 characters" });
  }
  if (problems.length > 0) throw new CampusError(ErrorCodes.ENV_INVALID, "the environment is invalid", problems);
  return Object.freeze(env);
}

/** `role:token` pairs, comma separated (CONTRACT §1). */
export function parseApiTokens(raw: string, problems: Problem[] = []): ApiToken[] {
  if (raw.trim() === "") return [];
  const tokens: ApiToken[] = [];
  raw.split(",").forEach((pair, index) => {
    const separator = pair.indexOf(":");
    const role = pair.slice(0, separator).trim();
    const token = pair.slice(separator + 1).trim();
    if (separator < 0 || !ROLES.includes(role as Role)) {
      problems.push({ path: `API_TOKENS[${index}]`, message: `must be role:token with role one of ${ROLES.join(", ")}` });
    } else if (token.length < 16) {
      problems.push({ path: `API_TOKENS[${index}]`, message: "token must be at least 16 characters" });
    } else tokens.push({ role: role as Role, token });
  });
  return tokens;
}

export function formatApiTokens(tokens: readonly ApiToken[]): string {
  return tokens.map((t) => `${t.role}:${t.token}`).join(",");
}

function parsePositive(name: string, raw: string, fallback: number, problems: Problem[]): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    problems.push({ path: name, message: `must be a positive number (got "${raw}")` });
    return fallback;
  }
  return value;
}

function parseDays(raw: string, problems: Problem[]): number {
  const days = Number(raw);
  if (!Number.isFinite(days) || days <= 0) {
    problems.push({ path: "RAW_RETENTION_DAYS", message: `must be a positive number of days (got "${raw}")` });
    return 90;
  }
  return days;
}
