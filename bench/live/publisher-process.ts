// bench:live's publisher, alone in its process: puts `rate` readings/s on campus/internal/readings/+ (what
// the ingest publishes) over two MQTT connections, round-robin over the campus's devices. It publishes by
// elapsed time, not per timer tick, so a late timer is caught up and the achieved rate is the real ceiling
// when the target cannot be met. Each reading carries `sent_at` = Date.now() at publish (also its `ts`):
// the clients compare it with their own Date.now() on receipt (one machine, one clock).
// argv: mqtt url, campus file, rate. Reports {published, cpu} every second.
import { loadCampus } from "../../src/domain/campus.js";
import { internalTopic } from "../../src/domain/topics.js";
import { connectService } from "../../src/infra/mqtt.js";
import { cpuMeter, loopDelayMeter, PASSWORD } from "./common.js";

const [mqttUrl, campusFile, rate] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4])];
const devices = loadCampus(campusFile).devices.map((d) => d.id);
const topics = devices.map((d) => internalTopic.reading(d));
const publishers = await Promise.all([0, 1].map((i) => connectService(mqttUrl, PASSWORD, `bench-pub-${i}`)));
const cpu = cpuMeter();
const loop = loopDelayMeter();
let published = 0;
let next = 0;
let started = 0;
let timer: NodeJS.Timeout | undefined;

function publishDue(): void {
  const due = Math.floor(((performance.now() - started) * rate) / 1000);
  // At most 100 ms worth per turn: a publisher that cannot keep up shows its ceiling, not a burst.
  const count = Math.min(due - published, Math.ceil(rate / 10));
  for (let i = 0; i < count; i++) {
    const k = next++ % devices.length;
    const sentAt = Date.now();
    const payload = `{"device":"${devices[k]}","ts":${sentAt},"values":{"power_w":${500 + (next % 700)},"current_a":2.3,"voltage_v":221,"sent_at":${sentAt}}}`;
    publishers[i % 2]!.publish(topics[k]!, payload, { qos: 0 });
  }
  published += count;
  if (due - published > rate) published = due - rate; // drop a backlog of more than 1 s instead of bursting it
}

process.on("message", (m: { type: string }) => {
  if (m.type === "start") {
    started = performance.now();
    timer = setInterval(publishDue, 5);
  }
  if (m.type === "stop") {
    clearInterval(timer);
    void Promise.all(publishers.map((p) => p.endAsync())).then(() => process.exit(0));
  }
});
setInterval(() => process.send!({ type: "stats", published, cpu: cpu(), ...loop(), at: Date.now() }), 1000);
process.send!({ type: "ready" });
