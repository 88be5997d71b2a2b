// Prometheus metrics of remote switching (docs/commands.md "Watching it"). `metric()` reuses a metric
// already registered, so a restarted service in the same process shares the same series.
import { Counter, Gauge, metric, type Registry } from "../../infra/metrics.js";

export function createCommandMetrics(registry: Registry) {
  return {
    changes: metric(registry, "campus_power_commands_total", () =>
      new Counter({ name: "campus_power_commands_total", help: "Command state changes, by action and the state reached", labelNames: ["action", "state"], registers: [registry] })),
    inFlight: metric(registry, "campus_power_commands_in_flight", () =>
      new Gauge({ name: "campus_power_commands_in_flight", help: "Commands sent and waiting for the device's report", registers: [registry] })),
    selected: metric(registry, "campus_power_commands_selected", () =>
      new Gauge({ name: "campus_power_commands_selected", help: "Commands selected and not yet operated, cancelled or expired", registers: [registry] })),
    requests: metric(registry, "campus_power_command_requests_total", () =>
      new Counter({ name: "campus_power_command_requests_total", help: "Select, operate and cancel requests, by step and result (ok or the refusal code)", labelNames: ["step", "result"], registers: [registry] })),
    ignored: metric(registry, "campus_power_command_reports_ignored_total", () =>
      new Counter({ name: "campus_power_command_reports_ignored_total", help: "Answers that changed no command (unknown command or RPC id, late, another device's) and requests handled too late, by reason", labelNames: ["reason"], registers: [registry] })),
    invalid: metric(registry, "campus_power_command_messages_invalid_total", () =>
      new Counter({ name: "campus_power_command_messages_invalid_total", help: "Command requests and relay reports that could not be decoded, by kind", labelNames: ["kind"], registers: [registry] })),
  };
}

export type CommandMetrics = ReturnType<typeof createCommandMetrics>;
