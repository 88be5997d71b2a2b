// The alerts service's watchdog ticks, counted from its metrics: a negative check ("no digest was sent") waits
// for two more ticks, so every digest due has been looked at, instead of sleeping a fixed time.
import type { Registry } from "../../infra/metrics.js";
import { waitFor } from "./wait.js";

async function ticks(registry: Registry): Promise<number> {
  return Number(/^campus_power_alerts_evaluations_total\{kind="tick"\} (\d+)/m.exec(await registry.metrics())?.[1] ?? 0);
}

/** Waits until the alerts service registered in `registry` has run two more ticks. */
export async function twoTicks(registry: Registry, who = "the alerts service"): Promise<void> {
  const from = await ticks(registry);
  await waitFor(async () => (await ticks(registry)) >= from + 2, 5_000, { what: `two ticks of ${who}` });
}
