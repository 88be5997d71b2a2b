// `record` and `replay` (CONTRACT §7): options and environment in, the simulator's recorder and replay
// (simulator/record.ts, simulator/replay.ts) wired to a file, progress and the signals, totals printed.
import { createWriteStream, readFileSync } from "node:fs";
import { startRecorder } from "../simulator/record.js";
import { replayFile } from "../simulator/replay.js";
import { createProgress, PROGRESS_SAMPLE_MS } from "./progress.js";
import { loadContext, stopOnSignals, UsageError } from "./runtime.js";

export async function runRecord(options: { out: string; topics?: string[]; durationMs?: number }): Promise<void> {
  const { env, log } = loadContext(process.env, "record");
  const out = options.out === "-" ? process.stdout : createWriteStream(options.out, { flags: "a" });
  const recorder = await startRecorder({ mqttUrl: env.mqttUrl, servicePassword: env.servicePassword, ...(options.topics ? { topics: options.topics } : {}), write: (line) => out.write(line) });
  const progress = createProgress({ label: "record" });
  const started = Date.now();
  const ticker = setInterval(() => progress.update(options.durationMs === undefined ? recorder.count : Date.now() - started, options.durationMs ?? null, `${recorder.count} messages`), PROGRESS_SAMPLE_MS);
  stopOnSignals(() => [{ stop: async () => {
    clearInterval(ticker);
    await recorder.stop();
    if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
    progress.finish(`${recorder.count} messages recorded`);
  } }], log);
  if (options.durationMs !== undefined) setTimeout(() => process.kill(process.pid, "SIGTERM"), options.durationMs);
}

export async function runReplay(options: { file: string; speed: number; loop: boolean; restamp: boolean; topics?: string[] }): Promise<void> {
  if (!(options.speed >= 0)) throw new UsageError("--speed must be a number ≥ 0");
  try {
    readFileSync(options.file);
  } catch (error) {
    throw new UsageError(`cannot read ${options.file}: ${(error as Error).message}`);
  }
  const { env, campus, log } = loadContext(process.env, "replay");
  let stopped = false;
  stopOnSignals(() => [{ stop: async () => void (stopped = true) }], log);
  const progress = createProgress({ label: "replay" });
  const totals = await replayFile({
    campus,
    mqttUrl: env.mqttUrl,
    deviceGroupKey: env.deviceGroupKey,
    file: options.file,
    speed: options.speed,
    loop: options.loop,
    restamp: options.restamp,
    ...(options.topics ? { topics: options.topics } : {}),
    log,
    shouldStop: () => stopped,
    onProgress: (done, total, round) => progress.update(done, total, `${done}/${total}${round > 1 ? ` (round ${round})` : ""}`),
  });
  progress.finish(`${totals.published} published, ${totals.skipped} skipped (topic of no campus device or outside --topics), ${totals.invalid} invalid lines`);
  process.kill(process.pid, "SIGTERM");
}
