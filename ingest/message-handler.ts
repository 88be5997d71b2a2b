// One device message, start to end: decoded (./process-message.ts, pure) into the normalised stream
// (published at once, so live views and rules do not wait for InfluxDB), points for the durable sink, and
// refusals (counted, dead-lettered once per message with its payload, logged once per device a minute).
import { RateLimiter } from "../domain/rate-limiter.js";
import type { DeadLetterLog } from "../infra/dead-letter.js";
import type { Logger } from "../infra/logger.js";
import type { DurableSink } from "./durable-sink.js";
import type { IngestMetrics } from "./metrics.js";
import { processMessage } from "./process-message.js";
import type { Router } from "./routing.js";
import type { InternalStream } from "./stream.js";

export interface MessageHandlerDeps {
  router: Router;
  /** Raw retention, ms: an older device timestamp is not sane. */
  maxAgeMs: number;
  stream: InternalStream;
  sink: Pick<DurableSink, "accept">;
  deadLetters: DeadLetterLog;
  metrics: IngestMetrics;
  log: Logger;
}

/** Returns the handler of one message; its promise resolves once the message's points are durable. */
export function createMessageHandler(deps: MessageHandlerDeps): (topic: string, payload: Buffer) => Promise<void> {
  const { router, stream, sink, deadLetters, metrics, log } = deps;
  const refusalLog = new RateLimiter(60_000);
  // Per device, what its format keeps between messages (Shelly Gen2 status to overlay, active faults).
  const vendorState = new Map<string, unknown>();

  return (topic, payload) => {
    const receivedAt = Date.now();
    const effects = processMessage(router, topic, payload, {
      receivedAt,
      maxAgeMs: deps.maxAgeMs,
      previousState: (key) => vendorState.get(key),
    });
    if (effects.state) vendorState.set(effects.state.key, effects.state.value);
    metrics.messages.inc({ kind: effects.kind, format: effects.format });
    if (effects.readings > 0) metrics.readingsReceived.inc({ format: effects.format }, effects.readings);
    for (const message of effects.publish) stream.push(message);
    const durable = sink.accept(effects.points, effects.format, effects.readings);
    for (const reason of effects.fallbacks) metrics.timestampFallbacks.inc({ reason });
    if (effects.refusals.length > 0) {
      for (const refusal of effects.refusals) metrics.refusals.inc({ code: refusal.code });
      const first = effects.refusals[0]!;
      const reason = effects.refusals.map((r) => r.reason).join("; ");
      // One dead letter per message (its payload once), however many items of a batch were bad.
      deadLetters.append({ t: receivedAt, topic, device: effects.device, code: first.code, reason, payload });
      const decision = refusalLog.check(effects.device ?? topic, receivedAt);
      if (decision.log) log.warn({ device: effects.device, topic, code: first.code, reason: reason.slice(0, 500), suppressed: decision.suppressed }, "refused a message");
    }
    return durable;
  };
}
