// npm run bench:live — the live stream at campus scale, and the 30-day energy query.
//   live:   separate processes on one machine: the server under test (broker + API, 1,000-device campus);
//           a publisher putting 5,000 readings/s on the internal stream as the ingest does (20 ms batches; the
//           device → ingest hop is bench:ingest's); and --workers processes sharing the
//           200 WebSocket clients (whole campus, batch frames, as the dashboard). Phase "steady": all
//           clients read. Phase "frozen": --frozen of them stop reading (for 1.5 × the phase length).
//           Per-process CPU is reported so the reader sees where the time goes.
//   energy: a local influxd, 30 days of hourly rollups for 1,000 devices, GET /api/energy timed.
// Options: --only live|energy, --seconds N (per phase, default 20), --clients N, --frozen N, --rate N,
//          --coalesce-ms N, --workers N (client processes, default 4), --profile DIR (server --cpu-prof).
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCampus } from "../infra/campus-file.js";
import { parseBenchArgs } from "./args.js";
import { maxOf, mergeInto, newHistogram, quantile, writeCampus } from "./live/common.js";
import { energy } from "./live/energy.js";

const HELP = `npm run bench:live -- [options]
The live stream at campus scale: a server (broker + API, 1,000 devices) fed --rate readings/s and --clients
WebSocket clients in worker processes, all reading, then --frozen of them not (latency, CPU, memory, clients
terminated); and the 30-day energy query, GET /api/energy over hourly rollups in a local influxd.
  --only PART        live, energy or all (default all)
  --seconds N        length of the steady phase; the frozen one lasts 1.5 × as long (default 20)
  --clients N        WebSocket clients, the whole campus each, batch frames (default 200)
  --frozen N         clients that stop reading in the frozen phase (default 50)
  --rate N           readings/s published, as the ingest's 20 ms batches (default 5000)
  --coalesce-ms N    the API's coalescing interval, 0 for every reading (default 1000)
  --workers N        client processes (default 4)
  --profile DIR      run the server with --cpu-prof, its profile in DIR
  --help             this text`;

const { values: args, number, fail } = parseBenchArgs("live", HELP, {
  only: { type: "string" }, seconds: { type: "string" }, clients: { type: "string" }, frozen: { type: "string" }, rate: { type: "string" },
  "coalesce-ms": { type: "string" }, workers: { type: "string" }, profile: { type: "string" },
});
const ONLY = args.only ?? "all";
if (!["all", "live", "energy"].includes(ONLY)) fail(`--only takes live, energy or all, not "${ONLY}"`);
/** The options, checked before anything starts. */
const OPTIONS = {
  seconds: number("--seconds", args.seconds ?? 20, { whole: false }),
  clients: number("--clients", args.clients ?? 200),
  frozen: number("--frozen", args.frozen ?? 50, { zero: true }),
  rate: number("--rate", args.rate ?? 5_000, { whole: false }),
  coalesceMs: number("--coalesce-ms", args["coalesce-ms"] ?? 1_000, { zero: true }),
  workers: number("--workers", args.workers ?? 4),
};
// The frozen phase is measured on the clients still reading (delivered per client): there must be one.
if (OPTIONS.frozen >= OPTIONS.clients) fail(`--frozen (${OPTIONS.frozen}) must be fewer than --clients (${OPTIONS.clients})`);
const here = dirname(fileURLToPath(import.meta.url));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

type Stats = Record<"at" | "cpu" | "loopP99" | "loopMax" | "rss" | "heap" | "external" | "terminated" | "published", number>;
interface Child {
  process: ChildProcess;
  stats: Stats[];
  next(type: string): Promise<any>;
}

function start(file: string, args: string[], execArgv: string[] = []): Child {
  const child = fork(join(here, "live", file), args, { execArgv: [...process.execArgv, ...execArgv] });
  const stats: Stats[] = [];
  const waiting = new Map<string, (m: any) => void>();
  child.on("message", (m: any) => {
    if (m.type === "stats") stats.push(m);
    else waiting.get(m.type)?.(m);
  });
  return { process: child, stats, next: (type) => new Promise((resolve) => waiting.set(type, resolve)) };
}

const between = (stats: Stats[], from: number, to: number) => stats.filter((s) => s.at > from && s.at <= to + 500);
const mean = (values: number[]) => (values.length ? values.reduce((n, v) => n + v, 0) / values.length : NaN);
/** Busy share of the whole machine (all cores, every process: other users' too). */
const machineTimes = () => cpus().reduce((t, c) => ({ idle: t.idle + c.times.idle, total: t.total + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle }), { idle: 0, total: 0 });
const busyBetween = (a: { idle: number; total: number }, b: { idle: number; total: number }) => 1 - (b.idle - a.idle) / (b.total - a.total);
const percent = (share: number) => `${Math.round(share * 100)} %`;

async function live() {
  const { seconds, clients: clientsN, frozen: frozenN, rate, coalesceMs } = OPTIONS;
  const workersN = Math.min(clientsN, OPTIONS.workers);
  const profile = args.profile ?? "";
  const dir = mkdtempSync(join(tmpdir(), "bench-live-"));
  const campusFile = writeCampus(dir, false);
  const deviceCount = loadCampus(campusFile).devices.length;

  const server = start("server-process.ts", [campusFile, String(coalesceMs)], ["--expose-gc", ...(profile ? ["--cpu-prof", "--cpu-prof-dir", profile] : [])]);
  const { http, mqtt } = await server.next("ready");
  const publisher = start("publisher-process.ts", [mqtt, campusFile, String(rate)]);
  await publisher.next("ready");
  const share = (total: number, i: number) => Math.floor((total * (i + 1)) / workersN) - Math.floor((total * i) / workersN);
  const workers = Array.from({ length: workersN }, (_, i) => start("client-process.ts", [http.replace("http", "ws"), String(share(clientsN, i)), String(share(frozenN, i)), String(coalesceMs)]));
  await Promise.all(workers.map((w) => w.next("ready")));
  const broadcast = (m: object) => workers.forEach((w) => w.process.send(m));

  publisher.process.send({ type: "start" });
  await sleep(5);
  const warm = server.stats.at(-1)!;
  const t0 = Date.now();
  const m0 = machineTimes();
  broadcast({ type: "phase", name: "steady" });
  await sleep(seconds);
  const t1 = Date.now();
  const m1 = machineTimes();
  const gc = server.next("gc");
  server.process.send({ type: "gc" });
  const g = await gc;
  console.log(`server heap at the end of steady: ${mb(g.heapBefore)} MB used, ${mb(g.heapAfter)} MB after a full GC (live; run with --expose-gc), RSS ${mb(g.rssAfter)} MB; spaces after: ${g.spaces}`);
  broadcast({ type: "phase", name: "frozen" });
  broadcast({ type: "freeze" });
  await sleep(seconds * 1.5);
  const t2 = Date.now();
  const m2 = machineTimes();
  broadcast({ type: "phase", name: null });
  const reports = await Promise.all(workers.map((w) => { const r = w.next("report"); w.process.send({ type: "report" }); return r; }));
  publisher.process.send({ type: "stop" });
  broadcast({ type: "stop" });
  server.process.kill("SIGTERM");

  const row = (name: string, from: number, to: number, receivers: number, machineBusy: number) => {
    const raw = newHistogram();
    const due = newHistogram();
    let delivered = 0;
    for (const r of reports) {
      const p = r.results[name];
      if (!p) continue;
      mergeInto(raw, p.raw);
      mergeInto(due, p.due);
      delivered += p.delivered;
    }
    const s = between(server.stats, from, to);
    const pub = between(publisher.stats, from, to);
    const published = pub.length > 1 ? ((pub.at(-1)!.published - pub[0]!.published) / (pub.at(-1)!.at - pub[0]!.at)) * 1000 : NaN;
    const clientCpu = mean(workers.map((w) => mean(between(w.stats, from, to).map((x) => x.cpu)))) * workersN;
    const ms = to - from;
    const firstAllTerminated = s.find((x) => x.terminated >= frozenN);
    return {
      phase: name,
      receivers,
      "published/s": Math.round(published),
      "delivered/s (per client)": `${Math.round((delivered / ms) * 1000)} (${Math.round((delivered / ms) * 1000 / receivers)})`,
      "raw p50/p99/max ms": `${quantile(raw, 0.5)} / ${quantile(raw, 0.99)} / ${maxOf(raw)}`,
      "due p50/p99/max ms": `${quantile(due, 0.5)} / ${quantile(due, 0.99)} / ${maxOf(due)}`,
      "CPU server / publisher / clients": `${percent(mean(s.map((x) => x.cpu)))} / ${percent(mean(pub.map((x) => x.cpu)))} / ${percent(clientCpu)}`,
      "machine busy (all processes, 2 cores = 100 %)": percent(machineBusy),
      "event-loop delay max ms: server / publisher / clients": `${Math.round(Math.max(...s.map((x) => x.loopMax)))} / ${Math.round(Math.max(...pub.map((x) => x.loopMax)))} / ${Math.round(Math.max(...workers.flatMap((w) => between(w.stats, from, to).map((x) => x.loopMax))))}`,
      "server RSS peak (growth) MB": `${mb(Math.max(...s.map((x) => x.rss)))} (${Math.max(...s.map((x) => x.rss)) >= warm.rss ? "+" : ""}${mb(Math.max(...s.map((x) => x.rss)) - warm.rss)})`,
      "heap / external peak MB": `${mb(Math.max(...s.map((x) => x.heap)))} / ${mb(Math.max(...s.map((x) => x.external)))}`,
      terminated: name === "frozen" ? `${s.at(-1)?.terminated ?? 0}${firstAllTerminated ? ` (all ${frozenN} by +${Math.round((firstAllTerminated.at - from) / 1000)} s)` : ""}` : (s.at(-1)?.terminated ?? 0),
    };
  };
  console.log(`live: ${deviceCount} devices, ${clientsN} clients in ${workersN} worker processes (batch frames), coalescing ${coalesceMs} ms, target ${rate} readings/s as the ingest's 20 ms batches (QoS 1); server RSS ${mb(warm.rss)} MB, heap ${mb(warm.heap)} MB, external ${mb(warm.external)} MB after 5 s of warm-up; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.table([row("steady", t0, t1, clientsN, busyBetween(m0, m1)), row("frozen", t1, t2, clientsN - frozenN, busyBetween(m1, m2))]);
  console.log(`client sockets still open at the end: ${reports.reduce((n, r) => n + r.open, 0)} of ${clientsN} (a terminated frozen client does not see its close while paused)`);
  await new Promise((r) => server.process.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${mb(totalmem())} MB, Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
if (ONLY === "all" || ONLY === "live") await live();
if (ONLY === "all" || ONLY === "energy") await energy();
process.exit(0);
