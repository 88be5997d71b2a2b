// GET /api/alerts and POST /api/alerts/{id}/ack (CONTRACT §6), of the caller's sites (§9): an alert of
// another site is neither listed nor acknowledged (404 as an unknown one), and every alert carries `site`.
import { randomUUID } from "node:crypto";
import { Type as T } from "@sinclair/typebox";
import { ALERT_STATES, type Alert, AlertSchema, type AlertState, SEVERITIES, type Severity } from "../../domain/alert.js";
import type { Campus } from "../../domain/campus.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { askAlertsService } from "../alerts-request.js";
import { apiError, ErrorBodySchema, historyError } from "../errors.js";
import { type Order, paginate as paginateList } from "../paging.js";
import { routePlugin } from "../route-plugin.js";
import type { Scope } from "../scope.js";
import { AckBodySchema, type AlertsQuery, AlertsQuerySchema, IdParamsSchema } from "../schemas.js";
import { parseInstant, resolveRange } from "../time.js";

/** Most `alert` points read for one listing. */
const MAX_ALERT_POINTS = 50_000;

/**
 * Collapses the `alert` measurement's points (one per change) to one alert per `alert_id`:
 * the newest point gives state, severity, value, threshold and message; the oldest in the window
 * gives `started_at` (approximate when the alert opened before the window).
 */
export function collapseAlertPoints(points: Record<string, unknown>[], campus: Campus): Alert[] {
  const byId = new Map<string, { first: Record<string, unknown>; last: Record<string, unknown> }>();
  for (const p of points) {
    if (typeof p.alert_id !== "string" || typeof p.time !== "number") continue;
    const seen = byId.get(p.alert_id);
    if (!seen) byId.set(p.alert_id, { first: p, last: p });
    else {
      if ((p.time as number) < (seen.first.time as number)) seen.first = p;
      if ((p.time as number) >= (seen.last.time as number)) seen.last = p;
    }
  }
  const alerts: Alert[] = [];
  for (const [id, { first, last }] of byId) {
    const device = String(last.device ?? "");
    // Points written since the district (CONTRACT §9) carry the `site` tag; older ones get their device's.
    const site = typeof last.site === "string" && last.site !== "" ? last.site : (campus.siteOfDevice.get(device)?.site.id ?? "");
    const state = ALERT_STATES.includes(last.state as AlertState) ? (last.state as AlertState) : "firing";
    const alert: Alert = {
      id,
      rule: String(last.rule ?? ""),
      device,
      building: String(last.building ?? ""),
      site,
      severity: SEVERITIES.includes(last.severity as Severity) ? (last.severity as Severity) : "info",
      state,
      value: typeof last.value === "number" ? last.value : 0,
      threshold: typeof last.threshold === "number" ? last.threshold : 0,
      message: String(last.message ?? ""),
      started_at: new Date(first.time as number).toISOString(),
      updated_at: new Date(last.time as number).toISOString(),
    };
    const room = campus.deviceById.get(device)?.room;
    if (room) alert.room = room;
    if (state === "resolved") alert.resolved_at = alert.updated_at;
    alerts.push(alert);
  }
  return alerts;
}

/** Newest first: by started_at, then updated_at (both descending), then id. */
export const alertOrder: Order<Alert> = {
  keyLength: 3,
  key: (a) => [a.started_at, a.updated_at, a.id],
  compare: (a, b) => b[0]!.localeCompare(a[0]!) || b[1]!.localeCompare(a[1]!) || a[2]!.localeCompare(b[2]!),
};
export const newestFirst = (a: Alert, b: Alert) => alertOrder.compare(alertOrder.key(a), alertOrder.key(b));

async function alertHistory(influx: InfluxClient, fromMs: number, toMs: number, campus: Campus): Promise<Alert[]> {
  const q = `SELECT * FROM "alert" WHERE time >= ${Math.floor(fromMs)}ms AND time <= ${Math.ceil(toMs)}ms LIMIT ${MAX_ALERT_POINTS}`;
  const series = await influx.query(q).catch(historyError);
  return collapseAlertPoints(rows(series), campus);
}

/** One page of a newest-first list of alerts, after the alert the cursor names (./paging.ts). */
export const paginate = (alerts: Alert[], limit: number, cursor: string | undefined) => paginateList(alerts, limit, cursor, alertOrder);

export const alertRoutes = routePlugin("campus-power-alerts", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema };

  app.get(
    "/api/alerts",
    {
      schema: {
        summary: "Alerts, newest first: open ones from the live state, or all (history merged with open ones)",
        tags: ["alerts"],
        querystring: AlertsQuerySchema,
        response: {
          200: T.Union([T.Array(AlertSchema), T.Object({ items: T.Array(AlertSchema), next: T.Union([T.String(), T.Null()]) })], {
            description: "an array; {items, next} when `limit` or `cursor` is given",
          }),
          503: ErrorBodySchema,
          ...errors,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const scope = request.scope!.narrow(q.site);
      const list = (await listAlerts(q, scope)).filter((a) => scope.seesAbout(a)).map((a) => scope.withSite(a));
      return q.limit !== undefined || q.cursor !== undefined ? paginate(list, q.limit ?? 100, q.cursor) : list;
    },
  );

  async function listAlerts(q: AlertsQuery, scope: Scope): Promise<Alert[]> {
    const open = deps.state.openAlerts().filter((a) => scope.seesAbout(a));
    if ((q.state ?? "open") === "open") {
      // Open alerts are current: no default window; from/to (when given) filter on updated_at.
      const fromMs = q.from ? parseInstant(q.from) : -Infinity;
      const toMs = q.to ? parseInstant(q.to) : Infinity;
      if (fromMs === null || toMs === null) throw apiError("BAD_TIME");
      return open.filter((a) => Date.parse(a.updated_at) >= fromMs && Date.parse(a.updated_at) <= toMs).sort(newestFirst);
    }
    const { fromMs, toMs } = resolveRange(q, now());
    const merged = new Map<string, Alert>();
    for (const alert of await alertHistory(deps.influx, fromMs, toMs, deps.campus)) merged.set(alert.id, alert);
    // An open alert from the live state is the full object (acknowledged_by, real started_at): it wins.
    for (const alert of open) if (Date.parse(alert.started_at) <= toMs) merged.set(alert.id, alert);
    return [...merged.values()].sort(newestFirst);
  }

  app.post(
    "/api/alerts/:id/ack",
    {
      config: { role: "operator" },
      schema: {
        summary: "Acknowledge an open alert (operator); answers with the acknowledged alert",
        tags: ["alerts"],
        params: IdParamsSchema,
        body: AckBodySchema,
        response: { 200: AlertSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 503: ErrorBodySchema, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      const open = deps.state.openAlert(id);
      if (open === undefined || !request.scope!.seesAbout(open)) throw apiError("ALERT_NOT_FOUND", `no open alert "${id}"`);
      const note = request.body?.note;
      const ackRequest = { alert_id: id, by: request.principal!.name, request_id: randomUUID(), ...(note ? { note } : {}) };
      const { alert } = await askAlertsService(() => deps.ack(ackRequest), { NOT_FOUND: "ALERT_NOT_FOUND", otherwise: "ACK_REFUSED" });
      return request.scope!.withSite(alert);
    },
  );
});
