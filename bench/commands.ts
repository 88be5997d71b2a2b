// `npm run bench:commands` — remote switching as users run it (issue 11 §8), every part real and on this
// machine: a local influxd, `campus-power up` (the command as the README starts it), `campus-power simulate`
// with 1,000 simulated devices that obey commands (500 dormitory room breakers, 490 sockets, 10 building
// meters), and 1,000 more device connections putting --load readings/s (default 5,000) of background
// telemetry through the same broker. Measured:
//   round trip  select → operate → `confirmed` (the device's own report, seen on the live stream), one
//               command after another on random room breakers and sockets: p50 / p99 / max (goal p99 ≤ 1 s)
//   lights-out  a schedule switching the 500 room breakers off at one minute: how many confirmed, the
//               most commands sent in any one second (≤ SCHEDULE_RATE, default 20), and how long it took
//   load        readings stored per second in InfluxDB meanwhile
// Options: --round-trips 100 --load 5000 --rate 20 (SCHEDULE_RATE)
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import type { Command } from "../domain/command.js";
import { devicePassword } from "../domain/credentials.js";
import { InfluxClient, rows } from "../infra/influx.js";
import { freePort } from "../infra/free-port.js";
import { startLocalInfluxd } from "../infra/local-influxd.js";
import { parseBenchArgs } from "./args.js";
import { LeanDevice } from "./ingest/lean-device.js";

const HELP = `npm run bench:commands -- [options]
Remote switching as users run it, every part real on this machine: select → operate → confirmed round trips
(p50 / p99 / max) and a lights-out schedule switching 500 room breakers off, with 1,000 simulated devices that
obey commands and 1,000 more connections of background telemetry; readings stored per second meanwhile.
  --round-trips N  commands timed one after another, on random room breakers and sockets (default 100)
  --load N         background readings/s through the same broker (default 5000)
  --rate N         SCHEDULE_RATE: the most scheduled commands sent in a second (default 20)
  --help           this text
BENCH_LOG_DIR=DIR keeps the log of up and simulate (LOG_LEVEL=info for the whole story).`;

const { values: args, number } = parseBenchArgs("commands", HELP, { "round-trips": { type: "string" }, load: { type: "string" }, rate: { type: "string" } });
const ROUND_TRIPS = number("--round-trips", args["round-trips"] ?? 100);
const LOAD = number("--load", args.load ?? 5_000, { whole: false });
const RATE = number("--rate", args.rate ?? 20);
const KEY = "bench-group-key-0123456789abcdef";
const OPERATOR = "operator-bench-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "campus-bench-commands-"));
const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")));
const progress = (text: string) => process.stderr.write(`bench:commands: ${text}\n`);

/**
 * The bench campus, with a lights-out schedule `minutesAhead` whole minutes from now (site zone UTC):
 * `file` for `up`, `simulated` the same without the background devices, for `simulate` (which would
 * otherwise connect them too, under the same client ids as the load's connections).
 */
function writeCampus(minutesAhead: number): { file: string; simulated: string; rooms: string[]; sockets: string[]; at: number } {
  const at = Math.ceil(Date.now() / 60_000) * 60_000 + minutesAhead * 60_000;
  const hhmm = new Date(at).toISOString().slice(11, 16);
  const lines = ["site: { id: bench, name: Bench School, timezone: UTC, nominal_voltage_v: 220 }", "buildings:"];
  const devices: string[] = [];
  const rooms: string[] = [];
  const sockets: string[] = [];
  for (let b = 0; b < 10; b++) {
    lines.push(`  - { id: dorm-${b}, name: Dormitory ${b}, kind: dormitory }`);
    devices.push(`  - { id: meter-${b}, kind: meter, building: dorm-${b}, report_interval_s: 10 }`);
    for (let r = 0; r < 50; r++) {
      const room = `brk-${b}-${r}`;
      rooms.push(room);
      devices.push(`  - { id: ${room}, kind: breaker, building: dorm-${b}, room: "${r}", parent: meter-${b}, rating_a: 16, curve: C, report_interval_s: 10 }`);
      if (b * 50 + r < 490) {
        sockets.push(`plug-${b}-${r}`);
        devices.push(`  - { id: plug-${b}-${r}, kind: socket, building: dorm-${b}, room: "${r}", parent: ${room}, rating_a: 10, report_interval_s: 10 }`);
      }
    }
  }
  const schedule = ["schedules:", `  - { id: lights-out, name: Lights out, action: switch_off, at: "${hhmm}", days: [mon, tue, wed, thu, fri, sat, sun], buildings: [${Array.from({ length: 10 }, (_, b) => `dorm-${b}`).join(", ")}], kinds: [breaker] }`];
  const load = ["  - { id: load, name: Background load, kind: other }", "devices:", ...devices, ...Array.from({ length: 1_000 }, (_, i) => `  - { id: load-${i}, kind: meter, building: load, report_interval_s: 60 }`)];
  const file = join(dir, "campus.yaml");
  const simulated = join(dir, "simulated.yaml");
  writeFileSync(file, `${[...lines, ...load, ...schedule].join("\n")}\n`);
  writeFileSync(simulated, `${[...lines, "devices:", ...devices].join("\n")}\n`);
  return { file, simulated, rooms, sockets, at };
}

function startCli(name: string, cliArgs: string[], env: Record<string, string>): ChildProcess {
  const child = spawn("bin/campus-power.js", cliArgs, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  // Log lines (pino, on stdout): errors shown; BENCH_LOG_DIR=dir keeps them all there (with LOG_LEVEL=info, the whole story).
  if (process.env.BENCH_LOG_DIR) child.stdout!.pipe(createWriteStream(join(process.env.BENCH_LOG_DIR, `${name}.log`)));
  child.stdout!.on("data", (chunk: Buffer) => { for (const line of chunk.toString().split("\n")) if (/"level":(50|60)/.test(line)) progress(`${name}: ${line.slice(0, 300)}`); });
  return child;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const campus = writeCampus(4);
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    CAMPUS_CONFIG: campus.file, DATA_DIR: join(dir, "data"), INFLUX_URL: influxd.url, INFLUX_DB: "bench", LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "bench-service-password-0123", API_TOKENS: `operator:${OPERATOR}`,
    MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
    // Every device here connects from 127.0.0.1, like a school behind one NAT address: above the broker's per-address limit (default 2,000).
    MQTT_MAX_CONNECTIONS_PER_ADDRESS: "3000", SCHEDULE_RATE: String(RATE),
  };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${httpPort}${path}`, { ...init, headers: { authorization: `Bearer ${OPERATOR}`, ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers } });

  progress("starting up, the simulator (1,000 devices) and the background load");
  startCli("up", ["up"], env);
  await until(async () => (await api("/api/ready").catch(() => null))?.status === 200, 60_000, "up ready");
  startCli("simulate", ["simulate", "--config", campus.simulated], env);
  const online = async () => ((await (await api("/api/devices")).json()) as { id: string; online: boolean }[]).filter((d) => d.online && !d.id.startsWith("load-")).length;
  await until(async () => (await online()) >= 1_000, 120_000, "1,000 simulated devices online");

  const load = await Promise.all(Array.from({ length: 1_000 }, async (_, i) => {
    const id = `load-${i}`;
    const device = new LeanDevice({ port: mqttPort, clientId: id, username: id, password: devicePassword(id, KEY), topic: `campus/devices/${id}/telemetry` });
    await device.connect();
    return device;
  }));
  let loadSent = 0;
  let loadFailed = 0;
  const perTick = LOAD / 1_000 / 10; // every device, every 100 ms
  let carry = 0;
  const loadTimer = setInterval(() => {
    carry += perTick;
    const n = Math.floor(carry);
    carry -= n;
    const ts = Date.now();
    // A publish still waiting when the bench ends its connections fails: counted, never an unhandled rejection.
    for (let k = 0; k < n; k++) for (const [i, device] of load.entries()) void device.publish(`{"ts":${ts + k},"power_w":${500 + (i % 100)},"voltage_v":221}`).then(() => loadSent++, () => loadFailed++);
  }, 100);

  let loadReported = 0;
  const loadProgress = setInterval(() => {
    progress(`background load: ${loadSent - loadReported} readings acknowledged in the last 10 s`);
    loadReported = loadSent;
  }, 10_000);
  const influx = new InfluxClient({ url: influxd.url, db: "bench" });
  const stored = async () => Number(rows(await influx.query("SELECT count(voltage_v) FROM electrical WHERE device =~ /^load-/").catch(() => []))[0]?.count ?? 0);
  await new Promise((r) => setTimeout(r, 10_000)); // warm-up under load
  const storedAtStart = await stored();
  const loadStart = Date.now();

  // The live stream: every command change, as a dashboard would see it.
  const seen = new Map<string, Command[]>();
  const waiters = new Map<string, (c: Command) => void>();
  const live = new WebSocket(`ws://127.0.0.1:${httpPort}/api/live?token=${OPERATOR}`);
  // A person clicks once the dashboard shows the campus: the round trips start after the live snapshot.
  let gotSnapshot = () => {};
  const snapshot = new Promise<void>((resolve) => (gotSnapshot = resolve));
  live.on("message", (data) => {
    const message = JSON.parse(String(data)) as { type: string; command?: Command };
    if (message.type === "snapshot") gotSnapshot();
    if (message.type !== "command" || !message.command) return;
    const command = message.command;
    seen.set(command.id, [...(seen.get(command.id) ?? []), command]);
    if (["confirmed", "failed", "timeout"].includes(command.state)) waiters.get(command.id)?.(command);
  });
  await new Promise((resolve) => live.once("open", resolve));
  await snapshot;

  progress(`${ROUND_TRIPS} round trips under load`);
  /** Each confirmed round trip: its place in the sequence and when it began, so the slowest can be found in up's log. */
  const roundTrips: { i: number; ms: number; at: string }[] = [];
  const outcomes: Record<string, number> = {};
  const targets = [...campus.rooms, ...campus.sockets];
  const isOff = new Set<string>();
  for (let i = 0; i < ROUND_TRIPS && Date.now() < campus.at - 20_000; i++) {
    const device = targets[(i * 7919) % targets.length]!;
    const action = isOff.has(device) ? "switch_on" : "switch_off";
    const started = performance.now();
    const startedAt = new Date().toISOString().slice(11, 23);
    const selected = await api("/api/commands", { method: "POST", body: JSON.stringify({ device, action, reason: "bench round trip" }) });
    const command = (await selected.json()) as Command;
    if (selected.status !== 201) throw new Error(`select ${device}: ${selected.status} ${JSON.stringify(command)}`);
    const final = new Promise<Command>((resolve) => waiters.set(command.id, resolve));
    const operated = await api(`/api/commands/${command.id}/operate`, { method: "POST" });
    if (operated.status !== 202) throw new Error(`operate ${command.id}: ${operated.status}`);
    const ended = await Promise.race([final, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    const state = ended?.state ?? "not seen";
    outcomes[state] = (outcomes[state] ?? 0) + 1;
    if (state === "confirmed") {
      roundTrips.push({ i, ms: performance.now() - started, at: startedAt });
      if (action === "switch_off") isOff.add(device);
      else isOff.delete(device);
    }
  }
  // The schedule switches every room breaker off: those the round trips left off are confirmed at once.
  progress(`waiting for the lights-out schedule at ${new Date(campus.at).toISOString()}`);
  await until(() => Date.now() > campus.at + 5_000, 10 * 60_000, "the schedule's minute");
  const scheduled = () => [...seen.values()].map((changes) => changes.at(-1)!).filter((c) => c.issued_by === "schedule:lights-out");
  await until(() => scheduled().length >= 500 && scheduled().every((c) => ["confirmed", "failed", "timeout"].includes(c.state)), 180_000, "500 scheduled commands ended").catch((error: Error) => progress(error.message));
  const loadSeconds = (Date.now() - loadStart) / 1000;
  const stateBytes = statSync(join(dir, "data", "alerts", "state.json"), { throwIfNoEntry: false })?.size ?? 0;
  const storedDuring = (await stored()) - storedAtStart;
  clearInterval(loadTimer);
  clearInterval(loadProgress);

  const commands = scheduled();
  const sentTimes = commands.map((c) => Date.parse(c.sent_at ?? c.selected_at)).sort((a, b) => a - b);
  let busiest = 0;
  for (let i = 0, j = 0; i < sentTimes.length; i++) {
    while (sentTimes[i]! - sentTimes[j]! >= 1_000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  const lastConfirmed = Math.max(...commands.map((c) => Date.parse(c.confirmed_at ?? c.ended_at ?? c.selected_at)));
  const byState = commands.reduce<Record<string, number>>((acc, c) => ((acc[c.state] = (acc[c.state] ?? 0) + 1), acc), {});
  const sorted = roundTrips.map((r) => r.ms).sort((a, b) => a - b);

  for (const c of commands.filter((c) => c.state !== "confirmed").slice(0, 3)) progress(`not confirmed: ${JSON.stringify(c)}`);
  progress(`slowest round trips (their place of ${ROUND_TRIPS}: ms): ${[...roundTrips].sort((a, b) => b.ms - a.ms).slice(0, 5).map((o) => `#${o.i + 1} at ${o.at}Z: ${o.ms.toFixed(0)}`).join(", ")}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}; background load ${LOAD} readings/s offered, SCHEDULE_RATE ${RATE}`);
  console.log("| measure | value |");
  console.log("|---|---|");
  console.log(`| round trips (select → operate → confirmed) | ${roundTrips.length} of ${Object.values(outcomes).reduce((a, b) => a + b, 0)} confirmed (${JSON.stringify(outcomes)}) |`);
  console.log(`| round trip p50 / p99 / max | ${percentile(sorted, 50).toFixed(0)} / ${percentile(sorted, 99).toFixed(0)} / ${(sorted.at(-1) ?? NaN).toFixed(0)} ms |`);
  console.log(`| lights-out: scheduled commands | ${commands.length} (${JSON.stringify(byState)}) |`);
  console.log(`| lights-out: most sent in one second | ${busiest} |`);
  console.log(`| lights-out: schedule minute → last confirmed | ${((lastConfirmed - campus.at) / 1000).toFixed(1)} s |`);
  console.log(`| background readings stored / s | ${(storedDuring / loadSeconds).toFixed(0)} (sent ${loadSent}${loadFailed ? `, ${loadFailed} not acknowledged` : ""}) |`);
  console.log(`| alerts state file | ${(stateBytes / 1024).toFixed(0)} KiB |`);

  live.close();
  await Promise.all(load.map((d) => d.end().catch(() => undefined)));
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
  await influxd.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
