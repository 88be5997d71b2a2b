// What the engine's effects do in the world (the alerts service's adapter): ack and silence answers, the
// retained alert topic (CONTRACT §3, §5), `alert` points in InfluxDB (§4), notifications, metrics and a log
// line. An alert that opens may first switch its room off (the dormitory power rule, CONTRACT §10): it
// is then published already carrying that command's id.
import type { Alert } from "../domain/alert.js";
import { silenceTopic } from "../domain/silence.js";
import { alertTopic, internalTopic } from "../domain/topics.js";
import type { Logger } from "../infra/logger.js";
import type { AlertMetrics } from "./metrics.js";
import type { Notifier } from "./notify/index.js";
import type { Effect } from "./types.js";
import { alertLine } from "./writer.js";

export interface EffectDeps {
  /** QoS 1 publication by the service's MQTT client. */
  publish(topic: string, payload: string, retain: boolean): void;
  /** Queues an InfluxDB line. */
  write(line: string): void;
  notifier(): Notifier | null;
  metrics: AlertMetrics;
  log: Logger;
  /** Every alert as it is published (benches measure latency with it). */
  onAlert?: (alert: Alert) => void;
  /** An alert opened: the id of the command it made (the power rule's cut-off), or null. */
  opened(alert: Alert): string | null;
  /** The engine state must show the alert with its command from now on. */
  link(alert: Alert, commandId: string): void;
}

/** Performs one effect; the caller keeps them in order (index.ts does them in slices: ./slices.ts). */
export function createEffectPerformer(d: EffectDeps): (effect: Effect) => void {
  const { publish, metrics } = d;
  // Open alerts the power rule made a command for: an effect built before the link (later in the same batch,
  // or in a batch evaluated while this one waited for its save or its slice) still carries the command.
  const linked = new Map<string, string>();
  return (effect) => {
    if (effect.type === "ack-result") {
      metrics.acks.inc({ result: effect.reply.ok ? "ok" : effect.reply.code });
      publish(internalTopic.ackResult(effect.requestId), JSON.stringify(effect.reply), false);
      return;
    }
    if (effect.type === "silence-result") {
      publish(silenceTopic.result(effect.requestId), JSON.stringify(effect.result), false);
      return;
    }
    if (effect.type === "silences") {
      publish(silenceTopic.list, JSON.stringify(effect.silences), true);
      return;
    }
    const { change, at } = effect;
    let alert = effect.alert;
    if (change === "opened") {
      const commandId = d.opened(alert);
      if (commandId !== null) {
        linked.set(alert.id, commandId);
        d.link(alert, commandId);
      }
    }
    const commandId = linked.get(alert.id);
    if (commandId !== undefined && alert.command_id === undefined) alert = { ...alert, command_id: commandId };
    if (change === "resolved") linked.delete(alert.id);
    const topic = alertTopic(alert.device, alert.rule);
    if (change === "resolved") {
      // Live subscribers learn the final state, then the empty retained payload clears the topic.
      publish(topic, JSON.stringify(alert), false);
      publish(topic, "", true);
      metrics.resolved.inc({ rule: alert.rule });
      metrics.open.dec({ rule: alert.rule });
    } else {
      publish(topic, JSON.stringify(alert), true);
      if (change === "opened") {
        metrics.opened.inc({ rule: alert.rule });
        metrics.open.inc({ rule: alert.rule });
      }
    }
    d.write(alertLine(alert, at, effect.byAck === true));
    d.notifier()?.change(change, alert);
    d.onAlert?.(alert);
    d.log.info({ alert: alert.id, change, severity: alert.severity, state: alert.state }, alert.message);
  };
}
