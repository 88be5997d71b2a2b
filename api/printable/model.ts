// The printable monthly report of one school as data (CONTRACT §11, issue 13 item 3): everything the page
// shows, already computed, so rendering (./render.ts) is a pure function of it and can be tested alone.
// Energies in kWh, powers in kW, instants in epoch ms, durations in ms, shares as fractions (0.25 = 25 %).
import type { Command, CommandState } from "../../domain/command.js";
import type { DayKind } from "./month.js";
import type { ReportLang } from "./words.js";

export interface BuildingRow {
  id: string;
  name: string;
  /** null: no counted device of the building reported in the month. */
  kwh: number | null;
  previousKwh: number | null;
  /** Per cent against the previous month; null when that month had nothing to compare with. */
  changePct: number | null;
  afterHoursKwh: number | null;
  afterHoursShare: number | null;
}

export interface DayBar {
  /** "YYYY-MM-DD", local to the school. */
  date: string;
  kind: DayKind;
  /** null: no data that day (none yet, or none stored). */
  kwh: number | null;
}

export interface RuleStats {
  rule: string;
  count: number;
  acknowledged: number;
  /** Median and longest time from the alert's start to its acknowledgement, ms; null when none was acknowledged. */
  medianAckMs: number | null;
  worstAckMs: number | null;
}

export interface CommandSummary {
  total: number;
  /** Count per final or current state, in the order of COMMAND_STATES, only states that occur. */
  byState: { state: CommandState; count: number }[];
  /** Commands of each schedule, summed (a dormitory's lights-out switches every room every school day). */
  schedules: { id: string; name: string; count: number; confirmed: number }[];
  /** People's and rules' commands, newest first, at most a page's worth. */
  listed: Command[];
  /** People's and rules' commands not listed. */
  unlisted: number;
}

export interface PrintableReport {
  lang: ReportLang;
  school: { id: string; name: string };
  district: { id: string; name: string };
  month: { id: string; year: number; month: number; fromMs: number; toMs: number };
  timeZone: string;
  generatedAt: number;
  /** "over": the month has ended; "in-progress": figures to `generatedAt`; "future": not started (no data). */
  status: "over" | "in-progress" | "future";
  totalKwh: number;
  previousKwh: number;
  changePct: number | null;
  afterHoursKwh: number;
  afterHoursShare: number | null;
  buildings: BuildingRow[];
  /** Up to three buildings with the most after-hours kWh (only those with some). */
  worstAfterHours: BuildingRow[];
  days: DayBar[];
  /** The school's maximum demand in the month (the start of its 15-minute window); null: no power data. */
  peak: { kw: number; at: number } | null;
  alerts: RuleStats[];
  commands: CommandSummary;
}
