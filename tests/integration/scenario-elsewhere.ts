// One bundled scenario on a campus it was not written for, against the real stack (broker, ingest, alerts,
// API, a real influxd), shared by scenario-school.test.ts and scenario-district.test.ts: it picks its
// devices there by what they are, passes its own check, and every alert and command it checked is about
// a device it picked. lights-out-schedule meets the picked schedule, put at the coming minute
// (./scenario-config.ts), on a stack clock just before it, as scenario.test.ts does on its own campus.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { expect } from "vitest";
import type { RunningService } from "../../infra/service.js";
import { loadScenario } from "../../simulator/index.js";
import { copyDemoConfig } from "./scenario-config.js";
import { runChecked, startScenarioStack } from "./scenario-stack.js";

const MINUTE = 60_000;
/** Wall time from the stack's start to the schedule's minute, on the stack's clock, ms. */
const SCHEDULE_LEAD_MS = 10_000;

/** Runs scenario `name` on `file` (a path under config/) and checks it; services go on `running`. */
export async function runElsewhere(name: string, file: string, running: Pick<RunningService, "stop">[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `campus-scenario-${name}-`));
  try {
    const meets = name === "lights-out-schedule";
    const minute = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const offset = meets ? minute - SCHEDULE_LEAD_MS - Date.now() : 0;
    const now = () => Date.now() + offset;
    // Which schedule it would meet is known only once picked: pick on the file as is, then move that one.
    const picked = meets ? loadScenario(name, file).picked.find((p) => p.of === "schedule") : undefined;
    const schedule = picked?.of === "schedule" ? picked : undefined;
    copyDemoConfig(dir, schedule ? { schedule: schedule.schedule.id, atMs: minute } : undefined);
    const copied = join(dir, file.replace(/^config\//, ""));
    const loaded = loadScenario(name, copied);
    const stack = await startScenarioStack(copied, now, running);
    const { outcome, report } = await runChecked(loaded, stack, now);
    expect(outcome.preExisting, report).toEqual([]);
    expect(outcome.ok, `${name} on ${basename(file)}:\n${report}`).toBe(true);
    expect(outcome.published).toBeGreaterThan(0);
    const devices = new Set(loaded.picked.flatMap((p) => (p.of === "device" ? p.devices : p.targets).map((d) => d.id)));
    const about = [...outcome.report!.outcomes.map((o) => o.expectation.device), ...outcome.commands.map((c) => c.device)];
    expect(about.filter((device) => !devices.has(device))).toEqual([]);
    // The schedule met: one confirmed command for each device it switches.
    if (meets) expect(outcome.commands.map((c) => c.device).sort()).toEqual(schedule!.targets.map((d) => d.id).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
