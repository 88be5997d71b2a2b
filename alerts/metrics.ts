// Prometheus metrics of the alerts service (prefix campus_power_alerts_). `metric()` reuses a metric
// already registered, so a restarted service in the same process shares the same series.
import { Counter, Gauge, metric, type Registry } from "../infra/metrics.js";

export function createAlertMetrics(registry: Registry) {
  const prefix = "campus_power_alerts_";
  return {
    evaluations: metric(registry, `${prefix}evaluations_total`, () =>
      new Counter({ name: `${prefix}evaluations_total`, help: "Inputs evaluated by the rule engine, by kind", labelNames: ["kind"], registers: [registry] })),
    opened: metric(registry, `${prefix}opened_total`, () =>
      new Counter({ name: `${prefix}opened_total`, help: "Alerts opened, by rule", labelNames: ["rule"], registers: [registry] })),
    resolved: metric(registry, `${prefix}resolved_total`, () =>
      new Counter({ name: `${prefix}resolved_total`, help: "Alerts resolved, by rule", labelNames: ["rule"], registers: [registry] })),
    open: metric(registry, `${prefix}open`, () =>
      new Gauge({ name: `${prefix}open`, help: "Alerts open now, by rule", labelNames: ["rule"], registers: [registry] })),
    acks: metric(registry, `${prefix}ack_requests_total`, () =>
      new Counter({ name: `${prefix}ack_requests_total`, help: "Acknowledgement requests, by result", labelNames: ["result"], registers: [registry] })),
    invalid: metric(registry, `${prefix}invalid_messages_total`, () =>
      new Counter({ name: `${prefix}invalid_messages_total`, help: "Internal messages that could not be decoded, by topic kind", labelNames: ["kind"], registers: [registry] })),
    publishFailures: metric(registry, `${prefix}publish_failures_total`, () =>
      new Counter({ name: `${prefix}publish_failures_total`, help: "MQTT publications of alerts or ack results that failed", registers: [registry] })),
    writeFailures: metric(registry, `${prefix}write_failures_total`, () =>
      new Counter({ name: `${prefix}write_failures_total`, help: "Failed InfluxDB write attempts of alert points", registers: [registry] })),
    deadLettered: metric(registry, `${prefix}dead_lettered_total`, () =>
      new Counter({ name: `${prefix}dead_lettered_total`, help: "Alert points InfluxDB refused as bad data, kept in the dead-letter log", registers: [registry] })),
    droppedPoints: metric(registry, `${prefix}points_dropped_total`, () =>
      new Counter({ name: `${prefix}points_dropped_total`, help: "Alert points dropped unwritten because the queue was full (InfluxDB away too long)", registers: [registry] })),
    pendingWrites: metric(registry, `${prefix}pending_writes`, () =>
      new Gauge({ name: `${prefix}pending_writes`, help: "Alert points waiting for InfluxDB", registers: [registry] })),
    webhookDelivered: metric(registry, `${prefix}webhook_delivered_total`, () =>
      new Counter({ name: `${prefix}webhook_delivered_total`, help: "Webhook messages delivered, by target", labelNames: ["target"], registers: [registry] })),
    webhookFailures: metric(registry, `${prefix}webhook_failures_total`, () =>
      new Counter({ name: `${prefix}webhook_failures_total`, help: "Failed webhook delivery attempts, by target", labelNames: ["target"], registers: [registry] })),
    webhookExpired: metric(registry, `${prefix}webhook_expired_total`, () =>
      new Counter({ name: `${prefix}webhook_expired_total`, help: "Webhook messages dropped undelivered after ALERT_WEBHOOK_EXPIRE", labelNames: ["target"], registers: [registry] })),
    webhookOutbox: metric(registry, `${prefix}webhook_outbox`, () =>
      new Gauge({ name: `${prefix}webhook_outbox`, help: "Webhook messages waiting in the durable outbox", registers: [registry] })),
  };
}

export type AlertMetrics = ReturnType<typeof createAlertMetrics>;

/** The lease's (REDIS_URL only, CONTRACT §12; ./failover.ts): which role this process holds, and its history. */
export function createLeaseMetrics(registry: Registry) {
  const prefix = "campus_power_alerts_";
  return {
    active: metric(registry, `${prefix}active`, () =>
      new Gauge({ name: `${prefix}active`, help: "1 while this alerts process holds the lease and runs, 0 as a standby or once deposed", registers: [registry] })),
    takeovers: metric(registry, `${prefix}takeovers_total`, () =>
      new Counter({ name: `${prefix}takeovers_total`, help: "Times this process took the alerts lease and became the active alerts service", registers: [registry] })),
    renewalFailures: metric(registry, `${prefix}lease_renewal_failures_total`, () =>
      new Counter({ name: `${prefix}lease_renewal_failures_total`, help: "Lease renewals Redis did not answer", registers: [registry] })),
    fencedRefused: metric(registry, `${prefix}fenced_writes_refused_total`, () =>
      new Counter({ name: `${prefix}fenced_writes_refused_total`, help: "Saves of the state refused because another instance took the lease since (fencing token moved on)", registers: [registry] })),
    deposed: metric(registry, `${prefix}stand_downs_total`, () =>
      new Counter({ name: `${prefix}stand_downs_total`, help: "Times this process stood down because its lease was, or may have been, lost", registers: [registry] })),
  };
}

export type LeaseMetrics = ReturnType<typeof createLeaseMetrics>;
