// The printable monthly report (CONTRACT §11) as one HTML document: everything is in the HTML itself (the
// school's name, every figure, the chart as inline SVG, the style sheet), with no script at all, so it
// prints as served. Every text from outside (names, ids, people) is escaped. Pure: model in, HTML out.
import { dailyChartSvg } from "./daily-chart.js";
import { escapeHtml, ReportFormat } from "./format.js";
import type { BuildingRow, CommandSummary, PrintableReport, RuleStats } from "./model.js";
import { PRINT_CSS } from "./print-css.js";
import { ruleName } from "../../domain/rule-words.js";
import { WORDS } from "./words.js";

const e = escapeHtml;
const changeClass = (pct: number | null) => (pct === null || pct === 0 ? "" : pct > 0 ? " up" : " down");
const cell = (text: string, numeric = false, extraClass = "") => `<td class="${numeric ? "num" : ""}${extraClass}">${e(text)}</td>`;
const head = (labels: readonly (readonly [string, boolean])[]) => `<thead><tr>${labels.map(([label, numeric]) => `<th${numeric ? ' class="num"' : ""}>${e(label)}</th>`).join("")}</tr></thead>`;

export function renderReport(report: PrintableReport): string {
  const w = WORDS[report.lang];
  const f = new ReportFormat(report.lang, w, report.timeZone);
  const month = w.month(report.month.year, report.month.month);
  const lastDayMs = report.month.toMs - 1;
  // A plain campus file is a district of one, named as its school (domain/campus/parse.ts): no district to name.
  const district: [string, string][] = report.district.id === report.school.id ? [] : [[w.district, report.district.name]];
  const meta: [string, string][] = [
    ...district,
    [w.period, `${f.date(report.month.fromMs)} – ${f.date(lastDayMs)}`],
    [w.timeZone, report.timeZone],
    [w.generatedAt, f.dateTime(report.generatedAt)],
  ];
  const note = report.status === "future" ? w.future : report.status === "in-progress" ? w.inProgress : null;
  return `<!doctype html>
<html lang="${report.lang}">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>${e(`${report.school.name} · ${month} · ${w.title}`)}</title>
<style>${PRINT_CSS}</style>
</head>
<body>
<header>
<h1>${e(report.school.name)}<span class="kind">${e(`${month} ${w.title}`)}</span></h1>
<dl class="meta">${meta.map(([dt, dd]) => `<div><dt>${e(dt)}</dt><dd>${e(dd)}</dd></div>`).join("")}</dl>
${note === null ? "" : `<p class="note">${e(note)}</p>`}
</header>
${keyFigures(report, f)}
<section class="daily"><h2>${e(w.dailyChart)}</h2><figure>${dailyChartSvg(report.days, f)}</figure></section>
${buildingsTable(report, f)}
${afterHours(report, f)}
${alertsTable(report.alerts, f)}
${commandsSection(report.commands, f)}
<footer>${e(w.method)}</footer>
</body>
</html>
`;
}

function keyFigures(report: PrintableReport, f: ReportFormat): string {
  const w = f.words;
  const peak = report.peak === null ? ["—", w.peakNote] : [`${f.kw(report.peak.kw)} kW`, `${f.dateTime(report.peak.at)} · ${w.peakNote}`];
  const alerts = report.alerts.reduce((sum, r) => sum + r.count, 0);
  const acknowledged = report.alerts.reduce((sum, r) => sum + r.acknowledged, 0);
  const figures: [string, string, string, string][] = [
    ["month-kwh", w.monthKwh, `${f.kwh(report.totalKwh)} kWh`, `${w.previousKwh} ${f.kwh(report.previousKwh)} kWh · ${w.change} ${f.change(report.changePct)}`],
    ["after-hours", w.afterHoursShare, f.share(report.afterHoursShare), `${f.kwh(report.afterHoursKwh)} kWh`],
    ["peak", w.peakDemand, peak[0]!, peak[1]!],
    ["alerts", w.alertsFigure, f.count(alerts), w.alertsCount(alerts, acknowledged)],
  ];
  const tiles = figures.map(([id, label, value, sub]) => `<div class="figure" data-figure="${id}"><div class="label">${e(label)}</div><div class="value">${e(value)}</div><div class="sub">${e(sub)}</div></div>`);
  return `<section class="summary"><div class="figures">${tiles.join("")}</div></section>`;
}

function buildingsTable(report: PrintableReport, f: ReportFormat): string {
  const w = f.words;
  const row = (b: BuildingRow) =>
    `<tr data-building="${e(b.id)}">${cell(b.name)}${cell(f.kwh(b.kwh), true)}${cell(f.kwh(b.previousKwh), true)}${cell(f.change(b.changePct), true, changeClass(b.changePct))}${cell(f.share(b.afterHoursShare), true)}</tr>`;
  const total = `<tr>${cell(w.total)}${cell(f.kwh(report.totalKwh), true)}${cell(f.kwh(report.previousKwh), true)}${cell(f.change(report.changePct), true, changeClass(report.changePct))}${cell(f.share(report.afterHoursShare), true)}</tr>`;
  const headers = [[w.building, false], [`${w.monthKwh} kWh`, true], [`${w.previousKwh} kWh`, true], [w.change, true], [w.afterHoursShare, true]] as const;
  const empty = report.totalKwh === 0 && report.status !== "future" ? `<p class="small">${e(w.noData)}</p>` : "";
  return `<section class="buildings"><h2>${e(w.byBuilding)}</h2><table>${head(headers)}<tbody>${report.buildings.map(row).join("")}</tbody><tfoot>${total}</tfoot></table>${empty}</section>`;
}

function afterHours(report: PrintableReport, f: ReportFormat): string {
  const w = f.words;
  const rows = report.worstAfterHours.map((b) => `<tr data-building="${e(b.id)}">${cell(b.name)}${cell(f.kwh(b.afterHoursKwh), true)}${cell(f.share(b.afterHoursShare), true)}</tr>`);
  const table = rows.length === 0 ? "" : `<h3 class="small">${e(w.worstBuildings)}</h3><table>${head([[w.building, false], [w.afterHoursKwh, true], [w.afterHoursShare, true]])}<tbody>${rows.join("")}</tbody></table>`;
  return `<section class="after-hours"><h2>${e(w.afterHours)}</h2><p class="lead">${e(w.afterHoursLead(f.share(report.afterHoursShare)))}</p>${table}</section>`;
}

function alertsTable(alerts: readonly RuleStats[], f: ReportFormat): string {
  const w = f.words;
  if (alerts.length === 0) return `<section class="alerts"><h2>${e(w.alerts)}</h2><p>${e(w.noAlerts)}</p></section>`;
  const rows = alerts.map(
    (r) => `<tr data-rule="${e(r.rule)}">${cell(ruleName(r.rule, f.lang))}${cell(f.count(r.count), true)}${cell(f.count(r.acknowledged), true)}${cell(f.duration(r.medianAckMs), true)}${cell(f.duration(r.worstAckMs), true)}</tr>`,
  );
  const headers = [[w.rule, false], [w.count, true], [w.acknowledged, true], [w.medianAck, true], [w.worstAck, true]] as const;
  return `<section class="alerts"><h2>${e(w.alerts)}</h2><table>${head(headers)}<tbody>${rows.join("")}</tbody></table><p class="small">${e(w.ackNote)}</p></section>`;
}

function commandsSection(commands: CommandSummary, f: ReportFormat): string {
  const w = f.words;
  if (commands.total === 0) return `<section class="commands"><h2>${e(w.commands)}</h2><p>${e(w.noCommands)}</p></section>`;
  const counts = commands.byState.map(({ state, count }) => `${w.states[state]} ${f.count(count)}`).join(" · ");
  const schedules = commands.schedules.map((s) => w.scheduleLine(s.name, f.count(s.count), f.count(s.confirmed)));
  const rows = commands.listed.map(
    (c) => `<tr>${cell(f.dateTime(Date.parse(c.selected_at)))}${cell(c.device)}${cell(w.actions[c.action])}${cell(c.issued_by)}${cell(w.states[c.state])}</tr>`,
  );
  const table = rows.length === 0 ? "" : `<table>${head([[w.time, false], [w.device, false], [w.action, false], [w.who, false], [w.result, false]])}<tbody>${rows.join("")}</tbody></table>`;
  const more = commands.unlisted > 0 ? `<p class="small">${e(w.moreCommands(commands.unlisted))}</p>` : "";
  return `<section class="commands"><h2>${e(w.commands)}</h2><p class="lead">${e(`${w.commandsCount(commands.total)} ${counts}`)}</p>${schedules.map((s) => `<p class="small">${e(s)}</p>`).join("")}${table}${more}</section>`;
}
