// Every bundled scenario against the real stack (broker, ingest, alerts, a real influxd), at high speed:
// the alerts each one declares open (and close) when it says; `no_other_alerts` scenarios raise none.
import { afterEach, describe, expect, it } from "vitest";
import { defaultRules } from "../../alerts/index.js";
import { formatReport } from "../../simulator/check.js";
import { listScenarios, loadScenario, runScenario } from "../../simulator/index.js";
import { createLogger } from "../../infra/logger.js";
import { GROUP_KEY, SERVICE_PASSWORD, type Stack, startStack } from "./simulator-stack.js";

const landed = new Set(defaultRules().map((r) => r.id));
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe("scenarios against the real stack", () => {
  it("bundles every scenario of issue 6", () => {
    expect(listScenarios()).toEqual(["clock-skew", "counter-reset", "flapping", "leakage", "malignant-load", "normal", "offline", "overheat", "overload"]);
  });

  it.each(listScenarios())("%s opens the alerts it declares", async (name) => {
    const { scenario, campus, campusFile } = loadScenario(name);
    const missing = scenario.expect.filter((e) => !landed.has(e.rule)).map((e) => e.rule);
    expect(missing, `rules this scenario expects but the alerts service does not have`).toEqual([]);
    stack = await startStack(campusFile, { alerts: true });
    // The scenario's own speed: its author chose it so that wall-clock latencies (last wills, the
    // watchdog, the pipeline's ~100 ms) stay small in event time.
    const speed = scenario.speed;
    const outcome = await runScenario({ scenario, campus, mqttUrl: stack.mqttUrl, deviceGroupKey: GROUP_KEY, servicePassword: SERVICE_PASSWORD, check: true, speed, log: createLogger("silent"), graceMs: 5_000 });
    expect(outcome.preExisting).toEqual([]);
    expect(outcome.blockedBy).toEqual([]);
    expect(outcome.report!.ok, formatReport(name, outcome.report!, scenario.noOtherAlerts)).toBe(true);
    expect(outcome.published).toBeGreaterThan(0);
  });
});
