// `scenario run --check` watches what the alerts service publishes on `campus/alerts/{device}/{rule}`
// (CONTRACT §5: the alert object, retained while open; an empty payload once resolved) and places each
// opening and resolution on the scenario's event clock. Pure: messages and clock readings in,
// observations out; the MQTT subscription is the caller's (scenario-run.ts).
import { decodeAlert } from "../domain/internal-stream.js";
import { parseAlertTopic } from "../domain/topics.js";
import type { AlertObservation } from "./check.js";

export interface AlertMessage {
  topic: string;
  payload: Buffer | string;
  /** RETAIN flag as received: set only on what the broker hands over from its store on subscription [MQTT-3.3.1-8]. */
  retained: boolean;
}

export interface AlertObserver {
  /** One message on the alerts filter, arrived when the scenario clock read `arrivedMs` (event time, epoch ms). */
  observe(message: AlertMessage, arrivedMs: number): void;
  /** Sets the event time the scenario starts at; observations are measured from it. */
  startAt(startMs: number): void;
  /** Every opening and resolution so far, in event ms from the start, in arrival order. */
  observations(): AlertObservation[];
  /** `device/rule` of the alerts already open when the watch began: they cannot open again. */
  readonly preExisting: readonly string[];
  /** Messages on an alert topic that were not an alert object (skipped). */
  readonly malformed: number;
  /** The alerts seen live (not retained), by id, each with the command it carries (the dormitory power rule's cut-off). */
  linkedCommands(): ReadonlyMap<string, AlertLink>;
}

export interface AlertLink {
  device: string;
  rule: string;
  /** The alert's `command_id` (CONTRACT §10: the command the power rule sent when it opened). */
  commandId?: string;
}

interface Observed extends Omit<AlertObservation, "atMs"> {
  /** Event time, epoch ms. */
  at: number;
}

/**
 * An alert counts as opened at its own `started_at` (resolved at its `resolved_at`) when that lies
 * between the scenario's start (the opening's time) and its arrival: rules in event time stamp the
 * reading's time. Otherwise at the scenario clock when it arrived: the offline watchdog and last wills
 * stamp the wall clock, i.e. the present, which at a speed above 1× lies far ahead of the scenario's clock.
 */
export function createAlertObserver(startMs: number): AlertObserver {
  let start = startMs;
  const seen: Observed[] = [];
  const preExisting: string[] = [];
  /** Open alerts by `device/rule`, with the event time they opened at (-Infinity: before the watch). */
  const openedAt = new Map<string, number>();
  const links = new Map<string, AlertLink>();
  let malformed = 0;

  const plausible = (iso: string | undefined, floor: number, arrivedMs: number) => {
    const t = iso === undefined ? Number.NaN : Date.parse(iso);
    return Number.isFinite(t) && t >= floor && t <= arrivedMs ? t : arrivedMs;
  };

  return {
    observe({ topic, payload, retained }, arrivedMs) {
      const where = parseAlertTopic(topic);
      if (!where) return;
      const key = `${where.device}/${where.rule}`;
      const { device, rule } = where;
      if (payload.length === 0) {
        if (openedAt.delete(key)) seen.push({ device, rule, change: "resolved", at: arrivedMs });
        return;
      }
      const alert = decodeAlert(payload);
      if (alert === null) {
        malformed++;
        return;
      }
      if (retained) {
        if (alert.state !== "resolved") (preExisting.push(key), openedAt.set(key, -Infinity));
        return;
      }
      const link = links.get(alert.id) ?? { device, rule };
      links.set(alert.id, alert.command_id === undefined ? link : { ...link, commandId: alert.command_id });
      const opened = openedAt.get(key);
      if (alert.state === "resolved") {
        if (opened === undefined) return;
        openedAt.delete(key);
        seen.push({ device, rule, change: "resolved", at: plausible(alert.resolved_at, opened, arrivedMs) });
      } else if (opened === undefined) {
        const at = plausible(alert.started_at, start, arrivedMs);
        openedAt.set(key, at);
        seen.push({ device, rule, change: "opened", at, severity: alert.severity });
      }
    },
    startAt(startMs) {
      start = startMs;
    },
    observations: () => seen.map(({ at, ...rest }) => ({ ...rest, atMs: at - start })),
    preExisting,
    linkedCommands: () => links,
    get malformed() {
      return malformed;
    },
  };
}
