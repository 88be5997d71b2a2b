// The simulated campus as a stream: every device's reports, in event-time order, on a fixed grid of
// event time. Pure and deterministic — the same campus, seed, start and faults give the same items in
// the same order, byte for byte, however fast or slowly the I/O shell (fleet.ts) consumes them.
// I/O-level faults are items too: `drop` (the device's connection dies, so its last will fires) and
// `restore` (it reconnects and says it is online); clock skew shifts the times a device stamps.
// Commands the devices receive come in through `receive` at the event time they arrived (the shell's
// campus clock); what a device does about one (relay-commands.ts) happens in event-time order with
// everything else, and its answer (relay-answers.ts) comes out of `take` as a report.
// A district (CONTRACT §9) is one model per site: each device reports from its own school's model, in
// that school's time zone and at its nominal voltage.
import type { Campus, Device } from "../domain/campus.js";
import { commandFaultAt, type Fault } from "./faults.js";
import { type OutMessage, reportMessages } from "./messages.js";
import { advanceTo, type CampusModel, createCampusModel, switchRelay } from "./model.js";
import type { OverloadPlan } from "./overload.js";
import { createRng, deriveSeed } from "./random.js";
import { type Answer, answerMessages } from "./relay-answers.js";
import { type Decision, decideCommand, type DeviceAction, parseCommand } from "./relay-commands.js";

export interface StreamOptions {
  campus: Campus;
  /** The devices that report (the whole campus is modelled anyway, so totals hold). */
  devices: readonly Device[];
  seed: number;
  /** Event time of the start, epoch ms. */
  startMs: number;
  faults?: readonly Fault[];
  overload?: OverloadPlan | null;
  /** A device's first report comes within this much event time of the start (default 5 s). */
  firstReportWithinMs?: number;
}

export type StreamItem =
  | { kind: "report"; eventMs: number; device: Device; messages: OutMessage[] }
  | { kind: "drop" | "restore"; eventMs: number; device: Device };

export interface Stream {
  /** Items due at or before `untilMs` of event time, at most `max` of them, in order. */
  take(untilMs: number, max?: number): StreamItem[];
  /** Event time of the next item (Infinity when none is left). */
  nextDueMs(): number;
  /**
   * A message `device` received on its command topic at `atMs` of event time (not before the items
   * already taken). Whatever the device does about it is due then (or later, when it is slow) and
   * comes out of `take`; the decision says what that will be.
   */
  receive(device: Device, payload: string, atMs: number): Decision;
}

interface Entry {
  dueMs: number;
  order: number;
  kind: StreamItem["kind"] | "act";
  device: Device;
  index: number;
  /** kind "act": what the device does about a command. */
  action?: DeviceAction;
}

const STEP_MS = 1_000;

export function createStream(options: StreamOptions): Stream {
  const faults = options.faults ?? [];
  const models = new Map<string, CampusModel>();
  for (const site of options.campus.sites) {
    models.set(site.site.id, createCampusModel(site, { seed: options.seed, startMs: options.startMs, stepMs: STEP_MS, faults, overload: options.overload ?? null }));
  }
  const modelOf = (device: Device) => models.get(device.site)!;
  const rng = createRng(deriveSeed(options.seed, "schedule"));
  const firstWithin = options.firstReportWithinMs ?? 5_000;
  const grid = (ms: number) => Math.max(STEP_MS, Math.round(ms / STEP_MS) * STEP_MS);
  const offline = offlineWindows(options.campus, faults);
  const skews = new Map<string, Fault[]>();
  for (const fault of faults) if (fault.type === "clock-skew") skews.set(fault.device, [...(skews.get(fault.device) ?? []), fault]);

  const heap = new MinHeap<Entry>((a, b) => a.dueMs - b.dueMs || a.order - b.order);
  let order = 0;
  const firstReport = new Set<number>();
  const indexOf = new Map<string, number>();
  options.devices.forEach((device, index) => {
    indexOf.set(device.id, index);
    const within = Math.min(device.report_interval_s * 1000, firstWithin);
    // A device reports soon after it connects, at a seeded moment of the first few seconds, so a
    // building's devices do not all report in the same instant.
    heap.push({ dueMs: options.startMs + Math.floor((rng() * within) / STEP_MS) * STEP_MS, order: order++, kind: "report", device, index });
    firstReport.add(index);
    for (const window of offline.get(device.id) ?? []) {
      heap.push({ dueMs: options.startMs + grid(window.fromMs), order: order++, kind: "drop", device, index });
      if (Number.isFinite(window.toMs)) heap.push({ dueMs: options.startMs + grid(window.toMs), order: order++, kind: "restore", device, index });
    }
  });

  const isOffline = (device: Device, sinceStartMs: number) =>
    (offline.get(device.id) ?? []).some((w) => sinceStartMs >= grid(w.fromMs) && sinceStartMs < (Number.isFinite(w.toMs) ? grid(w.toMs) : Infinity));
  const skewAt = (device: Device, sinceStartMs: number) =>
    (skews.get(device.id) ?? []).reduce((sum, f) => (sinceStartMs >= f.atMs && sinceStartMs < f.atMs + f.forMs ? sum + f.value : sum), 0);

  /** Does what the device decided, at the model's current time, and returns its answer. */
  const carryOut = (device: Device, action: DeviceAction, skewMs: number): OutMessage[] => {
    let answer: Answer;
    if (action.kind === "reject") answer = { kind: "rejected", error: action.error };
    else if (action.kind === "refuse") answer = { kind: "refused", request: action.request, why: action.why };
    else {
      const { intent } = action.request;
      const wasOn = modelOf(device).byId.get(device.id)!.relayOn;
      if (intent !== "query") switchRelay(modelOf(device), device.id, intent === "toggle" ? !wasOn : intent === "on");
      answer = { kind: "switched", request: action.request, wasOn };
    }
    return answerMessages(modelOf(device), device, answer, skewMs);
  };

  return {
    nextDueMs: () => heap.peek()?.dueMs ?? Infinity,
    receive(device, payload, atMs) {
      const index = indexOf.get(device.id);
      if (index === undefined) throw new Error(`"${device.id}" is not a device of this stream`);
      const since = atMs - options.startMs;
      const decision = decideCommand(parseCommand(device.format, payload), commandFaultAt(modelOf(device).byId.get(device.id)!.faults, since), atMs + skewAt(device, since));
      const action = decision.action;
      if (action) heap.push({ dueMs: atMs + action.afterMs, order: order++, kind: "act", device, index, action });
      return decision;
    },
    take(untilMs, max = Infinity) {
      const items: StreamItem[] = [];
      while (items.length < max) {
        const top = heap.peek();
        if (!top || top.dueMs > untilMs) break;
        heap.pop();
        advanceTo(modelOf(top.device), top.dueMs);
        const since = top.dueMs - options.startMs;
        if (top.kind === "act") {
          // A device without power (offline fault) forgets what it was about to do.
          const messages = isOffline(top.device, since) ? [] : carryOut(top.device, top.action!, skewAt(top.device, since));
          if (messages.length > 0) items.push({ kind: "report", eventMs: top.dueMs, device: top.device, messages });
          continue;
        }
        if (top.kind !== "report") {
          items.push({ kind: top.kind, eventMs: top.dueMs, device: top.device });
          if (top.kind === "restore") firstReport.add(top.index);
          continue;
        }
        heap.push({ ...top, dueMs: top.dueMs + grid(top.device.report_interval_s * 1000), order: order++ });
        if (isOffline(top.device, since)) continue; // a dead device sends nothing
        const first = firstReport.delete(top.index);
        items.push({ kind: "report", eventMs: top.dueMs, device: top.device, messages: reportMessages(modelOf(top.device), top.device, skewAt(top.device, since), first) });
      }
      return items;
    },
  };
}

/** Per device, the event-time windows (from the start) in which it is offline: its own and its feeder's. */
export function offlineWindows(campus: Campus, faults: readonly Fault[]): Map<string, { fromMs: number; toMs: number }[]> {
  const children = new Map<string, string[]>();
  for (const device of campus.devices) if (device.parent) children.set(device.parent, [...(children.get(device.parent) ?? []), device.id]);
  const windows = new Map<string, { fromMs: number; toMs: number }[]>();
  for (const fault of faults) {
    if (fault.type !== "offline") continue;
    const stack = [fault.device];
    while (stack.length > 0) {
      const id = stack.pop()!;
      windows.set(id, [...(windows.get(id) ?? []), { fromMs: fault.atMs, toMs: fault.atMs + fault.forMs }]);
      stack.push(...(children.get(id) ?? []));
    }
  }
  return windows;
}

/** A small binary min-heap (10,000 devices' next reports). */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l]!, items[m]!) < 0) m = l;
        if (r < items.length && this.less(items[r]!, items[m]!) < 0) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}
