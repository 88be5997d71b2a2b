// The environment (CONTRACT §1 and the extensions the README lists): every variable the product reads,
// with its default, its meaning and the commands that read it, in one table. readEnv (../env.ts) parses
// from it, `--help` (cli/help.ts) and the README's table (`npm run docs:env`) are written from it.
// The webhook's variables are in ../env-alerts.ts, read only when ALERT_WEBHOOK_URL is set.
import { fileURLToPath } from "node:url";
import { apiTokens } from "./api-tokens.js";
import { fleetKeyList } from "./fleet-keys.js";
import { TRANSPORT_VARIABLES } from "./transport.js";
import { type Command, COMMANDS, libraryVariable, variable } from "./variable.js";
import { mqttUrls, oneOf, optionalHttpUrl, optionalRedisUrl, optionalPort, port, positiveNumber, secret, text, textMatching, url } from "./values.js";

export const DEMO_CAMPUS_FILE = fileURLToPath(new URL("../../config/demo-campus.yaml", import.meta.url));

/** pino's levels (getpino.io, "Logger Instance: level"). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every command that loads the campus file and logs (cli/runtime.ts loadContext). */
const SERVICES: Command[] = ["up", "broker", "ingest", "alerts", "api"];
const MQTT_CLIENTS: Command[] = ["ingest", "alerts", "api", "simulate", "scenario", "record", "replay"];
const INFLUX_USERS: Command[] = ["up", "ingest", "alerts", "api", "backfill"];
const DEMO_SECRET = "generated in `--demo`, required otherwise";

export const ENV_VARIABLES = {
  CAMPUS_CONFIG: variable({
    field: "campusConfig",
    value: text(),
    default: DEMO_CAMPUS_FILE,
    shownDefault: "`config/demo-campus.yaml`",
    meaning: "campus file (YAML): site, buildings, devices (CONTRACT §2; README \"The campus file\")",
    readBy: [...SERVICES, "simulate", "record", "replay", "check-config", "backfill", "user"],
  }),
  REDIS_URL: variable({
    field: "redisUrl",
    value: optionalRedisUrl(),
    default: "",
    shownDefault: "unset: one process of each service, as before",
    meaning: "Redis shared by several broker, ingest, alerts and api processes (CONTRACT §12; docs/ha.md). Unset, each service runs alone. `up` refuses it: `up` is the single-process mode",
    readBy: ["broker", "ingest", "alerts", "api"],
  }),
  INSTANCE_NAME: variable({
    field: "instanceName",
    // Empty: the CLI takes the host name (domain/ does no I/O).
    value: textMatching(/^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,62})?$/, "letters, digits, '.', '_' and '-', at most 63, starting with a letter or digit"),
    default: "",
    shownDefault: "the host name",
    meaning: "with REDIS_URL, this process's name among its peers: the ingest worker's consumer and spool folder, the alerts lease's holder, the API instance in `/api/ready`. Give each process on one machine its own",
    readBy: ["ingest", "alerts", "api"],
  }),
  MQTT_PORT: variable({ field: "mqttPort", value: port(), default: "1883", meaning: "broker TCP listener", readBy: ["up", "broker"] }),
  MQTT_WS_PORT: variable({ field: "mqttWsPort", value: port(), default: "9001", meaning: "MQTT over WebSocket listener (path `/mqtt`)", readBy: ["up", "broker"] }),
  MQTT_URL: variable({
    field: "mqttUrl",
    // Kept as text (many readers pass it on); infra/mqtt.ts splits a list where it connects.
    value: mqttUrls(),
    default: (earlier) => `mqtt://127.0.0.1:${String(earlier.MQTT_PORT)}`,
    shownDefault: "`mqtt://127.0.0.1:${MQTT_PORT}`",
    // `up` connects its services to the broker it runs, whatever this says.
    meaning: "where split services and tools connect: one broker, or several comma separated (`mqtt://a:1883,mqtt://b:1883`, same scheme), of which each client uses whichever answers (CONTRACT §12)",
    readBy: MQTT_CLIENTS,
  }),
  HTTP_PORT: variable({ field: "httpPort", value: port(), default: "8080", meaning: "REST, WebSocket live stream and dashboard", readBy: ["up", "api"] }),
  INFLUX_URL: variable({
    field: "influxUrl",
    value: url(),
    default: "http://127.0.0.1:8086",
    meaning: "InfluxDB HTTP API (v1 `/write` + `/query`); when it is unset and nothing answers, `up` starts a local `influxd`",
    readBy: INFLUX_USERS,
  }),
  INFLUX_DB: variable({
    field: "influxDb",
    value: textMatching(/^[A-Za-z0-9_-]+$/, "must be letters, digits, _ or -"),
    default: "campus_power",
    meaning: "database (created if missing)",
    readBy: INFLUX_USERS,
  }),
  INFLUX_USERNAME: variable({ field: "influxUsername", value: text(), default: "", shownDefault: "empty", meaning: "InfluxDB user, when it has auth on", readBy: INFLUX_USERS }),
  INFLUX_PASSWORD: variable({ field: "influxPassword", value: text(), default: "", shownDefault: "empty", meaning: "InfluxDB password, when it has auth on", readBy: INFLUX_USERS }),
  DATA_DIR: variable({
    field: "dataDir",
    value: text(),
    default: "./data",
    meaning: "local durable state: the ingest spool, the broker journal, dead letters, alert state, demo secrets, the local InfluxDB, the sessions of named accounts",
    readBy: ["up", "broker", "ingest", "alerts", "api", "device-secret", "user"],
  }),
  USERS_FILE: variable({
    field: "usersFile",
    value: text(),
    default: (earlier) => `${String(earlier.DATA_DIR)}/users.json`,
    shownDefault: "`${DATA_DIR}/users.json`",
    meaning: "named accounts (CONTRACT §9): names, roles, sites and salted scrypt hashes, mode 0600; `campus-power user` manages it, the API re-reads it when it changes (docs/accounts.md)",
    readBy: ["up", "api", "user"],
  }),
  DEVICE_GROUP_KEY: variable({
    field: "deviceGroupKey",
    value: fleetKeyList(),
    default: "",
    shownDefault: DEMO_SECRET,
    meaning:
      "fleet key that device passwords derive from (HMAC-SHA256, CONTRACT §3), at least 16 characters; or several, `id:key,id:key`: the first signs new passwords, every one is accepted (CONTRACT §13; docs/security.md \"Rotating the fleet key\")",
    readBy: ["up", "broker", "simulate", "scenario", "replay", "device-secret"],
    requiredBy: ["up", "broker", "simulate", "scenario", "replay"],
  }),
  API_TOKENS: variable({
    field: "apiTokens",
    value: apiTokens(),
    default: "",
    shownDefault: DEMO_SECRET,
    meaning: "`role:token` pairs, comma separated; roles `viewer`, `operator`, `admin`; tokens ≥ 16 characters",
    readBy: ["up", "api"],
    requiredBy: ["up", "api"],
  }),
  SERVICE_PASSWORD: variable({
    field: "servicePassword",
    value: secret(),
    default: "",
    shownDefault: DEMO_SECRET,
    meaning: "MQTT password of the internal service account `campus-service` (`scenario` reads it with `--check`)",
    readBy: [...SERVICES, "scenario", "record"],
    requiredBy: [...SERVICES, "record"],
  }),
  LOG_LEVEL: variable({
    field: "logLevel",
    value: oneOf(LOG_LEVELS),
    default: "info",
    shownDefault: "`info`; `warn` in `up --demo`",
    meaning: `pino level: ${LOG_LEVELS.join(", ")}`,
    readBy: [...SERVICES, "simulate", "scenario", "record", "replay"],
  }),
  RAW_RETENTION_DAYS: variable({
    field: "rawRetentionMs",
    value: positiveNumber({
      unit: "days",
      scale: 86_400_000,
      // InfluxDB 1.x refuses a retention policy shorter than 1 h (meta.MinRetentionPolicyDuration).
      min: { value: 1 / 24, shown: "1/24", why: "InfluxDB keeps data at least 1 hour" },
      // InfluxDB holds a duration as int64 nanoseconds: 2^63 ns ≈ 106,751.99 days.
      max: { value: 106_751, why: "InfluxDB holds a duration as 64-bit nanoseconds" },
    }),
    default: "90",
    meaning: "raw data retention; device timestamps older than this are not trusted (extension)",
    readBy: ["up", "ingest", "backfill"],
  }),
  SPOOL_MAX_MB: variable({
    field: "spoolMaxBytes",
    value: positiveNumber({
      unit: "MB",
      scale: 1024 * 1024,
      // Sizes are compared in bytes: beyond 2^53 bytes a JavaScript number no longer counts every byte.
      max: { value: Math.floor(Number.MAX_SAFE_INTEGER / (1024 * 1024)), why: "a size in bytes must stay an exact integer" },
    }),
    default: "1024",
    meaning: "the ingest's disk spool limit, MiB; when full, the broker stops being acknowledged (extension)",
    readBy: ["up", "ingest"],
  }),
  COMMAND_TIMEOUT_S: variable({
    field: "commandTimeoutMs",
    value: positiveNumber({
      unit: "seconds",
      scale: 1000,
      // The person who switched waits for the answer on the screen (CONTRACT §10 default 15 s).
      max: { value: 3600, why: "a person waits on the screen for the device's answer" },
    }),
    default: "15",
    meaning: "how long a sent remote-switching command waits for the device's own report before it ends `timeout` (CONTRACT §10; docs/commands.md); `scenario` waits as long for commands in flight",
    readBy: ["up", "alerts", "scenario"],
  }),
  SCHEDULE_RATE: variable({
    field: "scheduleRate",
    value: positiveNumber({
      unit: "commands per second",
      scale: 1,
      // A schedule's commands are spread out, so a lights-out of many rooms is not one burst on the broker and the circuits.
      max: { value: 1000, why: "a schedule's commands are spread out, not sent in one burst" },
    }),
    default: "20",
    meaning: "at most this many commands per second when a schedule switches many devices (CONTRACT §10; docs/commands.md)",
    readBy: ["up", "alerts"],
  }),
  API_URL: variable({
    field: "apiUrl",
    value: optionalHttpUrl(),
    default: "",
    shownDefault: "unset",
    meaning: "the API a scenario's person commands go through (`scenario run` of a scenario with `person_commands`), e.g. `http://127.0.0.1:8080`",
    readBy: ["scenario"],
  }),
  API_TOKEN: variable({
    field: "apiToken",
    value: secret(16),
    default: "",
    shownDefault: "unset",
    meaning: "an operator's or admin's token of that API (one of its `API_TOKENS`), for a scenario's person commands",
    readBy: ["scenario"],
  }),
  BIND_HOST: variable({ field: "bindHost", value: text(), default: "0.0.0.0", meaning: "address the listeners bind to (extension)", readBy: ["up", "broker", "ingest", "alerts", "api"] }),
  METRICS_PORT: variable({
    field: "metricsPort",
    value: optionalPort(),
    default: "",
    shownDefault: "unset (no such listener)",
    meaning: "an HTTP port on which a split `broker`, `ingest` or `alerts` serves `GET /metrics` (Prometheus, with `campus_power_instance_info`: the role it holds) and `GET /ready` (200 once running, 503 while starting), for Prometheus and health checks (CONTRACT §12; docs/ha.md). The API serves both on `HTTP_PORT`; `up` too. No token: bind it privately (extension)",
    readBy: ["broker", "ingest", "alerts"],
  }),
  METRICS_TOKEN: variable({
    field: "metricsToken",
    value: secret(16),
    default: "",
    shownDefault: "unset (`/metrics` asks for no token)",
    meaning: "a token (16 characters or more) that `GET /metrics` asks for as `Authorization: Bearer …`, on `HTTP_PORT` and on `METRICS_PORT` (Prometheus: `authorization: { credentials: … }`). The metrics name every school and count its notifications, and `/metrics` shares the dashboard's port: set it wherever people of one school reach that port (extension)",
    readBy: ["up", "broker", "ingest", "alerts", "api"],
  }),
  ...TRANSPORT_VARIABLES,
  CAMPUS_POWER_TSX: libraryVariable({
    value: oneOf(["0", "1"]),
    default: "0",
    shownDefault: "`0`",
    meaning:
      "read by the bin: `1` runs the TypeScript source through tsx; `0` runs the build the bin compiles into `node_modules/.cache/campus-power` whenever the source changed (bin/compiled.js): the same code, ~60 MiB less memory per `up`, half the start time (extension)",
    readBy: [...COMMANDS],
  }),
  DEBUG: libraryVariable({
    value: text(),
    default: "",
    shownDefault: "unset",
    meaning: "debug log of the libraries that use the `debug` package, read by them: `DEBUG=mqttjs*` for mqtt.js",
    readBy: ["up", ...MQTT_CLIENTS],
  }),
};
