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

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
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

/** Which of the bench's processes (and which thread of it) wrote the profile: the sources it ran, the file's name. */
function writerOf(file: string, profile: CpuProfile): string {
  // node --cpu-prof names files CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile; thread 0 is the main thread.
  const [, pid, thread] = /\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(file) ?? [];
  const urls = profile.nodes.map((n) => n.callFrame.url);
  const role = urls.some((u) => u.includes("/ingest/index.ts")) ? "ingest"
    : urls.some((u) => u.includes("/broker/index.ts")) ? "broker"
    : urls.some((u) => u.includes("subscriber-process.ts")) ? "pass-through subscriber"
    : urls.some((u) => u.includes("node_modules/tsx/")) ? "tsx's module loader"
    : "unknown";
  return `pid ${pid ?? "?"}, ${thread === "0" ? "main thread" : `thread ${thread ?? "?"}`}: ${role}`;
}

function profileFiles(args: string[]): string[] {
  return args.flatMap((arg) =>
    statSync(arg).isDirectory() ? readdirSync(arg).filter((name) => name.endsWith(".cpuprofile")).sort().map((name) => join(arg, name)) : [arg],
  );
}

const files = profileFiles(process.argv.slice(2));
if (files.length === 0) {
  console.error("usage: npx tsx bench/cpu-profile.ts DIR|FILE.cpuprofile …  (profiles from node --cpu-prof, e.g. BENCH_PROFILE=DIR npm run bench:ingest)");
  process.exit(2);
}
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const totals = selfTimeByCategory(profile);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const busy = [...totals].filter(([name]) => name !== "idle").reduce((sum, [, us]) => sum + us, 0);
  console.log(`\n${basename(file)} — ${writerOf(file, profile)}: ${(busy / 1000).toFixed(0)} ms busy of ${wallMs.toFixed(0)} ms (${((busy / 1000 / wallMs) * 100).toFixed(0)} % of one core)\n`);
  console.log("| category | self ms | % of busy |\n|---|---|---|");
  for (const [name, us] of [...totals].filter(([category, us]) => category !== "idle" && us > 0).sort((a, b) => b[1] - a[1])) {
    console.log(`| ${name} | ${(us / 1000).toFixed(0)} | ${((us / busy) * 100).toFixed(1)} |`);
  }
}
