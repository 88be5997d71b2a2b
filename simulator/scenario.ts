// Scenario files (scenarios/*.yaml): a campus, a span of event time, faults to inject, the alerts the
// scenario expects by rule id (CONTRACT §5), and for remote switching (CONTRACT §10) the commands it
// expects, the commands a person gives and the schedule it meets (scenario-commands.ts). Devices are named
// by id or, to run on any campus, as `$name` of a pick that says what the device must be
// (scenario-pick-schema.ts; applied to a campus by scenario-pick-apply.ts). Parsing is pure and lists every
// problem at once, like the campus file; reading the files is left to the caller.
import { type Static, Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parseDocument } from "yaml";
import type { Problem } from "../domain/errors.js";
import { hasRelay } from "../domain/command.js";
import type { Campus } from "../domain/campus.js";
import { COMMAND_BEHAVIOURS, FAULT_TYPES, type Fault, type FaultType } from "./faults.js";
import {
  checkSwitchingCampus,
  checkSwitchingTimes,
  type CommandExpectation,
  CommandExpectationSchema,
  type MeetsSchedule,
  MeetsScheduleSchema,
  type PersonCommand,
  PersonCommandSchema,
  toCommandExpectation,
  toMeetsSchedule,
  toPersonCommand,
} from "./scenario-commands.js";
import { DurationSchema as Duration, durationMs } from "./scenario-duration.js";
import { checkPickRefs, type DeviceFacets, DeviceFacetsSchema, type ScenarioPick, parsePicks, schemaProblems } from "./scenario-pick-schema.js";

const FaultSchema = T.Object(
  {
    type: T.Union(FAULT_TYPES.map((t) => T.Literal(t))),
    device: T.String({ minLength: 1 }),
    at: Duration,
    for: T.Optional(Duration),
    ramp: T.Optional(Duration),
    factor: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    leakage_ma: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    temperature_c: T.Optional(T.Number()),
    watts: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    high: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    low: T.Optional(T.Number({ minimum: 0 })),
    period: T.Optional(Duration),
    skew: T.Optional(Duration),
    /** command: how the device treats commands (faults.ts CommandBehaviour). */
    behaviour: T.Optional(T.Union(COMMAND_BEHAVIOURS.map((b) => T.Literal(b)))),
    /** command, behaviour slow: how late the device acts, event time. */
    delay: T.Optional(Duration),
  },
  { additionalProperties: false },
);

const ExpectSchema = T.Object(
  {
    rule: T.String({ minLength: 1 }),
    device: T.String({ minLength: 1 }),
    /** The alert opens within this much event time from the start. */
    opens_within: Duration,
    /** It is resolved within this much event time from the start (omit: not checked). */
    closes_within: T.Optional(Duration),
    /** It opens at least this many times (flapping). */
    times: T.Optional(T.Integer({ minimum: 1 })),
    /** Expected only where the device it names is so (scenario-pick.ts facets); elsewhere skipped, and said so. */
    only_if: T.Optional(DeviceFacetsSchema),
  },
  { additionalProperties: false },
);

const ScenarioSchema = T.Object(
  {
    name: T.String({ pattern: "^[a-z0-9-]+$" }),
    description: T.String({ minLength: 1 }),
    /** Campus file, relative to the scenario file. */
    campus: T.Optional(T.String({ minLength: 1 })),
    /** What each `$name` picks on the campus it runs on (read by scenario-pick-schema.ts parsePicks). */
    pick: T.Optional(T.Unknown()),
    /** Event time the scenario covers. */
    duration: Duration,
    /** Default campus clock speed of `scenario run`. */
    speed: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    seed: T.Optional(T.Integer()),
    /** Only these devices connect and report (default: all). */
    devices: T.Optional(T.Array(T.String({ minLength: 1 }))),
    faults: T.Optional(T.Array(FaultSchema)),
    expect: T.Optional(T.Array(ExpectSchema)),
    /** Any alert not in `expect` is a mismatch. */
    no_other_alerts: T.Optional(T.Boolean()),
    /** Remote-switching commands the run must see on `campus/internal/commands`, and the state each ends in. */
    expect_commands: T.Optional(T.Array(CommandExpectationSchema)),
    /** Any command not in `expect_commands` is a mismatch. */
    no_other_commands: T.Optional(T.Boolean()),
    /** A person switching through the API (select, then operate): needs API_URL and API_TOKEN. */
    person_commands: T.Optional(T.Array(PersonCommandSchema)),
    meets_schedule: T.Optional(MeetsScheduleSchema),
  },
  { additionalProperties: false },
);

type RawScenario = Static<typeof ScenarioSchema>;

export interface Expectation {
  rule: string;
  device: string;
  opensWithinMs: number;
  closesWithinMs?: number;
  times: number;
  onlyIf?: DeviceFacets;
}

export interface Scenario {
  name: string;
  description: string;
  campus?: string;
  /** The picks `$name`s refer to, in the file's order (empty: the file names device ids only). */
  picks: ScenarioPick[];
  durationMs: number;
  speed: number;
  seed: number;
  devices?: string[];
  faults: Fault[];
  expect: Expectation[];
  noOtherAlerts: boolean;
  expectCommands: CommandExpectation[];
  noOtherCommands: boolean;
  personCommands: PersonCommand[];
  meetsSchedule?: MeetsSchedule;
}

export type ScenarioResult = { ok: true; scenario: Scenario } | { ok: false; problems: Problem[] };

/** What each fault type needs, with the key that gives its size. */
const SIZE_KEY: Record<FaultType, string | null> = {
  overload: "factor",
  leakage: "leakage_ma",
  overheat: "temperature_c",
  offline: null,
  "malignant-load": "watts",
  "counter-reset": null,
  flapping: "high",
  "clock-skew": "skew",
  command: "behaviour",
};

export function parseScenarioText(text: string): ScenarioResult {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? "?"}`, message: e.message.split("\n")[0]! })) };
  const raw = doc.toJS() as unknown;
  const problems = schemaProblems(ScenarioSchema, raw);
  if (problems.length > 0 || !Value.Check(ScenarioSchema, raw)) return { ok: false, problems };
  const s: RawScenario = raw;
  const { picks, problems: pickProblems } = parsePicks(s.pick);
  problems.push(...pickProblems);
  const faults: Fault[] = [];
  (s.faults ?? []).forEach((f, i) => {
    const key = SIZE_KEY[f.type as FaultType];
    const given = key === null ? 0 : (f as Record<string, unknown>)[key];
    if (key !== null && given === undefined) problems.push({ path: `faults[${i}].${key}`, message: `a ${f.type} fault needs "${key}"` });
    if (f.type === "command" && f.behaviour === "slow" && f.delay === undefined) problems.push({ path: `faults[${i}].delay`, message: "a slow device needs a delay" });
    if (f.delay !== undefined && durationMs(f.delay) < 0) problems.push({ path: `faults[${i}].delay`, message: "a delay cannot be negative" });
    const value = key === "skew" ? durationMs(String(given)) : key === "behaviour" ? (f.delay === undefined ? 0 : durationMs(f.delay)) : Number(given ?? 0);
    const fault: Fault = {
      type: f.type as FaultType,
      device: f.device,
      atMs: durationMs(f.at),
      forMs: f.for === undefined ? Infinity : durationMs(f.for),
      rampMs: f.ramp === undefined ? 0 : durationMs(f.ramp),
      value,
    };
    if (f.low !== undefined) fault.low = f.low;
    if (f.period !== undefined) fault.periodMs = durationMs(f.period);
    if (f.behaviour !== undefined) fault.behaviour = f.behaviour;
    faults.push(fault);
  });
  const switching = {
    durationMs: durationMs(s.duration),
    expectCommands: (s.expect_commands ?? []).map(toCommandExpectation),
    personCommands: (s.person_commands ?? []).map(toPersonCommand),
    ...(s.meets_schedule !== undefined ? { meetsSchedule: toMeetsSchedule(s.meets_schedule) } : {}),
  };
  problems.push(...checkSwitchingTimes(switching));
  const scenario: Scenario = {
    name: s.name,
    description: s.description,
    picks,
    speed: s.speed ?? 60,
    seed: s.seed ?? 1,
    faults,
    expect: (s.expect ?? []).map((e) => ({
      rule: e.rule,
      device: e.device,
      opensWithinMs: durationMs(e.opens_within),
      ...(e.closes_within !== undefined ? { closesWithinMs: durationMs(e.closes_within) } : {}),
      times: e.times ?? 1,
      ...(e.only_if !== undefined ? { onlyIf: e.only_if } : {}),
    })),
    noOtherAlerts: s.no_other_alerts ?? false,
    ...switching,
    noOtherCommands: s.no_other_commands ?? false,
  };
  if (s.campus !== undefined) scenario.campus = s.campus;
  if (s.devices !== undefined) scenario.devices = s.devices;
  problems.push(...checkPickRefs(picks, scenario));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, scenario };
}

/** Problems of a scenario against its campus: unknown devices and schedules, faults a device cannot show, commands it cannot give. */
export function checkScenarioDevices(scenario: Scenario, campus: Pick<Campus, "devices" | "deviceById" | "schedules">): Problem[] {
  const problems: Problem[] = [];
  const known = (id: string, path: string) => {
    if (!campus.deviceById.has(id)) problems.push({ path, message: `unknown device "${id}" in the scenario's campus` });
    return campus.deviceById.get(id);
  };
  scenario.faults.forEach((f, i) => {
    const device = known(f.device, `faults[${i}].device`);
    if (device && f.type === "leakage" && device.rcd_ma === undefined) problems.push({ path: `faults[${i}].device`, message: `"${f.device}" does not measure leakage (no rcd_ma)` });
    if (device && f.type === "overheat" && device.kind === "meter") problems.push({ path: `faults[${i}].device`, message: `"${f.device}" is a meter: it has no terminal temperature` });
    if (device && f.type === "command" && !hasRelay(device)) problems.push({ path: `faults[${i}].device`, message: `"${f.device}" has no relay: it takes no commands` });
  });
  scenario.expect.forEach((e, i) => known(e.device, `expect[${i}].device`));
  (scenario.devices ?? []).forEach((d, i) => known(d, `devices[${i}]`));
  problems.push(...checkSwitchingCampus(scenario, campus));
  return problems;
}
