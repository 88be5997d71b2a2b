// The API's in-memory view of the campus, fed by the internal stream (docs/architecture.md):
// latest values per device, online/last_seen, open alerts, recent commands. No sockets here: the MQTT
// adapter in index.ts calls applyMessage(), REST routes read it, the live stream listens to its changes.
import { type Alert, AlertSchema, isOpen, withDeviceSite } from "../domain/alert.js";
import { Value } from "@sinclair/typebox/value";
import type { Campus } from "../domain/campus.js";
import { type Command, CommandSchema } from "../domain/command.js";
import { decodeInternalMessage, decodeReadingBatch, parseJsonObject } from "../domain/internal-stream.js";
import type { DeviceEvent, Phase, PhaseValues, Reading, StatusChange, Values } from "../domain/reading.js";
import { type Silence, silenceTopic } from "../domain/silence.js";
import { INTERNAL_FILTERS, internalTopic, parseAlertTopic } from "../domain/topics.js";
import { CommandLog } from "./command-log.js";

const BATCH_PREFIX = INTERNAL_FILTERS.readingBatches.slice(0, -1);

/** Latest known value of every field (merged across readings), plus the latest per-phase values. */
export type LatestValues = Values & { phases?: Partial<Record<Phase, PhaseValues>> };

export interface DeviceLive {
  latest: LatestValues;
  /** Event time of the newest reading applied, epoch ms. */
  ts: number | null;
  online: boolean;
  /** Newest reading or online status, epoch ms; null when never heard of. */
  lastSeen: number | null;
}

export type LiveChange =
  | { type: "reading"; reading: Reading }
  | { type: "status"; device: string; online: boolean; ts: number }
  | { type: "alert"; alert: Alert }
  | { type: "event"; event: DeviceEvent }
  | { type: "command"; command: Command };

export type LiveListener = (change: LiveChange) => void;

export class LiveState {
  private readonly devices = new Map<string, DeviceLive>();
  /** Devices online per site, kept as statuses change: GET /api/sites asks on every poll of every overview. */
  private readonly online = new Map<string, number>();
  /** Open alerts by `device/rule` (one open alert per pair, CONTRACT §5). */
  private readonly alerts = new Map<string, Alert>();
  /** Open alerts per device, kept as they open and close: GET /api/devices shows it for every device. */
  private readonly openPerDevice = new Map<string, number>();
  private readonly listeners = new Set<LiveListener>();
  /** The alerts service's current maintenance windows (retained on `campus/internal/silences`). */
  private silenceList: Silence[] = [];
  /** The commands announced on campus/internal/commands (remote switching, CONTRACT §10). */
  readonly commands = new CommandLog();

  constructor(readonly campus: Campus) {}

  device(id: string): DeviceLive {
    return this.devices.get(id) ?? { latest: {}, ts: null, online: false, lastSeen: null };
  }

  /** How many devices of the site are online. */
  onlineIn(site: string): number {
    return this.online.get(site) ?? 0;
  }

  openAlerts(): Alert[] {
    return [...this.alerts.values()];
  }

  /** How many alerts of the device are open. */
  openAlertsOf(device: string): number {
    return this.openPerDevice.get(device) ?? 0;
  }

  openAlert(id: string): Alert | undefined {
    for (const alert of this.alerts.values()) if (alert.id === id) return alert;
    return undefined;
  }

  /**
   * Forgets the open alerts without announcing anything: called when the MQTT session is re-established,
   * since the broker then re-sends the retained open alerts but not those resolved in between.
   */
  forgetAlerts(): void {
    this.alerts.clear();
    this.openPerDevice.clear();
  }

  onChange(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  silences(): Silence[] {
    return this.silenceList;
  }

  /** The retained list of silences; false when the payload is not a JSON array of objects with an id. */
  applySilences(payload: Buffer | string): boolean {
    let list: unknown;
    try {
      list = JSON.parse(payload.toString());
    } catch {
      return false;
    }
    if (!Array.isArray(list) || !list.every((s) => typeof s === "object" && s !== null && typeof (s as Silence).id === "string")) return false;
    this.silenceList = list as Silence[];
    return true;
  }

  /**
   * Applies one message of the internal stream, `retained` being its RETAIN flag as received; false when it
   * was ignored (unknown topic/device, stale, malformed, a live per-device copy of a batched reading).
   */
  applyMessage(topic: string, payload: Buffer | string, now: number, retained: boolean): boolean {
    if (topic === silenceTopic.list) return payload.length === 0 ? ((this.silenceList = []), true) : this.applySilences(payload);
    if (topic === internalTopic.commands) return this.applyCommand(payload);
    const alertAt = parseAlertTopic(topic);
    if (alertAt !== null) {
      if (payload.length === 0) return this.applyAlert(alertAt.device, alertAt.rule, null, now);
      // A retained alert from before alerts carried `site` (CONTRACT §9) gets its device's.
      const alert = withDeviceSite(parseJsonObject(payload), (device) => this.campus.siteOfDevice.get(device)?.site.id);
      return Value.Check(AlertSchema, alert) ? this.applyAlert(alertAt.device, alertAt.rule, alert, now) : false;
    }
    if (topic.startsWith(BATCH_PREFIX)) return this.applyReadings(decodeReadingBatch(payload).readings);
    const decoded = decodeInternalMessage(topic, payload, retained);
    if (decoded === null || !decoded.ok) return false;
    const message = decoded.message;
    if (message.kind === "reading") return this.applyReading(message.reading);
    if (message.kind === "status") return this.applyStatus(message.status);
    if (message.kind === "event") return this.applyEvent(message.event);
    return false; // an ack request: the alerts service's business
  }

  /** A batch of readings from the ingest, in order; false when none of them changed anything. */
  applyReadings(readings: readonly Reading[]): boolean {
    let applied = false;
    for (const reading of readings) applied = this.applyReading(reading) || applied;
    return applied;
  }

  /** Merges a reading into the device's latest values unless an newer one is already applied. */
  applyReading(reading: Reading): boolean {
    if (!this.campus.deviceById.has(reading.device)) return false;
    const current = this.device(reading.device);
    if (current.ts !== null && reading.ts < current.ts) return false; // a buffered flush of older data
    const latest: LatestValues = { ...current.latest, ...reading.values };
    if (reading.phases) {
      const phases = { ...current.latest.phases };
      for (const [phase, values] of Object.entries(reading.phases)) {
        phases[phase as Phase] = { ...phases[phase as Phase], ...values };
      }
      latest.phases = phases;
    }
    this.devices.set(reading.device, {
      ...current,
      latest,
      ts: reading.ts,
      lastSeen: Math.max(current.lastSeen ?? reading.ts, reading.ts),
    });
    this.emit({ type: "reading", reading });
    return true;
  }

  applyStatus(status: StatusChange): boolean {
    if (!this.campus.deviceById.has(status.device)) return false;
    const current = this.device(status.device);
    const lastSeen = status.online ? Math.max(current.lastSeen ?? status.ts, status.ts) : current.lastSeen;
    const changed = current.online !== status.online;
    this.devices.set(status.device, { ...current, online: status.online, lastSeen });
    if (changed) {
      const site = this.campus.siteOfDevice.get(status.device)!.site.id;
      this.online.set(site, this.onlineIn(site) + (status.online ? 1 : -1));
    }
    if (changed) this.emit({ type: "status", device: status.device, online: status.online, ts: status.ts });
    return changed;
  }

  /** A retained alert (open), or null / a resolved alert for "resolved" (an empty retained payload). */
  applyAlert(device: string, rule: string, alert: Alert | null, now: number): boolean {
    const key = `${device}/${rule}`;
    const previous = this.alerts.get(key);
    if (alert !== null && isOpen(alert)) {
      this.alerts.set(key, alert);
      if (!previous) this.openPerDevice.set(device, this.openAlertsOf(device) + 1);
      this.emit({ type: "alert", alert });
      return true;
    }
    if (!previous && alert === null) return false;
    this.alerts.delete(key);
    if (previous) {
      const left = this.openAlertsOf(device) - 1;
      if (left > 0) this.openPerDevice.set(device, left);
      else this.openPerDevice.delete(device);
    }
    const resolved: Alert = alert ?? { ...previous!, state: "resolved", resolved_at: previous!.resolved_at ?? new Date(now).toISOString() };
    this.emit({ type: "alert", alert: resolved });
    return true;
  }

  applyEvent(event: DeviceEvent): boolean {
    if (!this.campus.deviceById.has(event.device)) return false;
    this.emit({ type: "event", event });
    return true;
  }

  /** A command's change as the alerts service announced it; false when unreadable, of another campus, or older than what is known. */
  applyCommand(payload: Buffer | string): boolean {
    const command = parseJsonObject(payload);
    if (!Value.Check(CommandSchema, command) || !this.campus.deviceById.has(command.device)) return false;
    if (!this.commands.apply(command)) return false;
    this.emit({ type: "command", command });
    return true;
  }

  private emit(change: LiveChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
