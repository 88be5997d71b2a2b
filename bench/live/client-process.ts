// bench:live's WebSocket clients: one worker process holds a share of them (the load generator is spread
// over several processes, so one event loop's lag does not become the measured latency). Every client
// subscribes to the whole campus in batch frames (the dashboard's mode). Each reading is scanned (no
// JSON.parse) for its device and `sent_at` and two latencies are recorded:
//   raw = receive time − sent_at (publish time);
//   due = receive time − max(sent_at, previous delivered sent_at of that device + interval): the time
//         since the coalescer was allowed to send this device again; a reading held back by coalescing
//         is not counted as late for the wait the interval imposes (it still is in `raw`).
// argv: ws url, clients in this worker, how many of them freeze, coalescing interval ms.
import WebSocket from "ws";
import { cpuMeter, loopDelayMeter, newHistogram, record, TOKEN } from "./common.js";

const [url, count, frozenCount, intervalMs] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const DEVICE = Buffer.from('"device":"');
const SENT_AT = Buffer.from('"sent_at":');
const QUOTE = 0x22;

interface PhaseResult {
  raw: number[];
  due: number[];
  delivered: number;
}
const results = new Map<string, PhaseResult>();
let phase: PhaseResult | null = null;
const cpu = cpuMeter();
const loop = loopDelayMeter();
let closed = 0;

function scan(data: Buffer, lastSent: Map<string, number>, now: number, into: PhaseResult | null): void {
  for (let at = data.indexOf(DEVICE); at !== -1; at = data.indexOf(DEVICE, at + 1)) {
    const start = at + DEVICE.length;
    const end = data.indexOf(QUOTE, start);
    const s = data.indexOf(SENT_AT, end);
    if (s === -1) continue; // a status or alert message: no sent_at
    let sentAt = 0;
    for (let i = s + SENT_AT.length; data[i]! >= 0x30 && data[i]! <= 0x39; i++) sentAt = sentAt * 10 + data[i]! - 0x30;
    const device = data.toString("latin1", start, end);
    const previous = lastSent.get(device);
    lastSent.set(device, sentAt);
    if (into === null) continue;
    into.delivered++;
    record(into.raw, now - sentAt);
    record(into.due, now - Math.max(sentAt, previous === undefined ? 0 : previous + intervalMs));
  }
}

const sockets: WebSocket[] = [];
for (let i = 0; i < count; i++) {
  const socket = new WebSocket(`${url}/api/live?token=${TOKEN}`);
  const lastSent = new Map<string, number>();
  socket.on("open", () => socket.send(JSON.stringify({ type: "subscribe", batch: true })));
  socket.on("message", (data: Buffer) => {
    scan(data, lastSent, Date.now(), phase);
  });
  socket.on("close", () => closed++);
  socket.on("error", () => undefined);
  sockets.push(socket);
}

process.on("message", (m: { type: string; name?: string }) => {
  if (m.type === "phase") {
    phase = m.name ? (results.get(m.name) ?? { raw: newHistogram(), due: newHistogram(), delivered: 0 }) : null;
    if (m.name) results.set(m.name, phase!);
  }
  // A frozen client stops reading its socket: the kernel buffers fill, then the server's bufferedAmount.
  if (m.type === "freeze") for (const socket of sockets.slice(0, frozenCount)) (socket as unknown as { _socket: { pause(): void } })._socket.pause();
  if (m.type === "report") process.send!({ type: "report", results: Object.fromEntries(results), open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length });
  if (m.type === "stop") {
    for (const socket of sockets) socket.terminate();
    setTimeout(() => process.exit(0), 100);
  }
});
setInterval(() => process.send!({ type: "stats", cpu: cpu(), ...loop(), closed, at: Date.now() }), 1000);
const opened = await Promise.all(sockets.map((s) => new Promise((resolve) => (s.readyState === WebSocket.OPEN ? resolve(true) : s.once("open", () => resolve(true))))));
process.send!({ type: "ready", opened: opened.length });
