// bench:live's publisher, alone in its process: `rate` readings/s round-robin over the campus's devices, as
// the ingest publishes them: JSON arrays on campus/internal/readings-batch/{source} at QoS 1, flushed every
// 20 ms (the ingest's bound: ≤ 20 ms or 1,000 readings), one source per connection. (Consumers apply a
// per-device reading only as a retained starting state, so there is no one-message-per-reading mode.)
// It makes readings by elapsed time, not per timer tick, so a late timer is caught up and the achieved rate
// is the real ceiling when the target cannot be met. Each reading carries `sent_at` = Date.now() when it is
// made (also its `ts`; the wait in a batch counts): the clients compare it with their own Date.now() on
// receipt (one machine, one clock).
// argv: mqtt url, campus file, rate. Reports {published, cpu, event-loop delay} every second.
import { loadCampus } from "../../infra/campus-file.js";
import { internalTopic } from "../../domain/topics.js";
import { connectService } from "../../infra/mqtt.js";
import { cpuMeter, loopDelayMeter, PASSWORD } from "./common.js";

const [mqttUrl, campusFile, rate] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4])];
const devices = loadCampus(campusFile).devices.map((d) => d.id);
const publishers = await Promise.all([0, 1].map((i) => connectService(mqttUrl, PASSWORD, `bench-pub-${i}`)));
const cpu = cpuMeter();
const loop = loopDelayMeter();
let published = 0;
let next = 0;
let started = 0;
let timer: NodeJS.Timeout | undefined;
let flusher: NodeJS.Timeout | undefined;
const batches: string[][] = [[], []];
const batchTopics = [0, 1].map((i) => internalTopic.readingBatch(`bench-ingest-${i}`));

function flush(): void {
  for (let i = 0; i < 2; i++) {
    if (batches[i]!.length === 0) continue;
    publishers[i]!.publish(batchTopics[i]!, `[${batches[i]!.join(",")}]`, { qos: 1 });
    batches[i] = [];
  }
}

function publishDue(): void {
  const due = Math.floor(((performance.now() - started) * rate) / 1000);
  // At most 100 ms worth per turn: a publisher that cannot keep up shows its ceiling, not a burst.
  const count = Math.min(due - published, Math.ceil(rate / 10));
  for (let i = 0; i < count; i++) {
    const k = next++ % devices.length;
    const sentAt = Date.now();
    const payload = `{"device":"${devices[k]}","ts":${sentAt},"values":{"power_w":${500 + (next % 700)},"current_a":2.3,"voltage_v":221,"sent_at":${sentAt}}}`;
    batches[i % 2]!.push(payload);
  }
  published += count;
  if (due - published > rate) published = due - rate; // drop a backlog of more than 1 s instead of bursting it
}

process.on("message", (m: { type: string }) => {
  if (m.type === "start") {
    started = performance.now();
    timer = setInterval(publishDue, 5);
    flusher = setInterval(flush, 20);
  }
  if (m.type === "stop") {
    clearInterval(timer);
    clearInterval(flusher);
    void Promise.all(publishers.map((p) => p.endAsync())).then(() => process.exit(0));
  }
});
setInterval(() => process.send!({ type: "stats", published, cpu: cpu(), ...loop(), at: Date.now() }), 1000);
process.send!({ type: "ready" });
