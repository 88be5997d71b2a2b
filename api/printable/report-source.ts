// Gathers one school's month for the printable report (CONTRACT §11) from where the API's other answers come
// from: kWh and after-hours from EnergyReader (../energy-report.ts, as /api/energy), alerts from the `alert`
// measurement (as /api/alerts history, CONTRACT §4), remote commands from the command audit
// (../command-history.ts, as /api/commands), maximum demand from the reports' peak-demand reader. A month that has
// not started is a report without data, read from nothing.
import type { Campus } from "../../domain/campus.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { listCommands } from "../command-history.js";
import type { CommandLog } from "../command-log.js";
import { EnergyReader } from "../energy-report.js";
import { historyError } from "../errors.js";
import type { Scope } from "../scope.js";
import { type AlertPoint, alertsByRule } from "./alert-stats.js";
import { commandSummary } from "./command-summary.js";
import { monthEnergy } from "./energy-summary.js";
import type { PrintableReport } from "./model.js";
import type { ReportMonth } from "./month.js";
import { type PeakSource, sitePeak } from "./peak.js";
import type { ReportLang } from "./words.js";

const DAY_MS = 86_400_000;
/**
 * Alert points are read from this long before the month, so an alert opened earlier and still changing in
 * the month is seen starting then (and is not counted), and this long after it, so an alert of the month's
 * last days shows when it was acknowledged, ms.
 */
export const ALERT_MARGIN_MS = 31 * DAY_MS;
/** Most `alert` points read for one report (as /api/alerts). */
const MAX_ALERT_POINTS = 50_000;

export interface ReportSources {
  influx: InfluxClient;
  campus: Campus;
  /** The commands the API saw announced (LiveState.commands): merged with the audit, as /api/commands does. */
  commandLog: CommandLog;
  /** Maximum demand (../reports/peak-demand.ts PeakDemandReader). */
  peak: PeakSource;
}

export class PrintableReports {
  private readonly energy: EnergyReader;

  constructor(private readonly sources: ReportSources) {
    this.energy = new EnergyReader(sources.influx, sources.campus);
  }

  /**
   * The report of `site` (one site's Campus of the district) for `month`, as of `at` (epoch ms); `scope` is the
   * principal's narrowed to that site (../scope.ts): an alert or command is the school's when it sees it.
   */
  async build(scope: Scope, site: Campus, month: ReportMonth, lang: ReportLang, at: number): Promise<PrintableReport> {
    const status = at < month.fromMs ? "future" : at < month.toMs ? "in-progress" : "over";
    const timeZone = site.site.timezone;
    const siteId = site.site.id;
    const bounds = { fromMs: month.fromMs, toMs: month.toMs };
    const nothing = status === "future";
    const [current, previous, alertPoints, commands, peakRows] = await Promise.all([
      nothing ? null : this.energy.read({ by: "building", every: "1d", ...bounds, split: true, sites: [site] }, at),
      nothing ? null : this.energy.read({ by: "building", every: "1mo", ...month.previous, split: false, sites: [site] }, at),
      nothing ? [] : this.alertPoints(siteId, scope, month),
      nothing ? [] : listCommands(this.sources.influx, this.sources.commandLog, { fromMs: month.fromMs, toMs: month.toMs - 1 }),
      nothing ? [] : this.sources.peak.read({ by: "site", every: "month", ...bounds, sites: [site] }, at),
    ]);
    const energy = monthEnergy(site.buildings, current?.series ?? [], previous?.series ?? [], month.days, timeZone, site.calendar);
    return {
      lang,
      school: { id: siteId, name: site.site.name },
      district: this.sources.campus.district,
      month: { id: month.id, year: month.year, month: month.month, ...bounds },
      timeZone,
      generatedAt: at,
      status,
      totalKwh: energy.totalKwh,
      previousKwh: energy.previousKwh,
      changePct: energy.changePct,
      afterHoursKwh: energy.afterHoursKwh,
      afterHoursShare: energy.afterHoursShare,
      buildings: energy.buildings,
      worstAfterHours: energy.worstAfterHours,
      days: energy.days,
      peak: sitePeak(peakRows, siteId),
      alerts: alertsByRule(alertPoints, month.fromMs, month.toMs),
      commands: commandSummary(
        commands.filter((c) => scope.seesAbout(c)),
        site.schedules,
      ),
    };
  }

  /** The `alert` points around the month that the scope sees (a device's site is the campus file's word). */
  private async alertPoints(siteId: string, scope: Scope, month: ReportMonth): Promise<AlertPoint[]> {
    const fromMs = month.fromMs - ALERT_MARGIN_MS;
    const toMs = month.toMs + ALERT_MARGIN_MS;
    // This school's points, and points written before the district (CONTRACT §9) without a `site` tag (an
    // absent tag reads as ''), whose device says where they belong. Site ids are [a-z0-9-] (CONTRACT §2).
    const query = `SELECT * FROM "alert" WHERE time >= ${Math.floor(fromMs)}ms AND time < ${Math.ceil(toMs)}ms AND ("site" = '${siteId}' OR "site" = '') LIMIT ${MAX_ALERT_POINTS}`;
    const points = rows(await this.sources.influx.query(query).catch(historyError));
    const out: AlertPoint[] = [];
    for (const p of points) {
      if (typeof p.alert_id !== "string" || typeof p.time !== "number" || typeof p.rule !== "string") continue;
      if (!scope.seesAbout({ device: String(p.device ?? ""), site: String(p.site ?? "") })) continue;
      // An acknowledgement's point says who (alerts/writer.ts); older points: the state, or a resolution carrying a note.
      const byAck = p.state === "acknowledged" || typeof p.acknowledged_by === "string" || (p.state === "resolved" && typeof p.ack_note === "string" && p.ack_note !== "");
      out.push({ alertId: p.alert_id, rule: p.rule, time: p.time, byAck });
    }
    return out;
  }
}
