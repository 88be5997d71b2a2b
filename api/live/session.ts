// One live client's session: its seq counter, subscription, coalescing interval, frame mode, resume
// ring and slow-client outbox. A session outlives its socket for a short window so that a client
// that reconnects can resume after its last seq (hub.ts keeps detached sessions).
import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";
import { encodeBatch, headOf } from "./batch-frame.js";
import type { LiveOptions } from "./options.js";
import { checkPressure, Outbox, type Pressure } from "./outbox.js";
import type { Scope } from "../scope.js";
import type { LiveMessage } from "./protocol.js";
import { ResumeRing } from "./resume-ring.js";

const OPEN = 1;

/** A message serialized once for every session (without `seq`), with what filters need. */
export interface Prepared {
  message: LiveMessage;
  json: string;
  /** `json`'s UTF-8 without the closing brace, made once for all batch sessions (batch-frame.ts). */
  head?: Buffer;
  device?: string;
  building?: string;
  /** The site it is about: only sessions whose scope holds it get it (CONTRACT §9). */
  site?: string;
}

export interface SessionEvents {
  /** Buffered messages replaced by a newer one (slow client). */
  coalesced(count: number): void;
  /** The socket was terminated because the client stopped reading. */
  terminated(buffered: number): void;
}

/** Adds the per-session `seq` to a serialized message object. */
export const withSeq = (json: string, seq: number) => `${json.slice(0, -1)},"seq":${seq}}`;

export class LiveSession {
  readonly id = randomBytes(12).toString("base64url");
  seq = 0;
  buildings = new Set<string>();
  devices = new Set<string>();
  /** Send a tick's messages as one `{"type":"batch","messages":[...]}` frame (opt-in extension). */
  batch = false;
  socket: WebSocket | null = null;
  detachedAt: number | null = null;
  private readonly ring: ResumeRing;
  private readonly outbox: Outbox;
  private pressure: Pressure = { aboveSoftSince: null, aboveHardSince: null };
  /** The tick's batch: message heads and seqs (-1 = an already numbered frame), reused between ticks. */
  private readonly batchHeads: (Buffer | undefined)[] = [];
  private readonly batchSeqs: number[] = [];
  private batchCount = 0;

  constructor(
    /** Who owns it: only the same principal, with the same scope, may resume it. */
    readonly owner: string,
    /** What its principal may see: nothing of another site reaches it, whatever it subscribes to. */
    readonly scope: Scope,
    public intervalMs: number,
    private readonly options: LiveOptions,
    private readonly events: SessionEvents,
  ) {
    this.ring = new ResumeRing({ maxMessages: options.resumeMaxMessages, maxBytes: options.resumeMaxBytes, maxAgeMs: options.resumeWindowMs });
    this.outbox = new Outbox(options.maxEvents);
  }

  wants(device: string | undefined, building: string | undefined): boolean {
    if (this.buildings.size === 0 && this.devices.size === 0) return true;
    return (device !== undefined && this.devices.has(device)) || (building !== undefined && this.buildings.has(building));
  }

  /** Queues or sends one message of its principal's sites; detached sessions only remember it for a resume. */
  deliver(prepared: Prepared, now: number): void {
    if (!this.scope.sees(prepared.site) || !this.wants(prepared.device, prepared.building)) return;
    const socket = this.socket;
    if (socket === null) return this.emit(prepared, now);
    if (socket.readyState !== OPEN) return;
    if (this.outbox.size === 0 && socket.bufferedAmount <= this.options.softLimitBytes) return this.emit(prepared, now);
    const before = this.outbox.coalesced;
    this.outbox.offer(prepared.message);
    this.events.coalesced(this.outbox.coalesced - before);
  }

  /** Sends a message regardless of the filter (snapshots, replies). */
  sendDirect(message: LiveMessage, now: number): void {
    this.emit({ json: JSON.stringify(message) }, now);
  }

  private emit(prepared: { json: string; head?: Buffer }, now: number): void {
    this.seq += 1;
    // The ring keeps the message shared by all sessions, not this frame: a resume re-adds the seq.
    this.ring.push(this.seq, prepared.json, now);
    if (this.socket === null || this.socket.readyState !== OPEN) return;
    if (this.batch) this.addToBatch((prepared.head ??= headOf(prepared.json)), this.seq);
    else this.socket.send(withSeq(prepared.json, this.seq));
  }

  private addToBatch(head: Buffer, seq: number): void {
    this.batchHeads[this.batchCount] = head;
    this.batchSeqs[this.batchCount] = seq;
    this.batchCount++;
  }

  private clearBatch(): void {
    this.batchHeads.fill(undefined, 0, this.batchCount); // let the heads be collected
    this.batchCount = 0;
  }

  /** Called every tick: sends the batch, drains the outbox when the socket has room, or terminates a stuck client. */
  tick(now: number): void {
    const socket = this.socket;
    if (socket === null) return;
    if (this.outbox.size > 0) {
      const { action, pressure } = checkPressure(this.pressure, socket.bufferedAmount, now, this.options);
      this.pressure = pressure;
      if (action === "terminate") {
        this.events.terminated(socket.bufferedAmount);
        socket.terminate();
        return;
      }
      if (action === "send") for (const message of this.outbox.drain()) this.emit({ json: JSON.stringify(message) }, now);
    }
    if (this.batchCount > 0 && socket.readyState === OPEN) {
      // One Buffer per session and tick; `binary: false` keeps it a text frame.
      socket.send(encodeBatch(this.batchHeads, this.batchSeqs, this.batchCount), { binary: false });
      this.clearBatch();
    }
  }

  attach(socket: WebSocket): void {
    this.socket = socket;
    this.detachedAt = null;
    this.pressure = { aboveSoftSince: null, aboveHardSince: null };
  }

  /** The socket is gone: what waited in the outbox gets its seq now, so a resume can replay it. */
  detach(now: number): void {
    this.socket = null;
    this.detachedAt = now;
    this.clearBatch();
    for (const message of this.outbox.drain()) this.emit({ json: JSON.stringify(message) }, now);
  }

  /** Frames after `afterSeq` for a resuming client, or null when the gap cannot be filled. */
  replay(afterSeq: number): string[] | null {
    const entries = this.ring.replay(afterSeq, this.seq);
    return entries === null ? null : entries.map(([seq, json]) => withSeq(json, seq));
  }

  /** Sends already-numbered frames (a resume) through the normal path. */
  resend(frames: string[]): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== OPEN) return;
    if (this.batch) for (const frame of frames) this.addToBatch(Buffer.from(frame), -1);
    else for (const frame of frames) socket.send(frame);
  }
}
