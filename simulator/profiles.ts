// Load profiles: what each circuit draws by building kind and local time of day (reference/domain.md §4).
// Pure data and functions of (local time, device); the noise is added by the model with a seeded rng.
import type { OccupiedPeriod } from "../domain/campus-alerts.js";
import type { BuildingKind, Device } from "../domain/campus.js";
import { isOccupied } from "../domain/occupancy.js";
import type { LocalTime } from "./local-time.js";

/** What hangs on a circuit. The campus file does not say, so it is inferred (see classifyLoad). */
export type LoadClass =
  | "dorm-room"
  | "dorm-socket"
  | "lighting"
  | "classroom"
  | "office"
  | "hvac"
  | "lab-bench"
  | "lab-motor"
  | "always-on";

/** [local hour, fraction of peak]; linear in between, wrapping at midnight. */
type Breakpoints = readonly (readonly [number, number])[];

interface ClassProfile {
  /** Typical displacement power factor of the appliances on such a circuit ([R] common practice:
   *  LED drivers and PFC'd PSUs ≈ 0.9–0.95, induction motors and fridge compressors ≈ 0.8,
   *  small chargers without PFC ≈ 0.6–0.7 — cf. the Tasmota sample with Factor 0.62, domain.md §1.2). */
  powerFactor: number;
  weekday: Breakpoints;
  weekend: Breakpoints;
  /** Peak draw of a breaker circuit, as a fraction of rating_a × nominal voltage (× 3 on 3 phases). */
  breakerPeakFraction: number;
  /** Peak draw of one smart socket (one appliance or a power strip), W. */
  socketPeakW: number;
}

// Dormitories peak in the evening (after self-study, 21:00–23:00) and the room power is cut at
// lights-out, 23:00–06:00 (domain.md §4.2: "weekdays off 23:00–05:00", lights out 23:00–23:30);
// only standby (chargers, the odd fridge on an uncut circuit) remains. Students are in class by day.
const DORM_WEEKDAY: Breakpoints = [
  [0, 0.03], [6.0, 0.03], [6.3, 0.35], [7.5, 0.3], [8.0, 0.06], [11.8, 0.06], [12.2, 0.45], [13.8, 0.4],
  [14.2, 0.08], [17.0, 0.1], [18.0, 0.5], [19.0, 0.45], [21.0, 0.85], [22.9, 0.9], [23.0, 0.03],
];
const DORM_WEEKEND: Breakpoints = [
  [0, 0.03], [6.0, 0.03], [7.0, 0.2], [9.0, 0.45], [12.0, 0.55], [18.0, 0.6], [21.0, 0.85], [22.9, 0.9], [23.0, 0.03],
];
// Classrooms: lessons 07:40–12:00 and 14:00–17:30, evening self-study 19:00–21:30 (boarding schools);
// off after the last class (domain.md §4.2).
const CLASS_WEEKDAY: Breakpoints = [
  [0, 0.02], [7.3, 0.02], [7.6, 1], [11.9, 1], [12.1, 0.15], [13.9, 0.15], [14.1, 1], [17.4, 1], [17.6, 0.1],
  [18.9, 0.1], [19.0, 0.8], [21.4, 0.8], [21.6, 0.02],
];
const CLASS_WEEKEND: Breakpoints = [[0, 0.02]];
// Offices: 08:00–12:00 and 14:00–18:00 with a long lunch break; PCs and printers idle overnight.
const OFFICE_WEEKDAY: Breakpoints = [
  [0, 0.08], [7.7, 0.08], [8.2, 0.9], [11.9, 0.9], [12.2, 0.35], [13.8, 0.35], [14.1, 0.9], [17.8, 0.9], [18.5, 0.12], [20, 0.08],
];
const OFFICE_WEEKEND: Breakpoints = [[0, 0.08]];
// Labs: benches follow teaching hours; fume hoods idle at a low speed at night.
const LAB_WEEKDAY: Breakpoints = [[0, 0.05], [7.8, 0.05], [8.2, 0.7], [11.9, 0.7], [12.2, 0.2], [13.9, 0.2], [14.2, 0.75], [17.4, 0.75], [17.8, 0.05]];
const MOTOR_WEEKDAY: Breakpoints = [[0, 0.12], [7.8, 0.12], [8.2, 0.8], [17.4, 0.8], [17.8, 0.12]];
const FLAT: Breakpoints = [[0, 1]];
// Dormitory corridors and stairs: lit in the morning and evening, dimmed (not off) through the night.
const CORRIDOR: Breakpoints = [[0, 0.25], [6.0, 0.25], [6.3, 1], [7.8, 1], [8.0, 0.1], [17.5, 0.1], [18.0, 1], [23.2, 1], [23.4, 0.25]];

export const PROFILES: Readonly<Record<LoadClass, ClassProfile>> = {
  // 16 A × 220 V × 0.2 ≈ 700 W at the evening peak: under the usual 800–1000 W room limit (domain.md §4.2).
  "dorm-room": { powerFactor: 0.92, weekday: DORM_WEEKDAY, weekend: DORM_WEEKEND, breakerPeakFraction: 0.2, socketPeakW: 150 },
  "dorm-socket": { powerFactor: 0.7, weekday: DORM_WEEKDAY, weekend: DORM_WEEKEND, breakerPeakFraction: 0.1, socketPeakW: 120 },
  lighting: { powerFactor: 0.95, weekday: CLASS_WEEKDAY, weekend: CLASS_WEEKEND, breakerPeakFraction: 0.5, socketPeakW: 60 },
  classroom: { powerFactor: 0.9, weekday: CLASS_WEEKDAY, weekend: CLASS_WEEKEND, breakerPeakFraction: 0.3, socketPeakW: 300 },
  office: { powerFactor: 0.9, weekday: OFFICE_WEEKDAY, weekend: OFFICE_WEEKEND, breakerPeakFraction: 0.35, socketPeakW: 180 },
  hvac: { powerFactor: 0.85, weekday: OFFICE_WEEKDAY, weekend: OFFICE_WEEKEND, breakerPeakFraction: 0.5, socketPeakW: 900 },
  "lab-bench": { powerFactor: 0.88, weekday: LAB_WEEKDAY, weekend: [[0, 0.05]], breakerPeakFraction: 0.35, socketPeakW: 400 },
  "lab-motor": { powerFactor: 0.8, weekday: MOTOR_WEEKDAY, weekend: [[0, 0.12]], breakerPeakFraction: 0.45, socketPeakW: 500 },
  // Fridges, incubators and servers run 24/7 and are never schedule-cut (domain.md §4.2).
  "always-on": { powerFactor: 0.8, weekday: FLAT, weekend: FLAT, breakerPeakFraction: 0.3, socketPeakW: 160 },
};

const BUILDING_DEFAULT: Record<BuildingKind, LoadClass> = {
  dormitory: "dorm-room",
  classroom: "classroom",
  lab: "lab-bench",
  office: "office",
  canteen: "lab-motor",
  other: "office",
};

/**
 * What a circuit feeds, read from hints in its id and room (`light`, `ac`, `fridge`, `server`, …) so
 * circuits named the way facilities staff name them get sensible loads; else the building's default.
 * A D-curve breaker (high inrush: motors, transformers, domain.md §2.1) in a lab is taken as a motor.
 */
export function classifyLoad(device: Device, buildingKind: BuildingKind): LoadClass {
  const words = new Set([...device.id.split("-"), ...(device.room ?? "").toLowerCase().split(/[^a-z0-9]+/)]);
  const has = (...hints: string[]) => hints.some((h) => words.has(h));
  if (has("light", "lights", "lighting", "lamp")) return "lighting";
  if (has("fridge", "freezer", "incubator", "server", "servers", "cold")) return "always-on";
  if (has("ac", "hvac", "aircon")) return "hvac";
  if (has("hood", "pump", "motor", "compressor") || (buildingKind === "lab" && device.curve === "D")) return "lab-motor";
  const fallback = BUILDING_DEFAULT[buildingKind];
  return device.kind === "socket" && fallback === "dorm-room" ? "dorm-socket" : fallback;
}

// Lighting and air conditioning follow the hours of the building they serve, not one fixed schedule.
const BUILDING_HOURS: Record<BuildingKind, { weekday: Breakpoints; weekend: Breakpoints }> = {
  dormitory: { weekday: CORRIDOR, weekend: CORRIDOR },
  classroom: { weekday: CLASS_WEEKDAY, weekend: CLASS_WEEKEND },
  lab: { weekday: LAB_WEEKDAY, weekend: [[0, 0.05]] },
  office: { weekday: OFFICE_WEEKDAY, weekend: OFFICE_WEEKEND },
  canteen: { weekday: MOTOR_WEEKDAY, weekend: MOTOR_WEEKDAY },
  other: { weekday: OFFICE_WEEKDAY, weekend: OFFICE_WEEKEND },
};

/**
 * Fraction of peak (0..1) the class draws at this local time in such a building, before noise. `occupied`:
 * the hours the site's file gives the building kind (`alerts.building_kinds.<kind>.occupied`, the ones
 * the after-hours rule judges by); outside them nothing but the night level runs (a primary school has no
 * evening self-study, a kindergarten closes at 17:30), except what runs around the clock.
 */
export function activityAt(loadClass: LoadClass, local: LocalTime, buildingKind: BuildingKind, occupied: readonly OccupiedPeriod[] | null = null): number {
  const follows = loadClass === "lighting" || loadClass === "hvac";
  const hours = follows ? BUILDING_HOURS[buildingKind] : PROFILES[loadClass];
  const weekend = local.weekday === 0 || local.weekday === 6;
  const day = weekend ? hours.weekend : hours.weekday;
  const level = interpolate(day, local.hour);
  if (occupied === null || loadClass === "always-on" || isOccupied(occupied, local.weekday, local.hour * 60)) return level;
  return Math.min(level, interpolate(day, 0));
}

function interpolate(points: Breakpoints, hour: number): number {
  const first = points[0]!;
  if (points.length === 1) return first[1];
  for (let i = 0; i < points.length; i++) {
    const [h0, v0] = points[i]!;
    const next = points[i + 1];
    const [h1, v1] = next ?? [first[0] + 24, first[1]];
    if (hour >= h0 && hour < h1) return v0 + ((v1 - v0) * (hour - h0)) / (h1 - h0);
  }
  return first[1];
}

/**
 * A fridge compressor cycles: on for ~40 % of a ~20 min cycle ([R] typical duty of a lab fridge).
 * One socket sees the square wave; a breaker feeding several sees their average with a slow ripple.
 */
export function compressorLevel(eventMs: number, phaseMs: number, single: boolean): number {
  const periodMs = 20 * 60_000;
  const position = (((eventMs + phaseMs) % periodMs) + periodMs) % periodMs / periodMs;
  if (single) return position < 0.4 ? 1 : 0.05;
  return 0.6 + 0.15 * Math.sin(2 * Math.PI * position);
}
