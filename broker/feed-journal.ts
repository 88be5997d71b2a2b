// `up`'s raw journal in front of the in-process feed (./device-feed.ts): a device's publish is appended here
// (group-commit fdatasync, infra/spool) and acknowledged, and the ingest takes it off the device's critical
// path; an entry is retired once the ingest holds its reading durably, in journal order. Same folder and
// record format as the split broker's journal (./journal.ts), so either replays what the other left.
import { existsSync } from "node:fs";
import type { Logger } from "../infra/logger.js";
import { Spool, type SpoolPosition } from "../infra/spool/spool.js";
import { decodeJournalRecord, encodeJournalRecord } from "./journal.js";

export interface JournalEntry {
  end: SpoolPosition;
  done: boolean;
}
type Entry = JournalEntry;

const CHECKPOINT_EVERY_MS = 1_000;

export class FeedJournal {
  private readonly spool: Spool;
  private pending: Entry[] = [];
  private head = 0;
  private lastCheckpoint = 0;
  private checkpointTimer: NodeJS.Timeout | undefined;
  /** What an earlier start left unretired, in order, for the ingest to take first. */
  readonly leftOver: { topic: string; payload: Buffer; entry: Entry }[] = [];

  constructor(dir: string, log: Logger, onCorrupt: (bytes: number) => void) {
    const existed = existsSync(dir);
    this.spool = Spool.open({ dir, maxBytes: 1024 * 1024 * 1024, onCorrupt: (bytes, where) => (onCorrupt(bytes), log.warn({ bytes, where }, "skipped a torn or damaged journal record")) });
    if (!existed) return;
    for (const record of this.spool.read(Number.MAX_SAFE_INTEGER)) {
      const entry = { end: record.end, done: false };
      this.pending.push(entry);
      this.leftOver.push({ ...decodeJournalRecord(record.body), entry });
    }
    if (this.leftOver.length > 0) log.warn({ entries: this.leftOver.length }, "broker journal: handing the ingest what it had not stored before the last stop");
  }

  /** Resolves once the publish is on disk: the device may be acknowledged. */
  async append(topic: string, payload: Buffer): Promise<Entry> {
    const [end] = await this.spool.append([encodeJournalRecord(topic, payload)], Date.now());
    const entry = { end: end!, done: false };
    this.pending.push(entry);
    return entry;
  }

  /** The ingest holds this entry's reading durably: retire it and every done entry before it. */
  retire(entry: Entry): void {
    entry.done = true;
    let last: SpoolPosition | null = null;
    while (this.head < this.pending.length && this.pending[this.head]!.done) last = this.pending[this.head++]!.end;
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    if (!last) return;
    this.spool.commit(last);
    if (Date.now() - this.lastCheckpoint >= CHECKPOINT_EVERY_MS) this.checkpoint();
    else this.checkpointTimer ??= setTimeout(() => this.checkpoint(), CHECKPOINT_EVERY_MS).unref();
  }

  private checkpoint(): void {
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.lastCheckpoint = Date.now();
    this.spool.saveCheckpoint(null);
  }

  async close(): Promise<void> {
    await this.spool.close();
    this.checkpoint();
  }
}
