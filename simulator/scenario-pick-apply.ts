// A scenario made concrete on one campus: its picks taken (scenario-pick.ts), every `$name` replaced by the
// device ids it picked — an entry naming a pick of several devices (or a schedule: the devices it switches)
// becomes one entry per device — and each expectation with `only_if` kept where its device is so, skipped
// (and said so) elsewhere. What is left names device ids only, as a scenario written for one campus does,
// so the check (checkScenarioDevices), the run and `simulate --scenario` take it as they always did. Pure.
import type { Campus } from "../domain/campus.js";
import type { Problem } from "../domain/errors.js";
import { describeFacets, deviceFits, type Picked, pickFrom } from "./scenario-pick.js";
import { type DeviceFacets, pickName, scheduleIssuerRef } from "./scenario-pick-schema.js";
import type { Scenario } from "./scenario.js";

/** An expectation left out on this campus: its `only_if` does not hold for the device it names. */
export interface Skipped {
  path: string;
  /** e.g. `power-limit on brk-d3-301`, `switch_on on brk-d3-302 by rule:malignant-load`. */
  what: string;
  /** The `only_if` in words. */
  onlyIf: string;
}

export type AppliedScenario = { ok: true; scenario: Scenario; picked: readonly Picked[]; skipped: readonly Skipped[] } | { ok: false; problems: Problem[] };

/** Takes the scenario's picks on the campus and writes what they picked into it; the problems when the campus lacks what a pick needs. */
export function applyPicks(scenario: Scenario, campus: Campus): AppliedScenario {
  const result = pickFrom(campus, scenario.picks);
  if (!result.ok) return result;
  const byName = new Map(result.picked.map((p) => [p.name, p]));
  const context = { campus, picked: new Map(result.picked.flatMap((p) => (p.of === "device" ? [[p.name, p.devices] as const] : []))) };
  /** A device id as it is; a pick as the ids it picked (a schedule: the devices it switches). */
  const ids = (text: string): string[] => {
    const name = pickName(text);
    const pick = name === null ? undefined : byName.get(name);
    if (pick === undefined) return [text];
    return (pick.of === "device" ? pick.devices : pick.targets).map((d) => d.id);
  };
  const scheduleId = (text: string) => {
    const pick = byName.get(pickName(text) ?? "");
    return pick?.of === "schedule" ? pick.schedule.id : text;
  };
  const skipped: Skipped[] = [];
  /** One entry per device its `device` names, without those whose `only_if` does not hold (told in `skipped`). */
  const expand = <E extends { device: string; onlyIf?: DeviceFacets }>(entries: readonly E[], path: string, what: (e: E) => string): E[] =>
    entries.flatMap((entry, i) =>
      ids(entry.device).flatMap((device) => {
        const { onlyIf, ...rest } = entry;
        const concrete = { ...rest, device } as E;
        const known = campus.deviceById.get(device);
        // An unknown id is kept, for checkScenarioDevices to name.
        if (onlyIf === undefined || known === undefined || deviceFits(context, onlyIf, known)) return [concrete];
        skipped.push({ path: `${path}[${i}]`, what: what(concrete), onlyIf: describeFacets(onlyIf, false) });
        return [];
      }),
    );
  const issuer = (issuedBy: string) => {
    const ref = scheduleIssuerRef(issuedBy);
    return ref === null ? issuedBy : `schedule:${scheduleId(ref)}`;
  };
  const applied: Scenario = {
    ...scenario,
    faults: scenario.faults.flatMap((f) => ids(f.device).map((device) => ({ ...f, device }))),
    expect: expand(scenario.expect, "expect", (e) => `${e.rule} on ${e.device}`),
    expectCommands: expand(
      scenario.expectCommands.map((e) => ({ ...e, issuedBy: issuer(e.issuedBy) })),
      "expect_commands",
      (e) => `${e.action} on ${e.device} by ${e.issuedBy}`,
    ),
    personCommands: scenario.personCommands.flatMap((p) => ids(p.device).map((device) => ({ ...p, device }))),
    ...(scenario.devices ? { devices: [...new Set(scenario.devices.flatMap(ids))] } : {}),
    ...(scenario.meetsSchedule ? { meetsSchedule: { ...scenario.meetsSchedule, schedule: scheduleId(scenario.meetsSchedule.schedule) } } : {}),
  };
  return { ok: true, scenario: applied, picked: result.picked, skipped };
}

/** What the run picked and what it leaves out, for a person (`scenario run` prints it before it starts). */
export function formatPicks(campus: Campus, picked: readonly Picked[], skipped: readonly Skipped[]): string {
  const width = Math.max(0, ...picked.map((p) => p.name.length + 1));
  const where = (id: string) => {
    const device = campus.deviceById.get(id)!;
    const building = campus.buildingById.get(device.building);
    const site = campus.sites.length > 1 ? `${device.site}: ` : "";
    return `${id} (${site}${building?.name ?? device.building}${device.room === null ? "" : `, room ${device.room}`})`;
  };
  const lines = picked.map((p) => {
    const choice = p.alternative > 0 ? ` — its choice ${p.alternative + 1}` : "";
    const what = p.of === "schedule" ? `schedule ${p.schedule.id}, switching ${p.targets.map((d) => d.id).join(", ")}` : p.devices.length === 0 ? "none" : p.devices.map((d) => where(d.id)).join(", ");
    return `  $${p.name.padEnd(width - 1)}  ${what}${choice}`;
  });
  for (const s of skipped) lines.push(`  skip ${s.what} (${s.path}): expected only if ${s.onlyIf}`);
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
