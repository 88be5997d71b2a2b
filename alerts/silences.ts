// Maintenance windows (silences), pure: which are in force at a wall-clock instant, which alert they
// mute, and what an operator's create / end request does. Silences are real-world time (a window of
// works on site), so they are matched on the wall clock, not on event time.
// domain.md §8 "Suppression": never mute rules 1, 2, 11 and 12-critical — the latched, critical,
// fire-related alerts (short-circuit trip, arc, feeder residual current ≥ 300 mA, critical temperature).
import type { Alert } from "../domain/alert.js";
import type { Campus } from "../domain/campus.js";
import type { Silence, SilenceRequest, SilenceResult } from "../domain/silence.js";

const MAX_REASON = 500;
const MAX_SCOPE = 200;

/** A silence, and the site whose campus file declares it (absent: an operator's, scoped by its lists alone). */
export type SiteSilence = Silence & { site?: string };

/**
 * Every site's maintenance windows from its campus file as Silence objects (`source: "campus-file"`). Each
 * carries its `site` (an extension of the Silence object): a school's window mutes that school's alerts only,
 * even one scoped by rule alone (CONTRACT §9).
 */
export function campusSilences(campus: Campus): SiteSilence[] {
  return campus.sites.flatMap((site) =>
    site.alerts.silences.map((s) => ({
      id: s.id,
      scope: s.scope,
      starts_at: s.starts_at ? new Date(Date.parse(s.starts_at)).toISOString() : new Date(0).toISOString(),
      ends_at: new Date(Date.parse(s.ends_at)).toISOString(),
      reason: s.reason,
      created_by: "campus-file",
      source: "campus-file" as const,
      site: site.site.id,
    })),
  );
}

/** Not ended and not expired at `now` (future ones included: operators see what is planned). */
export const isCurrent = (s: Silence, now: number) => s.ended_at === undefined && Date.parse(s.ends_at) > now;
export const inForce = (s: Silence, now: number) => isCurrent(s, now) && Date.parse(s.starts_at) <= now;

/** A latched critical alert is fire-related (domain.md §8 rules 1, 2, 11, 12-critical): never muted. */
export const isUnmutable = (alert: Alert) => alert.latched === true && alert.severity === "critical";

const within = (list: string[] | undefined, value: string) => list === undefined || list.length === 0 || list.includes(value);

/** The id of the silence in force that mutes this alert, or undefined. */
export function silencing(silences: readonly SiteSilence[], alert: Alert, now: number): string | undefined {
  if (isUnmutable(alert)) return undefined;
  const match = silences.find(
    (s) => inForce(s, now) && (s.site === undefined || s.site === alert.site) && within(s.scope.devices, alert.device) && within(s.scope.buildings, alert.building) && within(s.scope.rules, alert.rule),
  );
  return match?.id;
}

export interface SilenceOutcome {
  silences: Silence[];
  seq: number;
  result: SilenceResult;
}

/** An operator's create or end request against the API-made silences; campus-file ones are read-only. */
export function applySilenceRequest(campus: Campus, fromFile: readonly Silence[], own: readonly Silence[], seq: number, request: SilenceRequest, now: number): SilenceOutcome {
  const fail = (code: "NOT_FOUND" | "INVALID" | "READ_ONLY", message: string): SilenceOutcome => ({ silences: [...own], seq, result: { ok: false, code, message } });
  if (request.action === "end") {
    if (fromFile.some((s) => s.id === request.silence_id)) return fail("READ_ONLY", `silence "${request.silence_id}" comes from the campus file; change the file to end it`);
    const found = own.find((s) => s.id === request.silence_id && isCurrent(s, now));
    if (!found) return fail("NOT_FOUND", `no current silence with id "${request.silence_id}"`);
    const ended: Silence = { ...found, ended_at: new Date(now).toISOString() };
    return { silences: own.map((s) => (s === found ? ended : s)), seq, result: { ok: true, silence: ended } };
  }
  const body = request.silence as Partial<Extract<SilenceRequest, { action: "create" }>["silence"]> | undefined;
  const problem = checkCreate(campus, body, now);
  if (problem) return fail("INVALID", problem);
  const starts = body!.starts_at === undefined ? now : Date.parse(body!.starts_at);
  const next = seq + 1;
  const silence: Silence = {
    id: `sil-${now}-${next}`,
    scope: pickScope(body!.scope!),
    starts_at: new Date(starts).toISOString(),
    ends_at: new Date(Date.parse(body!.ends_at!)).toISOString(),
    reason: body!.reason!,
    created_by: typeof request.by === "string" ? request.by : "unknown",
    source: "api",
  };
  // Expired or ended silences of the API are dropped from the state here (their history is the log).
  return { silences: [...own.filter((s) => isCurrent(s, now)), silence], seq: next, result: { ok: true, silence } };
}

function checkCreate(campus: Campus, body: Partial<{ scope: unknown; starts_at: string; ends_at: string; reason: string }> | undefined, now: number): string | null {
  if (typeof body !== "object" || body === null) return "silence must be an object";
  if (typeof body.reason !== "string" || body.reason.trim() === "" || body.reason.length > MAX_REASON) return `reason must be 1–${MAX_REASON} characters`;
  const ends = typeof body.ends_at === "string" ? Date.parse(body.ends_at) : NaN;
  if (Number.isNaN(ends)) return "ends_at must be an ISO 8601 time";
  const starts = body.starts_at === undefined ? now : typeof body.starts_at === "string" ? Date.parse(body.starts_at) : NaN;
  if (Number.isNaN(starts)) return "starts_at must be an ISO 8601 time";
  if (ends <= starts || ends <= now) return "ends_at must be after starts_at and in the future";
  const scope = body.scope as Record<string, unknown> | undefined;
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) return "scope must be an object";
  const known: Record<string, (id: string) => boolean> = {
    devices: (id) => campus.deviceById.has(id),
    buildings: (id) => campus.buildingById.has(id),
    rules: () => true,
  };
  for (const [key, value] of Object.entries(scope)) {
    if (!Object.hasOwn(known, key)) return `scope.${key} is not devices, buildings or rules`;
    if (!Array.isArray(value) || value.length > MAX_SCOPE || !value.every((v) => typeof v === "string")) return `scope.${key} must be a list of ids`;
    const unknown = value.find((id) => !known[key]!(id as string));
    if (unknown !== undefined) return `scope.${key}: unknown id "${String(unknown)}"`;
  }
  return null;
}

const pickScope = (scope: unknown): Silence["scope"] => {
  const s = scope as Record<string, string[] | undefined>;
  return { ...(s.devices ? { devices: s.devices } : {}), ...(s.buildings ? { buildings: s.buildings } : {}), ...(s.rules ? { rules: s.rules } : {}) };
};
