// Help texts of the `campus-power` command and its subcommands. Their environment part comes from the one
// environment schema (domain/env/variables.ts): the main help lists every variable, a command's help
// the variables that command reads, marking the ones it cannot start without.
import { ALL_ENV_VARIABLES, type DocumentedVariable, shownDefault, variablesReadBy } from "../domain/env/docs.js";
import { type Command, COMMANDS } from "../domain/env/variable.js";
import { USER_USAGE } from "./user.js";

/** Columns of a help line; 100 fits a terminal beside an editor. */
const WIDTH = 100;
/** Where the meanings start: after the longest name (ALERT_WEBHOOK_ESCALATION_SECRET) and a gap. */
const MEANING_COLUMN = 36;

/** Markdown (the schema's texts are written for the README) as plain terminal text. */
const plain = (markdown: string) => markdown.replace(/`/g, "");

/** Lines of at most WIDTH columns after `indent`; a word (or a phrase kept whole) is never split. */
function wrap(words: readonly string[], indent: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

function describe({ name, spec }: DocumentedVariable, command?: Command): string {
  // `up --demo` generates the secrets, which their default ("generated in --demo, required otherwise") says.
  const required = command !== undefined && command !== "up" && (spec.requiredBy ?? []).includes(command);
  const note = required ? "required" : `default: ${plain(shownDefault(spec))}`;
  const [first = "", ...rest] = wrap([...plain(spec.meaning).split(" "), `(${note})`], MEANING_COLUMN);
  const head = `  ${name}`.padEnd(MEANING_COLUMN - 1);
  return [`${head} ${first}`, ...rest.map((line) => `${" ".repeat(MEANING_COLUMN)}${line}`)].join("\n");
}

function environmentSection(command: Command): string {
  const variables = variablesReadBy(command);
  if (variables.length === 0) return "";
  return `\nEnvironment it reads (campus-power --help lists them all):\n${variables.map((v) => describe(v, command)).join("\n")}\n`;
}

export const MAIN_HELP = `campus-power — live electricity monitoring for a school campus

Usage: campus-power <command> [options]

Run the stack
  up [--demo]        broker, ingest, alerts and API in one process (--demo adds simulated devices;
                     --demo --district: the demo district of three schools)
  broker             the MQTT broker alone (TCP ${"$"}MQTT_PORT, WebSocket ${"$"}MQTT_WS_PORT/mqtt)
  ingest             device topics → InfluxDB, alone
  alerts             the rules engine alone
  api                REST API, live WebSocket stream and dashboard alone

Devices and traffic
  simulate           connect simulated devices for a campus or district file
  scenario run NAME  run a scenario (faults + expected alerts) against a running stack
  record             record MQTT traffic to NDJSON
  replay FILE        publish recorded traffic again

Tools
  device-secret ID   print a device's (or a bridge's) MQTT password
  check-config FILE  validate a campus or district file and list every problem
  notify-test ROUTE  send a sample alert to one notification route and print the robot's answer
  backfill           roll up past readings into the 1-minute and 1-hour rollups

People
  user add|passwd|remove|list   named accounts for the dashboard and POST /api/login

Every command takes --help, which also lists the environment variables it reads. A command stops
before it starts, listing every problem, when a variable is malformed or a required one is missing.

Environment (README.md "Configuration (environment)"):
${ALL_ENV_VARIABLES.map((v) => describe(v)).join("\n")}
`;

const USAGE: Record<Command, string> = {
  up: `Usage: campus-power up [--demo [--district] [--history SPAN] [--tls]] [--seed N]

Runs the broker, the ingest, the alerts engine and the API in one process (the alerts engine on a
thread of its own, so two cores are used).
  --demo      also run simulated devices for the bundled demo campus (or CAMPUS_CONFIG: a campus
              file, or a district file whose every school is simulated), and generate
              DEVICE_GROUP_KEY, API_TOKENS and SERVICE_PASSWORD when they are not set
              (kept in DATA_DIR/demo-secrets.json so they survive a restart, and printed)
  --district  with --demo: the bundled demo district (config/demo-district.yaml) instead of the
              demo campus: a boarding middle school, a primary school and a kindergarten, each
              simulated in its own rhythm (not with CAMPUS_CONFIG set)
  --history SPAN
              with --demo: the simulated past written first, in the background while the
              live view already runs: 14d (the default), 30d, 36h, … or 0 for none; at most
              RAW_RETENTION_DAYS. Every device, one reading per 5 minutes, weekends and the
              school calendar's holidays quiet, rollups filled (docs/simulator.md)
  --tls       with --demo: serve MQTT over TLS (MQTTS_PORT), wss and https with a self-signed pair
              generated under DATA_DIR (needs openssl; reused until 7 days before it expires);
              the banner prints its fingerprint and how to trust it (docs/tls.md)
  --seed N    seed of the simulated load (default 1)

When nothing answers at INFLUX_URL, INFLUX_URL is not set and influxd is installed, a local
InfluxDB is started and supervised (loopback only, data under DATA_DIR/influxdb).
SIGTERM/SIGINT: stop accepting work, flush, exit 0. SIGHUP: the same, or with TLS on, reload
TLS_CERT_FILE and TLS_KEY_FILE without dropping a connection.
`,
  broker: `Usage: campus-power broker

Runs the MQTT broker alone: TCP on MQTT_PORT, MQTT over WebSocket on MQTT_WS_PORT (path /mqtt).
Devices authenticate with their id and HMAC-derived password (campus-power device-secret ID);
anonymous clients are refused.
`,
  ingest: `Usage: campus-power ingest

Subscribes (persistent session, QoS 1) to device topics at MQTT_URL, decodes every device format,
and acknowledges a message only once its reading is in the disk spool (DATA_DIR/ingest/, at most
SPOOL_MAX_MB); drains the spool to InfluxDB (INFLUX_URL, INFLUX_DB) in order, and creates the
database, retention policies and rollups if missing. Invalid payloads go to DATA_DIR/dead-letter/.
Health is published on campus/internal/health/ingest.
`,
  alerts: `Usage: campus-power alerts

Runs the rules engine against the normalised stream at MQTT_URL; publishes alerts retained on
campus/alerts/{device}/{rule} and writes them to InfluxDB. State is kept in DATA_DIR/alerts/.
With ALERT_WEBHOOK_URL set, every change of an alert is also POSTed there (docs/alerts.md).
`,
  api: `Usage: campus-power api

Serves the REST API, the /api/live WebSocket stream, /metrics and the dashboard on HTTP_PORT.
`,
  simulate: `Usage: campus-power simulate [--config FILE] [--seed N] [--speed X] [--duration D]
                              [--start TIME] [--scenario NAME] [--devices N] [--shard K/N]
                              [--mqtt-url URL]... [--print-config]

Connects every device of the campus file as a real MQTT client (its own credentials and last will,
in its own format: native, tasmota, shelly-gen1, shelly-gen2, zigbee2mqtt, at MQTT_URL) and
publishes realistic load for its building kind, in its site's time zone, at its site's nominal
voltage and in the hours the site's file gives its building kind. A district file: every school's
devices, each in its own school's zone and rhythm.
  --config FILE      campus or district file (default CAMPUS_CONFIG, else the bundled demo campus)
  --seed N           seed of the generated load (default 1); the same seed and --start give the
                     same stream, byte for byte
  --speed X          campus clock speed (default 1). Above 1 the clock starts at now − D × X and
                     reaches the present at the end, so no timestamp lies in the future (needs --duration)
  --duration D       stop after D of wall time (e.g. 90s, 10m, 2h; default: run until stopped)
  --start TIME       event time of the start (ISO 8601 with offset, or epoch ms), for reproducible runs
  --scenario NAME    demo (default: a dorm room overloads every few minutes) or a scenario file
                     (campus-power scenario list); its faults are injected, its devices picked on --config,
                     else CAMPUS_CONFIG, else its own campus
  --devices N        clone the campus until it has N devices (load tests; the broker must know
                     the clones: run it with the file --print-config writes); a district file:
                     each of its schools cloned to N devices (the district has N × its schools)
  --shard K/N        simulate only every N-th device from the K-th (0-based): a fleet spread over
                     N processes (10,000 connections: see docs/simulator.md)
  --mqtt-url URL     a broker to connect to instead of MQTT_URL; give it more than once (or a comma
                     list, as MQTT_URL may be) for several brokers: device i tries broker i mod N first,
                     and moves to the next when its broker goes away; progress counts devices per broker
  --print-config     print the (scaled) campus file and exit (a district with its sites inline)
Progress goes to standard error (a bar on a terminal).
`,
  scenario: `Usage: campus-power scenario list
       campus-power scenario run NAME [--check] [--speed X] [--seed N] [--config FILE]

Runs a scenario file (scenarios/NAME.yaml, or a path) against a running stack at MQTT_URL: its
devices connect as themselves, its faults are injected, and its span of event time ends at the
present. With --check, the alerts it declares (rule, device, opens within / closes within, in event
time from the start) are watched on campus/alerts/+/+ as the service account; the report says which
opened and closed, and when; so are the commands it expects (device, action, issuer, final state,
sent within) on campus/internal/commands. A scenario with person_commands selects and operates through
the API as an operator (needs API_URL and API_TOKEN); one with meets_schedule waits for the start that
puts the schedule's minute where it says (up to a week). Exit 1 on a mismatch (usable in CI).
  --check        watch and report the expected alerts and commands (needs SERVICE_PASSWORD)
  --speed X      campus clock speed (default: the scenario's own)
  --seed N       seed (default: the scenario's own)
  --config FILE  campus or district file (default: the scenario's own); the scenario picks its devices there by
                 what they are, prints them, and is refused, naming what is missing, when the campus has
                 nothing a pick needs
The stack must run the same campus or district file (docs/scenarios.md).
`,
  record: `Usage: campus-power record --out FILE [--topics FILTER,...] [--duration D]

Subscribes to MQTT_URL as the service account and writes each message as an NDJSON line
{"t": epoch_ms, "topic", "payload"} (payload as text, or {"base64": ...} when not UTF-8).
  --out FILE         output file ("-" for standard output); appended to
  --topics FILTERS   comma-separated topic filters (default: device topics and foreign formats)
  --duration D       stop after D (default: until SIGINT)
Progress goes to standard error (a bar on a terminal).
`,
  replay: `Usage: campus-power replay FILE [--speed X] [--loop] [--restamp] [--topics FILTER,...]

Publishes a recorded NDJSON file to MQTT_URL as the devices themselves (each with its own
credentials, derived from DEVICE_GROUP_KEY), keeping the original spacing divided by X.
Topics that belong to no device of the campus file (CAMPUS_CONFIG) are skipped and counted.
  --speed X          replay X times faster (default 1; 0 = as fast as possible)
  --loop             start again at the end
  --restamp          move the times in the payloads (native ts, Tasmota Time, Shelly Gen2 ts,
                     Zigbee2MQTT last_seen) so each round's first message is "now"
  --topics FILTERS   replay only messages on topics matching these MQTT filters (comma-separated)
Progress goes to standard error (a bar on a terminal).
`,
  "device-secret": `Usage: campus-power device-secret ID

Prints the MQTT password of device (or bridge) ID: the lowercase hex HMAC-SHA256 of the id keyed by
DEVICE_GROUP_KEY, the same as:  printf %s "$ID" | openssl dgst -sha256 -hmac "$KEY"
When DEVICE_GROUP_KEY lists several keys (id:key,id:key), the first one signs: that is the password to
give a device now; the broker also accepts the others' (docs/security.md "Rotating the fleet key").
Without DEVICE_GROUP_KEY it uses the key a demo generated (DATA_DIR/demo-secrets.json).
`,
  backfill: `Usage: campus-power backfill [--from ISO] [--to ISO]

Runs the rollups' SELECT … INTO over past data (INFLUX_URL, INFLUX_DB): electrical totals into the
1-minute rollup (retention policy rollup_1m), those into the 1-hour rollup (rollup_1h), and those into
the per-building hourly energy rollup of the campus file's tree (CAMPUS_CONFIG), one day at a time.
Continuous queries only roll up the last 15 minutes (1 m) and 2 hours (1 h); use this for data
written before the rollups existed or arriving later (a long InfluxDB outage, devices flushing buffers).
Idempotent: running it again overwrites the same rollup points.
  --from ISO   start (ISO 8601 or epoch ms; default: now − RAW_RETENTION_DAYS), rounded down to the hour
  --to ISO     end (default: now), rounded up to the hour
`,
  user: USER_USAGE,
  "check-config": `Usage: campus-power check-config FILE

Validates a campus file (schema, duplicate ids, unknown buildings or parents, cycles, rule overrides)
or a district file (each of its sites as a campus file, then ids unique across the district and
notification routes to known sites), and prints every problem with its file and path. With an
email route, also SMTP_URL and SMTP_FROM in the environment it runs in (a bad SMTP_URL is named,
never printed). Exits 0 when valid, 1 otherwise. Without FILE, CAMPUS_CONFIG.
`,
};

const NOTIFY_TEST_USAGE = `Usage: campus-power notify-test ROUTE

Sends one sample message (a test overload on a device of the route's school) to one route of the
campus or district file's notify: list, and prints the receiver's answer (a DingTalk, WeCom or
Feishu robot's errcode/code and words), so a robot can be checked before an emergency. ROUTE is the
route's position in notify: (0 = the first) or its name. The secret comes from the variable the
route's secret_env names. For an email route it sends one mail and prints the SMTP server's reply.
Exits 0 when delivered, 1 when refused. docs/notifications.md.

Environment it reads: CAMPUS_CONFIG, PUBLIC_URL (the link's address), HTTP_PORT, each route's
secret_env, and SMTP_URL, SMTP_FROM (email routes).
`;

/** Each command's usage followed by the environment it reads. */
export const COMMAND_HELP: Record<string, string> = {
  ...Object.fromEntries(COMMANDS.map((command) => [command, USAGE[command] + environmentSection(command)])),
  "notify-test": NOTIFY_TEST_USAGE,
};
