// bench:reports's measurements: each route over real HTTP with a district admin's token, once to warm up
// (InfluxDB's caches, the API's list of devices reporting energy) and then `runs` times, each request timed
// from sending it until its whole body is read. A route that answers 404 is one not built yet (the reports
// and the printable report were being built beside this bench): it is said so, and the others still run.
import { createHash } from "node:crypto";

export interface Route {
  /** What it stands for, as the issue names it. */
  label: string;
  /** Path and query string. */
  path: string;
  /** The ceiling for it, ms (null: measured, no target). */
  targetMs: number | null;
}

export interface Timing {
  route: Route;
  /** "ok", "not built" (404) or "failed: <status> <body>". */
  status: string;
  /** The warm-up request, ms. */
  firstMs: number;
  /** The timed requests, ms, ascending. */
  timesMs: number[];
  bytes: number;
  /** What came back, in a few words (series, rows, total kWh). */
  answer: string;
  /** The first 12 hex of the body's SHA-256 (JSON: its `from`/`to` aside): the same data gives the same answer before and after a change. */
  digest: string;
}

async function fetchTimed(url: string, token: string): Promise<{ ms: number; status: number; body: string; type: string }> {
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  return { ms: performance.now() - started, status: response.status, body, type: response.headers.get("content-type") ?? "" };
}

/** A few words on what the answer holds, and its digest. */
function describe(body: string, type: string): { answer: string; digest: string } {
  const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);
  if (!type.includes("json")) return { answer: `${type.split(";")[0]}, ${body.split("\n").length} lines`, digest: digest(body) };
  const parsed = JSON.parse(body) as { series?: { points: unknown[] }[]; rows?: unknown[]; total_kwh?: number; source?: string };
  const parts: string[] = [];
  if (parsed.series) parts.push(`${parsed.series.length} series, ${parsed.series.reduce((n, s) => n + s.points.length, 0)} points`);
  if (parsed.rows) parts.push(`${parsed.rows.length} rows`);
  if (parsed.total_kwh !== undefined) parts.push(`${parsed.total_kwh.toLocaleString("en", { maximumFractionDigits: 1 })} kWh`);
  if (parsed.source) parts.push(`from ${parsed.source}`);
  const { from: _from, to: _to, source: _source, ...answer } = parsed as Record<string, unknown>;
  return { answer: parts.join(", "), digest: digest(JSON.stringify(answer)) };
}

export async function timeRoute(baseUrl: string, token: string, route: Route, runs: number): Promise<Timing> {
  const first = await fetchTimed(`${baseUrl}${route.path}`, token);
  const base = { route, firstMs: first.ms, timesMs: [], bytes: first.body.length, answer: "", digest: "" };
  if (first.status === 404) return { ...base, status: "not built" };
  if (first.status !== 200) return { ...base, status: `failed: ${first.status} ${first.body.slice(0, 200)}` };
  const timesMs: number[] = [];
  for (let run = 0; run < runs; run++) timesMs.push((await fetchTimed(`${baseUrl}${route.path}`, token)).ms);
  return { ...base, status: "ok", timesMs: timesMs.sort((a, b) => a - b), ...describe(first.body, first.type) };
}

const ms = (value: number | undefined) => (value === undefined ? "—" : Math.round(value).toLocaleString("en"));

/** The table (markdown, as docs/benchmarks.md records it). */
export function printTimings(timings: readonly Timing[]): void {
  console.log("| route | target ms | first ms | min ms | median ms | max ms | verdict | answer | digest |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const t of timings) {
    const median = t.timesMs[Math.floor((t.timesMs.length - 1) / 2)];
    const verdict = t.status !== "ok" ? t.status : t.route.targetMs === null ? "measured" : median! <= t.route.targetMs ? "**meets**" : "**misses**";
    const cells = [`${t.route.label}: \`${t.route.path.replace(/&from=[^&]*&to=[^&]*/, "")}\``, ms(t.route.targetMs ?? undefined), ms(t.firstMs), ms(t.timesMs[0]), ms(median), ms(t.timesMs.at(-1)), verdict, t.answer, t.digest];
    console.log(`| ${cells.join(" | ")} |`);
  }
}
