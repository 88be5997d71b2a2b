// `npx tsx bench/cpu-profile.ts DIR|FILE…` — where a process's CPU went, from the `.cpuprofile` files V8
// writes with `node --cpu-prof` (BENCH_PROFILE=DIR npm run bench:ingest writes one per child process).
// Prints, per profile, the self time of every sample (the function running when V8 sampled, not its
// callers) summed by category (CATEGORIES below: MQTT parsing, broker logic, journal and spool, decoding,
// the internal stream, InfluxDB writes, socket writes, GC, start-up, …).
// Percentages are of the busy time (idle samples excluded); "% of one core" is busy time over wall time.
// V8's sampler has no frames for builtins: JSON.parse / JSON.stringify, Buffer copies and the like count in
// the JavaScript function that called them (JSON.parse of device payloads under decoding, the batches'
// JSON under the internal stream, the spool record headers under InfluxDB writes).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseBenchArgs } from "./args.js";

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** µs since the previous sample. */
  timeDeltas: number[];
}

const FS_BINDINGS = /^(open|close|read|readFileUtf8|writeFileUtf8|writeBuffers|writeString|fdatasync|fsync|ftruncate|fstat|stat|lstat|rename|unlink|readdir|mkdir)$/;
const SOCKET_BINDINGS = /^(writev|writeBuffer|writeUtf8String|writeLatin1String|onStreamRead)$/;
const native = (f: CallFrame) => f.url === "";
const from = (pattern: RegExp) => (f: CallFrame) => pattern.test(f.url);

/** First match wins: a sample's category from the function V8 found running. */
const CATEGORIES: [string, (frame: CallFrame) => boolean][] = [
  ["idle", (f) => f.functionName === "(idle)"],
  ["GC", (f) => f.functionName === "(garbage collector)"],
  ["start-up: loading and compiling modules (tsx)", (f) => from(/^node:internal\/(modules|bootstrap|deps\/cjs-module-lexer)|node_modules\/(tsx|esbuild|get-tsconfig)\//)(f) || (native(f) && /^(MessageChannel|receiveMessageOnPort|compileFunction|compileSourceTextModule)$/.test(f.functionName))],
  ["MQTT parsing and encoding (mqtt-packet, bl)", from(/node_modules\/(mqtt-packet|bl)\//)],
  ["broker logic (aedes, mqemitter, qlobber, broker/)", (f) => from(/node_modules\/(aedes[^/]*|mqemitter|qlobber)\//)(f) || (from(/\/broker\/[^/]+\.ts$/)(f) && !f.url.endsWith("/broker/journal.ts"))],
  ["MQTT client (mqtt.js)", from(/node_modules\/mqtt\//)],
  ["file system: journal, spool, fs calls", (f) => from(/\/infra\/spool\/|\/broker\/journal\.ts$|^node:(internal\/)?fs/)(f) || (native(f) && FS_BINDINGS.test(f.functionName))],
  ["decoding (domain/formats, reading, ingest routing and points)", from(/\/domain\/(formats\/|reading\.ts|time)|\/ingest\/(process-message|points|routing)\.ts$/)],
  ["internal stream (ingest/stream)", from(/\/ingest\/stream\.ts$|\/domain\/internal-stream\.ts$/)],
  ["InfluxDB writes (line protocol, energy, sink, HTTP)", from(/\/domain\/line-protocol\.ts$|\/infra\/influx|\/ingest\/(durable-sink|energy)\.ts$|undici/)],
  ["ingest plumbing (other ingest/ files)", from(/\/ingest\/[^/]+\.ts$/)],
  ["alerts service (alerts/)", from(/\/alerts\//)],
  ["API and live stream (api/, fastify, ws)", from(/\/api\/|node_modules\/(fastify|@fastify|ws|find-my-way|avvio)\//)],
  ["metrics (prom-client)", from(/node_modules\/prom-client\//)],
  ["logging (pino, debug)", from(/node_modules\/(pino[^/]*|debug|sonic-boom)\//)],
  ["socket writes and streams (node:net, node:stream)", (f) => from(/^node:(internal\/)?(net|stream|streams|stream_base_commons)/)(f) || (native(f) && SOCKET_BINDINGS.test(f.functionName))],
  ["Buffers (node:buffer)", from(/^node:(internal\/)?buffer/)],
  ["event loop: timers, promises, events", (f) => from(/^node:(events|internal\/(timers|process\/task_queues|process\/promises))/)(f) || (native(f) && /^(runMicrotasks|processTicksAndRejections)$/.test(f.functionName))],
  ["native code outside JavaScript ((program))", (f) => f.functionName === "(program)"],
  ["other node internals and natives", (f) => f.url.startsWith("node:") || native(f)],
  ["other JavaScript", () => true],
];

/** Self time per category, µs. */
function selfTimeByCategory(profile: CpuProfile): Map<string, number> {
  const categoryOf = new Map<number, string>();
  for (const node of profile.nodes) categoryOf.set(node.id, CATEGORIES.find(([, test]) => test(node.callFrame))![0]);
  const totals = new Map<string, number>(CATEGORIES.map(([name]) => [name, 0]));
  profile.samples.forEach((id, i) => {
    const category = categoryOf.get(id)!;
    totals.set(category, totals.get(category)! + (profile.timeDeltas[i] ?? 0));
  });
  return totals;
}

/**
 * Time by the service that asked for it: each sample goes to the nearest frame on its stack that belongs to
 * a service (so a socket write is the broker's when aedes called it, the alerts service's JSON.parse is the
 * alerts service's). GC and idle are their own; what no service frame leads to is "event loop and node".
 */
const SERVICES: [string, RegExp][] = [
  ["broker: journal", /\/broker\/journal\.ts$/],
  ["broker: aedes, ACL, sockets", /node_modules\/(aedes[^/]*|mqemitter|qlobber)\/|\/broker\//],
  ["ingest: spool", /\/infra\/spool\//],
  ["ingest: InfluxDB writes", /\/infra\/influx|\/domain\/line-protocol\.ts$|undici/],
  ["ingest: decoding, points, stream", /\/ingest\/|\/domain\/(formats\/|reading\.ts)/],
  ["alerts service", /\/alerts\//],
  ["API and live stream", /\/api\/|node_modules\/(fastify|@fastify|ws)\//],
  ["services' MQTT clients (mqtt.js, mqtt-packet)", /node_modules\/(mqtt|mqtt-packet|bl)\//],
  ["start-up (tsx, module loading)", /node_modules\/(tsx|esbuild|get-tsconfig)\/|^node:internal\/modules/],
];

function timeByService(profile: CpuProfile): Map<string, number> {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const serviceOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = serviceOf.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)!.callFrame;
    const own = frame.functionName === "(idle)" ? "idle" : frame.functionName === "(garbage collector)" ? "GC" : SERVICES.find(([, pattern]) => pattern.test(frame.url))?.[0];
    const up = parent.get(id);
    const service = own ?? (up === undefined ? "event loop and node (no service on the stack)" : resolve(up));
    serviceOf.set(id, service);
    return service;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const service = resolve(id);
    totals.set(service, (totals.get(service) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return totals;
}

/** Which of the bench's processes (and which thread of it) wrote the profile: the sources it ran, the file's name. */
function writerOf(file: string, profile: CpuProfile): string {
  // node --cpu-prof names files CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile; thread 0 is the main thread.
  const [, pid, thread] = /\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(file) ?? [];
  const urls = profile.nodes.map((n) => n.callFrame.url);
  const role = urls.some((u) => u.includes("/cli/up.ts")) ? "campus-power up"
    : urls.some((u) => u.includes("/ingest/index.ts")) ? "ingest"
    : urls.some((u) => u.includes("/broker/index.ts")) ? "broker"
    : urls.some((u) => u.includes("subscriber-process.ts")) ? "pass-through subscriber"
    : urls.some((u) => u.includes("/cli/alerts-thread.ts")) ? "up's alerts thread"
    : urls.some((u) => u.includes("node_modules/tsx/")) ? "tsx's module loader"
    : "unknown";
  return `pid ${pid ?? "?"}, ${thread === "0" ? "main thread" : `thread ${thread ?? "?"}`}: ${role}`;
}

const HELP = `npx tsx bench/cpu-profile.ts [--readings N] DIR|FILE.cpuprofile …
Where a process's CPU went, from the profiles node --cpu-prof writes (e.g. BENCH_PROFILE=DIR npm run bench:ingest):
per profile, the self time of every sample summed by category and by the nearest service on the stack.
  --readings N  add a column in ms per 1,000 readings, N being the readings the profiled run stored (none by default)
  --help        this text`;

const { values: args, positionals, number, fail } = parseBenchArgs("cpu-profile", HELP, { readings: { type: "string" } }, { positionals: true });
const readings = args.readings === undefined ? null : number("--readings", args.readings, { whole: false });

function profileFiles(paths: string[]): string[] {
  return paths.flatMap((path) => {
    const stat = statSync(path, { throwIfNoEntry: false }) ?? fail(`no such file or folder: ${path}`);
    return stat.isDirectory() ? readdirSync(path).filter((name) => name.endsWith(".cpuprofile")).sort().map((name) => join(path, name)) : [path];
  });
}

const files = profileFiles(positionals);
if (files.length === 0) fail(positionals.length === 0 ? "give the profiles: DIR or FILE.cpuprofile …" : `no .cpuprofile files in ${positionals.join(" ")}`);

function printTable(title: string, totals: Map<string, number>, busy: number): void {
  const perThousand = readings === null ? "" : " ms per 1,000 readings |";
  console.log(`| ${title} | self ms | % of busy |${perThousand}\n|---|---|---|${readings === null ? "" : "---|"}`);
  for (const [name, us] of [...totals].filter(([category, us]) => category !== "idle" && us > 0).sort((a, b) => b[1] - a[1])) {
    const per = readings === null ? "" : ` ${((us / 1000 / readings) * 1000).toFixed(1)} |`;
    console.log(`| ${name} | ${(us / 1000).toFixed(0)} | ${((us / busy) * 100).toFixed(1)} |${per}`);
  }
  if (readings !== null) console.log(`| **busy, all** | ${(busy / 1000).toFixed(0)} | 100 | **${((busy / 1000 / readings) * 1000).toFixed(1)}** |`);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const totals = selfTimeByCategory(profile);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const busy = [...totals].filter(([name]) => name !== "idle").reduce((sum, [, us]) => sum + us, 0);
  console.log(`\n${basename(file)} — ${writerOf(file, profile)}: ${(busy / 1000).toFixed(0)} ms busy of ${wallMs.toFixed(0)} ms (${((busy / 1000 / wallMs) * 100).toFixed(0)} % of one core)\n`);
  printTable("category (self time)", totals, busy);
  console.log("");
  printTable("service (nearest on the stack)", timeByService(profile), busy);
}
