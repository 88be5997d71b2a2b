// Progress of a long command (simulate, record, replay, scenario run) on standard error: a bar redrawn
// in place on a terminal, plain lines every few seconds otherwise (CI logs, pipes), never both.

export interface Progress {
  /** `done` of `total` (total null: unknown, no bar), and a short note. */
  update(done: number, total: number | null, note?: string): void;
  /** Prints the final line. */
  finish(note: string): void;
}

export interface ProgressOptions {
  label: string;
  out?: NodeJS.WriteStream;
  /** Plain-line period when not on a terminal, ms (default 5 s). */
  everyMs?: number;
  /** Clock (tests inject one). */
  now?: () => number;
}

const WIDTH = 28;
/** How often a long command samples its figures for the progress line, ms (the line itself is drawn at most every `everyMs`). */
export const PROGRESS_SAMPLE_MS = 250;

/** The bar line itself (pure, for tests): `label [#######.......]  45% note`. */
export function progressLine(label: string, done: number, total: number | null, note = ""): string {
  if (total === null || total <= 0) return `${label}: ${done}${note ? ` ${note}` : ""}`;
  const fraction = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(fraction * WIDTH);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${percent}${note ? ` ${note}` : ""}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const out = options.out ?? process.stderr;
  const tty = out.isTTY === true;
  const now = options.now ?? Date.now;
  const everyMs = options.everyMs ?? (tty ? 200 : 5_000);
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total, note) {
      const t = now();
      if (t - last < everyMs) return;
      last = t;
      const line = progressLine(options.label, done, total, note);
      if (tty) {
        out.write(`\r${line.slice(0, Math.max(20, (out.columns ?? 100) - 1))}\u001b[K`);
        drawn = true;
      } else out.write(`${line}\n`);
    },
    finish(note) {
      if (tty && drawn) out.write("\r\u001b[K");
      out.write(`${options.label}: ${note}\n`);
    },
  };
}
