// What a scenario file says about remote switching (CONTRACT §10): the commands it expects (who issues
// them, the state they end in, how soon they are sent), the commands a person gives through the API at
// moments of the scenario's clock, and the schedule whose minute the run must meet. The schemas, their
// conversion and their checks against the campus, pure; scenario.ts puts them in the file's schema.
import { type Static, Type as T } from "@sinclair/typebox";
import type { Campus } from "../domain/campus.js";
import { SWITCHING_RULES } from "../domain/campus-alerts.js";
import { nextRun, type ScheduleRun } from "../domain/campus/schedule-times.js";
import { COMMAND_ACTIONS, type CommandAction, type CommandState, FINAL_COMMAND_STATES, switchRefusal } from "../domain/command.js";
import type { Problem } from "../domain/errors.js";
import { literalUnion } from "../domain/schema.js";
import { DurationSchema, durationMs } from "./scenario-duration.js";
import { type DeviceFacets, DeviceFacetsSchema } from "./scenario-pick-schema.js";

/**
 * `person` (any principal of the API: a token's `role:fingerprint`, an account's name), `schedule:{id}` (or
 * `schedule:$name`, a schedule pick: scenario-pick-schema.ts), `rule:{rule id}`.
 */
const ISSUERS = "^(person|schedule:\\$?[A-Za-z0-9_.-]+|rule:[a-z-]+)$";

/** The refusals a person's command may be expected to meet (docs/commands.md "Refusals"). */
export const EXPECTED_REFUSALS = ["PROTECTED", "NOT_SWITCHABLE", "DEVICE_OFFLINE", "BUSY"] as const;
export type ExpectedRefusal = (typeof EXPECTED_REFUSALS)[number];

export const CommandExpectationSchema = T.Object(
  {
    device: T.String({ minLength: 1 }),
    action: literalUnion(COMMAND_ACTIONS),
    issued_by: T.String({ pattern: ISSUERS }),
    /** The state it ends in. */
    state: T.Union(FINAL_COMMAND_STATES.map((s) => T.Literal(s))),
    /** It is sent within this much event time from the start. */
    sent_within: DurationSchema,
    /** A rule's cut-off: it names the alert of this rule that made it (alert_id), and the alert names it (command_id). */
    linked_alert: T.Optional(literalUnion(SWITCHING_RULES)),
    /** Expected only where the device it names is so (scenario-pick.ts facets); elsewhere skipped, and said so. */
    only_if: T.Optional(DeviceFacetsSchema),
  },
  { additionalProperties: false },
);

export const PersonCommandSchema = T.Object(
  {
    /** Event time from the start at which the person selects, then operates at once. */
    at: DurationSchema,
    device: T.String({ minLength: 1 }),
    action: literalUnion(COMMAND_ACTIONS),
    reason: T.String({ minLength: 1, maxLength: 500 }),
    /** The API refuses it with this code, and nothing is sent. */
    refused: T.Optional(literalUnion(EXPECTED_REFUSALS)),
  },
  { additionalProperties: false },
);

export const MeetsScheduleSchema = T.Object(
  {
    /** A schedule of the campus file. */
    schedule: T.String({ minLength: 1 }),
    /** Where its next run falls on the scenario's clock: `scenario run` waits for the wall-clock moment that makes it so. */
    at: DurationSchema,
  },
  { additionalProperties: false },
);

export interface CommandExpectation {
  device: string;
  action: CommandAction;
  /** `person`, `schedule:{id}` or `rule:{rule id}`. */
  issuedBy: string;
  state: CommandState;
  sentWithinMs: number;
  linkedAlert?: string;
  onlyIf?: DeviceFacets;
}

export interface PersonCommand {
  atMs: number;
  device: string;
  action: CommandAction;
  reason: string;
  refused?: ExpectedRefusal;
}

export interface MeetsSchedule {
  schedule: string;
  atMs: number;
}

export const toCommandExpectation = (e: Static<typeof CommandExpectationSchema>): CommandExpectation => ({
  device: e.device,
  action: e.action,
  issuedBy: e.issued_by,
  state: e.state as CommandState,
  sentWithinMs: durationMs(e.sent_within),
  ...(e.linked_alert !== undefined ? { linkedAlert: e.linked_alert } : {}),
  ...(e.only_if !== undefined ? { onlyIf: e.only_if } : {}),
});

export const toPersonCommand = (p: Static<typeof PersonCommandSchema>): PersonCommand => ({
  atMs: durationMs(p.at),
  device: p.device,
  action: p.action,
  reason: p.reason,
  ...(p.refused !== undefined ? { refused: p.refused } : {}),
});

export const toMeetsSchedule = (m: Static<typeof MeetsScheduleSchema>): MeetsSchedule => ({ schedule: m.schedule, atMs: durationMs(m.at) });

/** Whether a command's `issued_by` is what an expectation names: `person` is anyone but a schedule or a rule. */
export function issuedByMatches(expected: string, issuedBy: string): boolean {
  if (expected !== "person") return expected === issuedBy;
  return !issuedBy.startsWith("schedule:") && !issuedBy.startsWith("rule:");
}

export interface SwitchingParts {
  durationMs: number;
  expectCommands: readonly CommandExpectation[];
  personCommands: readonly PersonCommand[];
  meetsSchedule?: MeetsSchedule;
}

/** Problems of the switching parts that need no campus: times outside the span, an alert link on a command no rule issues. */
export function checkSwitchingTimes(parts: SwitchingParts): Problem[] {
  const problems: Problem[] = [];
  parts.personCommands.forEach((p, i) => {
    if (p.atMs < 0 || p.atMs >= parts.durationMs) problems.push({ path: `person_commands[${i}].at`, message: "must lie within the scenario's duration" });
  });
  parts.expectCommands.forEach((e, i) => {
    if (e.linkedAlert !== undefined && e.issuedBy !== `rule:${e.linkedAlert}`) problems.push({ path: `expect_commands[${i}].linked_alert`, message: `only a command issued by rule:${e.linkedAlert} names its alert` });
  });
  const at = parts.meetsSchedule?.atMs;
  if (at !== undefined && (at < 0 || at >= parts.durationMs)) problems.push({ path: "meets_schedule.at", message: "must lie within the scenario's duration" });
  return problems;
}

/**
 * Problems against the campus: unknown devices and schedules; a command expected of a device nobody may
 * switch (the executor refuses it before anything is sent); a person's command on such a device that does
 * not expect the refusal the campus makes certain.
 */
export function checkSwitchingCampus(parts: SwitchingParts, campus: Pick<Campus, "devices" | "deviceById" | "schedules">): Problem[] {
  const problems: Problem[] = [];
  const refusalOf = (device: string, path: string) => {
    if (!campus.deviceById.has(device)) {
      problems.push({ path, message: `unknown device "${device}" in the scenario's campus` });
      return undefined;
    }
    return switchRefusal(campus, device);
  };
  parts.expectCommands.forEach((e, i) => {
    const refusal = refusalOf(e.device, `expect_commands[${i}].device`);
    if (refusal) problems.push({ path: `expect_commands[${i}].device`, message: `no command for ${e.device} is ever sent: ${refusal.message}` });
    const schedule = /^schedule:(.+)$/.exec(e.issuedBy)?.[1];
    if (schedule !== undefined && !campus.schedules.some((s) => s.id === schedule)) problems.push({ path: `expect_commands[${i}].issued_by`, message: `no schedule "${schedule}" in the scenario's campus` });
  });
  parts.personCommands.forEach((p, i) => {
    const refusal = refusalOf(p.device, `person_commands[${i}].device`);
    if (refusal && p.refused !== refusal.code) problems.push({ path: `person_commands[${i}].refused`, message: `the campus makes it certain: ${refusal.message} (say refused: ${refusal.code})` });
  });
  const meets = parts.meetsSchedule;
  if (meets !== undefined && !campus.schedules.some((s) => s.id === meets.schedule)) problems.push({ path: "meets_schedule.schedule", message: `no schedule "${meets.schedule}" in the scenario's campus` });
  return problems;
}

export interface ScheduleMeeting {
  run: ScheduleRun;
  /**
   * When to start the run (wall clock, epoch ms) so the schedule's run falls at `meets.atMs` of the
   * scenario's clock; the devices' connecting delays the clock's start, so it falls a little earlier.
   */
  startWallMs: number;
  /** The IANA zone of the schedule's own site, in which `run.date` and `run.schedule.at` are read. */
  timeZone: string;
}

/** The schedule's next run the scenario can still meet from `wallNow` at `speed`, and when to start for it; null: no such schedule or run. */
export function scheduleMeeting(campus: Pick<Campus, "sites">, meets: MeetsSchedule, speed: number, wallNow: number): ScheduleMeeting | null {
  // A schedule runs in its own school's zone (CONTRACT §9: in a district each site has its own).
  const site = campus.sites.find((s) => s.schedules.some((schedule) => schedule.id === meets.schedule));
  const schedule = site?.schedules.find((s) => s.id === meets.schedule);
  if (site === undefined || schedule === undefined) return null;
  const leadMs = meets.atMs / speed;
  const timeZone = site.site.timezone;
  const run = nextRun(schedule, timeZone, wallNow + leadMs, site.calendar);
  return run === null ? null : { run, startWallMs: run.at - leadMs, timeZone };
}
