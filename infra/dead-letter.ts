// The dead-letter log: one NDJSON line per refused message (CONTRACT §3 "kept in the dead-letter log
// with the reason") or point InfluxDB refused (the ingest's and the alerts service's), under
// `${DATA_DIR}/dead-letter/`, one file per UTC day.
// Line: {t, topic, device, code, reason, payload} with payload as UTF-8 text or {base64} (the same
// convention as `campus-power record`, CONTRACT §7), cut to `maxPayloadBytes` with `truncated` and
// `payload_bytes` telling the original size. Points InfluxDB refused have topic null and their line protocol as payload.
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes } from "../domain/errors.js";

export interface DeadLetter {
  /** When it was refused, epoch ms. */
  t: number;
  topic: string | null;
  device: string | null;
  code: string;
  reason: string;
  payload: Buffer | string;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Buffer): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/** The NDJSON line of one dead letter (without the newline). Pure. */
export function deadLetterLine(entry: DeadLetter, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): string {
  const bytes = typeof entry.payload === "string" ? Buffer.from(entry.payload, "utf8") : entry.payload;
  const truncated = bytes.length > maxPayloadBytes;
  let kept = truncated ? bytes.subarray(0, maxPayloadBytes) : bytes;
  let text = decodeUtf8(kept);
  // A cut may split a multi-byte character (UTF-8 sequences are at most 4 bytes): step back up to 3 bytes.
  for (let back = 1; text === null && truncated && back <= 3; back++) {
    text = decodeUtf8(bytes.subarray(0, maxPayloadBytes - back));
    if (text !== null) kept = bytes.subarray(0, maxPayloadBytes - back);
  }
  const payload = text ?? { base64: kept.toString("base64") };
  const line: Record<string, unknown> = {
    t: entry.t,
    topic: entry.topic,
    device: entry.device,
    code: entry.code,
    reason: entry.reason,
    payload,
  };
  if (truncated) {
    line.truncated = true;
    line.payload_bytes = bytes.length;
  }
  return JSON.stringify(line);
}

/** The dead letter of a line-protocol point InfluxDB refused (HTTP 400); its `device` tag, if any, names the device. */
export function refusedPointLetter(line: string, reason: string, t: number): DeadLetter {
  const device = /[, ]device=((?:\\.|[^,\s\\])+)/.exec(line)?.[1] ?? null;
  return { t, topic: null, device, code: ErrorCodes.INFLUX_REJECTED, reason, payload: line };
}

export const deadLetterFile = (dir: string, t: number) => join(dir, `${new Date(t).toISOString().slice(0, 10)}.ndjson`);

export interface DeadLetterLogOptions {
  maxPayloadBytes?: number;
  /** Lines waiting for the disk beyond this are dropped (a flood of garbage must not eat memory). */
  maxPendingLines?: number;
  onDropped?(count: number): void;
  onError?(error: unknown): void;
}

/** Appends dead letters with one write in flight at a time; lines queued meanwhile go in the next write. */
export class DeadLetterLog {
  private pending: { file: string; line: string }[] = [];
  private writing: Promise<void> | null = null;
  private madeDir: Promise<unknown> | null = null;

  constructor(
    readonly dir: string,
    private readonly options: DeadLetterLogOptions = {},
  ) {}

  append(entry: DeadLetter): void {
    if (this.pending.length >= (this.options.maxPendingLines ?? 10_000)) {
      this.options.onDropped?.(1);
      return;
    }
    this.pending.push({ file: deadLetterFile(this.dir, entry.t), line: deadLetterLine(entry, this.options.maxPayloadBytes) });
    this.drain();
  }

  /** Resolves once every line appended so far is on disk (or failed and was reported). */
  async flush(): Promise<void> {
    while (this.writing || this.pending.length > 0) {
      this.drain();
      await this.writing;
    }
  }

  private drain(): void {
    if (this.writing || this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.writing = this.writeLines(lines).finally(() => {
      this.writing = null;
      this.drain();
    });
  }

  private async writeLines(lines: { file: string; line: string }[]): Promise<void> {
    try {
      this.madeDir ??= mkdir(this.dir, { recursive: true });
      await this.madeDir;
      const byFile = new Map<string, string[]>();
      for (const { file, line } of lines) {
        const list = byFile.get(file);
        if (list) list.push(line);
        else byFile.set(file, [line]);
      }
      for (const [file, fileLines] of byFile) await appendFile(file, fileLines.join("\n") + "\n", "utf8");
    } catch (error) {
      this.madeDir = null;
      this.options.onError?.(error);
    }
  }
}
