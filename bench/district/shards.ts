// bench:district's devices: `campus-power simulate --shard K/N` as N processes (docs/simulator.md "Load
// tests"), each a slice of the district's devices, every device a real MQTT connection with its own
// credentials. What the bench knows of them it reads from their standard error, as a user would:
//   "simulating 5000 devices (connected in 12.3 s, 0 failed) …"   once connected
//   "simulate [###…]  45% <event time> · 12345 messages · 5000 connected"   every 5 s
//   "simulate: 61234 messages published"   at the end of --duration (publishes acknowledged by the broker)
import { type Command, startCommand, stopCommand } from "./processes.js";

export interface ShardOptions {
  shards: number;
  /** District file the shards read (the broker's own, so every device is known to it). */
  config: string;
  /** `--devices N`: each school cut to N devices (when fewer than the file's may connect). */
  devicesPerSchool?: number;
  /** `--duration`, seconds after the shard's devices are connected; none: until stopped. */
  durationS?: number;
  env: Record<string, string>;
  logDir: string;
  /** Prefix of the shards' log files. */
  name: string;
}

interface ShardState {
  command: Command;
  connected: { devices: number; failed: number; seconds: number } | null;
  /** Publishes acknowledged so far (the last progress line), and the final count once the run ended. */
  published: number;
  final: number | null;
}

export interface Fleet {
  readonly pids: readonly number[];
  /** Resolves once every shard has connected its devices: the totals and the wall time since the start, ms. */
  readonly connected: Promise<{ devices: number; failed: number; wallMs: number; slowestShardS: number }>;
  /** Acknowledged publishes of all shards, as of their last progress lines. */
  published(): number;
  /** Devices the shards gave up on so far (no CONNACK within the simulator's 10 s, or refused). */
  failures(): number;
  /** Shards that have ended their run or exited. */
  ended(): number;
  /** Resolves with every shard's final count of acknowledged publishes (needs `durationS`). */
  readonly finished: Promise<number>;
  stop(): Promise<void>;
}

const CONNECTED = /^simulating (\d+) devices \(connected in ([\d.]+) s, (\d+) failed\)/;
const PROGRESS = /· (\d+) messages · \d+ connected/;
const FINAL = /^simulate: (\d+) messages published/;
/** The simulator's log line (pino JSON on standard output) for a device it could not connect. */
const GAVE_UP = /"msg":"simulated device could not connect"/;

export function startShards(options: ShardOptions): Fleet {
  const started = performance.now();
  const args = ["simulate", "--config", options.config];
  if (options.devicesPerSchool !== undefined) args.push("--devices", String(options.devicesPerSchool));
  if (options.durationS !== undefined) args.push("--duration", `${options.durationS}s`);
  const states: ShardState[] = [];
  let allConnected!: () => void;
  let allFinished!: () => void;
  let failed!: (error: Error) => void;
  const connected = new Promise<void>((resolve, reject) => ((allConnected = resolve), (failed = reject)));
  const finished = new Promise<void>((resolve) => (allFinished = resolve));
  let wallMs = 0;
  let gaveUp = 0;
  for (let k = 0; k < options.shards; k++) {
    const onLine = (line: string) => {
      const state = states[k]!;
      const up = CONNECTED.exec(line);
      const counted = PROGRESS.exec(line);
      const final = FINAL.exec(line);
      if (GAVE_UP.test(line)) gaveUp++;
      else if (up) {
        state.connected = { devices: Number(up[1]), failed: Number(up[3]), seconds: Number(up[2]) };
        if (states.every((s) => s.connected)) ((wallMs = performance.now() - started), allConnected());
      } else if (counted) state.published = Number(counted[1]);
      else if (final) {
        state.published = state.final = Number(final[1]);
        if (states.every((s) => s.final !== null)) allFinished();
      }
    };
    const command = startCommand(`${options.name}-${k}`, [...args, "--shard", `${k}/${options.shards}`], options.env, options.logDir, onLine);
    states.push({ command, connected: null, published: 0, final: null });
    void command.exited.then((code) => {
      if (!states[k]!.connected) failed(new Error(`simulate shard ${k}/${options.shards} exited with ${code} before connecting (log: ${options.logDir}/${options.name}-${k}.log)`));
    });
  }
  const sum = (of: (s: ShardState) => number) => states.reduce((total, s) => total + of(s), 0);
  return {
    pids: states.map((s) => s.command.pid),
    connected: connected.then(() => ({
      devices: sum((s) => s.connected!.devices),
      failed: sum((s) => s.connected!.failed),
      wallMs,
      slowestShardS: Math.max(...states.map((s) => s.connected!.seconds)),
    })),
    published: () => sum((s) => s.published),
    failures: () => gaveUp,
    ended: () => states.filter((s) => s.final !== null || s.command.child.exitCode !== null).length,
    finished: finished.then(() => sum((s) => s.final!)),
    stop: async () => void (await Promise.all(states.map((s) => stopCommand(s.command)))),
  };
}
