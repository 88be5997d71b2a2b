// The alert lifecycle, pure: what a rule's verdict or an operator's acknowledgement does to the one
// alert of a (device, rule) slot. States: firing → acknowledged → resolved (CONTRACT §5).
import { SEVERITIES, type Alert, type Severity } from "../domain/alert.js";
import type { Building, Device } from "../domain/campus.js";
import type { AlertChange, Breach, Effect, Instance, Rule, Verdict } from "./types.js";

const iso = (ms: number) => new Date(ms).toISOString();

/** Lower index = more severe (SEVERITIES runs critical → info). */
const rank = (severity: Severity) => SEVERITIES.indexOf(severity);

/**
 * A URL-safe id, unique per opening and deterministic (no randomness in the core): the same replay
 * yields the same ids, so its InfluxDB points overwrite instead of duplicating.
 */
export function alertId(device: string, rule: string, at: number, opening: number): string {
  return `${device}.${rule}.${at}.${opening}`;
}

export interface Applied {
  instance: Instance;
  effect?: Effect;
}

/** Flapping guard (domain.md §8 row 27, Naemon-style): more than this many activations in an hour… */
export const FLAP_LIMIT_PER_HOUR = 6;
/** …and it stops flapping below this many. */
export const FLAP_CALM_PER_HOUR = 2;
const HOUR_MS = 3_600_000;

const recent = (times: readonly number[] | undefined, at: number) => (times ?? []).filter((t) => t > at - HOUR_MS && t <= at);

export function applyVerdict(rule: Rule<unknown>, device: Device, building: Building, instance: Instance, verdict: Verdict): Applied {
  if ("breach" in verdict) return applyBreach(rule, device, building, instance, verdict.breach);
  const at = verdict.clear.at;
  const cleared: Instance = { ...instance, active: false };
  const alert = instance.alert;
  if (!alert) return { instance: cleared };
  // Latched (domain.md §8: rules 1, 2, 11, 12-critical): the alert waits for a human.
  if (instance.latched && alert.state !== "acknowledged") return { instance: cleared };
  // Flapping: the alert stays open (not paged) until the condition calms down (settleFlapping).
  if (instance.flapping) return settleFlapping(cleared, at);
  return resolve(cleared, alert, at);
}

/** Resolves a flapping alert whose condition is over once it had fewer than 2 activations in the last hour. */
export function settleFlapping(instance: Instance, at: number): Applied {
  if (!instance.flapping || instance.active || !instance.alert) return { instance };
  if (recent(instance.activations, at).length >= FLAP_CALM_PER_HOUR) return { instance };
  return resolve({ ...instance, flapping: false }, instance.alert, at);
}

function applyBreach(rule: Rule<unknown>, device: Device, building: Building, instance: Instance, breach: Breach): Applied {
  const latched = instance.latched || (breach.latched ?? rule.latched ?? false);
  const current = instance.alert;
  // Every inactive → active transition counts towards the flapping guard (event time, last hour).
  const activations = instance.active ? instance.activations : [...recent(instance.activations, breach.at), breach.at];
  const flapping = !latched && (instance.flapping === true || (activations?.length ?? 0) > FLAP_LIMIT_PER_HOUR);
  instance = { ...instance, ...(activations ? { activations } : {}), ...(flapping ? { flapping } : {}) };
  if (!current) {
    const opening = instance.openings + 1;
    const alert: Alert = {
      id: alertId(device.id, rule.id, breach.at, opening),
      rule: rule.id,
      device: device.id,
      building: building.id,
      site: device.site,
      ...(device.room !== null ? { room: device.room } : {}),
      // A flapping condition is downgraded to info (domain.md §8 row 27) and not paged.
      severity: flapping ? "info" : breach.severity,
      state: "firing",
      value: breach.value,
      threshold: breach.threshold,
      message: flapping ? `${breach.message} — flapping (> ${FLAP_LIMIT_PER_HOUR} cycles in an hour): tune the threshold` : breach.message,
      started_at: iso(breach.at),
      updated_at: iso(breach.at),
      ...(latched ? { latched } : {}),
      ...(flapping ? { flapping } : {}),
      ...breach.details,
    };
    return { instance: { ...instance, alert, active: !breach.momentary, latched, openings: opening }, effect: change("opened", alert, breach.at) };
  }
  // Stages escalate the same alert, never open another (domain.md §8 "Stages"); a lower stage keeps
  // the worst severity reached, so an incident is remembered at its worst until it resolves.
  if (rank(breach.severity) < rank(current.severity) && !flapping) {
    const { acknowledged_by: _dropped, ack_note: _droppedNote, ...rest } = current;
    // An escalation needs a new acknowledgement at the higher severity.
    const alert: Alert = {
      ...rest,
      severity: breach.severity,
      state: "firing",
      value: breach.value,
      threshold: breach.threshold,
      message: breach.message,
      updated_at: iso(breach.at),
      ...(latched ? { latched } : {}),
      ...breach.details,
    };
    return { instance: { ...instance, alert, active: !breach.momentary, latched }, effect: change("escalated", alert, breach.at) };
  }
  if (current.value === breach.value && current.threshold === breach.threshold && (instance.active || breach.momentary)) {
    return { instance: { ...instance, latched } };
  }
  const message = flapping ? current.message : breach.message;
  const alert: Alert = { ...current, value: breach.value, threshold: breach.threshold, message, updated_at: iso(breach.at), ...(latched ? { latched } : {}), ...breach.details };
  return { instance: { ...instance, alert, active: !breach.momentary, latched }, effect: change("updated", alert, breach.at) };
}

/**
 * An operator's acknowledgement, with their note if any; resolves at once a latched alert whose
 * condition has already cleared.
 */
export function acknowledge(instance: Instance, by: string, at: number, note?: string): Applied {
  const alert = instance.alert;
  if (!alert) return { instance };
  if (alert.state === "acknowledged") return { instance }; // idempotent: the first acknowledgement stands
  const acked: Alert = { ...alert, state: "acknowledged", acknowledged_by: by, ...(note ? { ack_note: note } : {}), updated_at: iso(at) };
  const applied = instance.latched && !instance.active ? resolve(instance, acked, at) : { instance: { ...instance, alert: acked }, effect: change("acknowledged", acked, at) };
  return applied.effect?.type === "alert" ? { ...applied, effect: { ...applied.effect, byAck: true } } : applied;
}

function resolve(instance: Instance, alert: Alert, at: number): Applied {
  const resolved: Alert = { ...alert, state: "resolved", updated_at: iso(at), resolved_at: iso(at) };
  const { alert: _closed, ...rest } = instance;
  return { instance: { ...rest, active: false, latched: false }, effect: change("resolved", resolved, at) };
}

const change = (kind: AlertChange, alert: Alert, at: number): Effect => ({ type: "alert", change: kind, alert, at });
