// Prometheus metrics: one registry per process, passed to every service it runs.
import { Registry, collectDefaultMetrics } from "prom-client";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

export function createRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: "campus_power_process_" });
  return registry;
}

/** Returns the metric already registered under `name`, or registers the one `create` builds. */
export function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** What /metrics serves: one registry, or several joined (`up`'s alerts thread: cli/service-thread.ts). */
export type Exposition = Pick<Registry, "contentType" | "metrics">;

/** `registry`'s metrics followed by `more`'s (Prometheus text; the two must not share a metric name). */
export const joinedExposition = (registry: Registry, more: () => Promise<string>): Exposition => ({
  contentType: registry.contentType,
  async metrics() {
    const [own, extra] = await Promise.all([registry.metrics(), more()]);
    return extra === "" ? own : `${own}${own.endsWith("\n") ? "" : "\n"}${extra}`;
  },
});
