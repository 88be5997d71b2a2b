// Bundled scenarios on campuses they were not written for (issue 12 item 8): each picks its devices on the
// demo campus and on the demo district by what they are, runs against the real stack (broker, ingest,
// alerts, API, a real influxd) and passes its own check on the devices it picked; `scenario run` prints
// them. A campus without what a scenario needs is refused, naming it, before any device connects.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "../../infra/service.js";
import { issuedByMatches } from "../../simulator/scenario-commands.js";
import { type LoadedScenario, loadScenario } from "../../simulator/index.js";
import { runCli, startCli } from "../helpers/cli.js";
import { copyDemoConfig } from "./scenario-config.js";
import { COMMAND_TIMEOUT_S, runChecked, startScenarioStack } from "./scenario-stack.js";
import { GROUP_KEY, SERVICE_PASSWORD } from "./simulator-stack.js";

let dir: string;
let running: Pick<RunningService, "stop">[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "campus-scenario-any-"));
  copyDemoConfig(dir); // every schedule twelve hours from now
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const service of running.reverse()) await service.stop();
  running = [];
});

/** The one device a pick took. */
function pickedDevice(loaded: LoadedScenario, name: string): string {
  const pick = loaded.picked.find((p) => p.name === name);
  if (pick?.of !== "device" || pick.devices.length !== 1) throw new Error(`$${name} picked no single device`);
  return pick.devices[0]!.id;
}

describe("bundled scenarios on the demo campus and the demo district, against the real stack", () => {
  it.each(["demo-campus.yaml", "demo-district.yaml"])("overload warns on the room it picked on %s", { timeout: 90_000 }, async (file) => {
    const loaded = loadScenario("overload", join(dir, file));
    const room = pickedDevice(loaded, "room");
    expect(loaded.campus.deviceById.get(room)).toMatchObject({ kind: "breaker", phases: 1 });
    const stack = await startScenarioStack(loaded.campusFile, Date.now, running);
    const { outcome, report } = await runChecked(loaded, stack);
    expect(outcome.ok, report).toBe(true);
    // Every expectation it checked is on the room it picked, and the room's overload and predicted-trip are among them.
    const checked = outcome.report!.outcomes.map((o) => `${o.expectation.rule} ${o.expectation.device}`);
    expect(checked).toEqual(expect.arrayContaining([`overload ${room}`, `predicted-trip ${room}`]));
    expect(new Set(outcome.report!.outcomes.map((o) => o.expectation.device))).toEqual(new Set([room]));
  });

  it.each(["demo-campus.yaml", "demo-district.yaml"])("remote-switch-off switches, times out, fails and is refused on the devices it picked on %s", { timeout: 90_000 }, async (file) => {
    const loaded = loadScenario("remote-switch-off", join(dir, file));
    const stack = await startScenarioStack(loaded.campusFile, Date.now, running);
    const { outcome, report } = await runChecked(loaded, stack);
    expect(outcome.ok, report).toBe(true);
    const states = outcome.commands.map((c) => `${c.action} ${c.device} by ${issuedByMatches("person", c.issuedBy) ? "person" : c.issuedBy}: ${c.state}`).sort();
    expect(states).toEqual(
      [`switch_off ${pickedDevice(loaded, "dark-room")} by person: confirmed`, `switch_off ${pickedDevice(loaded, "ignoring-plug")} by person: timeout`, `switch_off ${pickedDevice(loaded, "refusing-light")} by person: failed`].sort(),
    );
    const refused = outcome.commandReport!.persons.filter((p) => p.person.refused !== undefined).map((p) => [p.person.device, p.outcome?.result.ok === false && p.outcome.result.code]);
    expect(refused).toEqual([[pickedDevice(loaded, "protected-circuit"), "PROTECTED"], [pickedDevice(loaded, "protected-feeder"), "PROTECTED"]]);
  });

  it("prints what `scenario run --check` picked on the demo district, and checks those devices", { timeout: 90_000 }, async () => {
    const file = join(dir, "demo-district.yaml");
    const loaded = loadScenario("flapping", file);
    const stack = await startScenarioStack(file, Date.now, running);
    const cli = startCli(["scenario", "run", "flapping", "--check", "--config", file], {
      MQTT_URL: stack.mqttUrl, DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD, COMMAND_TIMEOUT_S: String(COMMAND_TIMEOUT_S), LOG_LEVEL: "silent",
    });
    const exit = await new Promise<number | null>((resolve) => cli.child.once("exit", resolve));
    expect(exit, cli.output()).toBe(0);
    const room = pickedDevice(loaded, "room");
    expect(cli.output()).toContain(`scenario flapping picked on ${file}:`);
    expect(cli.output()).toMatch(new RegExp(`\\$room\\s+${room} \\(xinwu-exp: `));
    expect(cli.output()).toContain(`ok   overload on ${room}: opened at +`);
  });
});

describe("a campus without what a scenario needs", () => {
  it.each([
    ["scenario", "run", "dorm-heater-cutoff", "--check"],
    ["simulate", "--scenario", "dorm-heater-cutoff"],
  ])("is refused by `%s %s %s` with exit 1, naming the pick and what it needs, before any device connects", (...args) => {
    const primary = "config/demo-schools/meicun-primary.yaml";
    // No DEVICE_GROUP_KEY or MQTT_URL: the refusal comes before the environment is even read.
    const { status, stderr } = runCli([...args, "--config", primary]);
    expect(status).toBe(1);
    expect(stderr).toContain(`scenario dorm-heater-cutoff needs what ${primary} does not have`);
    expect(stderr).toMatch(/pick\.room: the campus has no device that is a breaker, in a dormitory building, .*that its school's power rule switches off on malignant-load/);
    expect(stderr).not.toContain("DEVICE_GROUP_KEY");
  });
});
