// What a person reads on a phone (CONTRACT §14 "Every message"), pure: the school, building, room, device,
// the rule in words, the severity as a coloured word, value against threshold with its unit, since when in
// the school's own time, who acknowledged and their note, and a link to the alert on the dashboard. zh-CN
// by default, English with `lang: en`. One alert reads as a card of labelled lines; several (a building's
// group, or a robot's backlog under flood control: ./rate.ts) as one line each, grouped by school, then by
// building. The formats differ in their markup (./markup.ts: a robot's markdown and colour, an e-mail's HTML
// or plain text), and WeCom in its size limit.
import type { Alert, Severity } from "../../domain/alert.js";
import type { RouteLanguage } from "../../domain/district/schema.js";
import type { WebhookEvent } from "../saved-state.js";
import type { Markup } from "./markup.js";
import { RULE_WORDS, ruleName } from "../../domain/rule-words.js";

export interface NoticeItem {
  event: WebhookEvent;
  alert: Alert;
}

/** Where an alert is, in names (the campus file's), and its school's time zone. */
export interface AlertPlace {
  school: string;
  building: string;
  timezone: string;
}

export interface TextOptions {
  lang: RouteLanguage;
  /** `PUBLIC_URL` without a trailing slash. */
  publicUrl: string;
  place(alert: Alert): AlertPlace;
  markup: Markup;
}

const WORDS = {
  "zh-CN": {
    severity: { critical: "危急", major: "严重", minor: "次要", warning: "警告", info: "提示" },
    event: { opened: "新告警", escalated: "已升级", acknowledged: "已确认", resolved: "已恢复", reminder: "仍未确认" },
    school: "学校", where: "位置", device: "设备", value: "数值", threshold: "阈值", since: "开始", resolvedAt: "恢复",
    by: "确认人", note: "备注", link: "查看告警", room: (r: string) => `${r}室`, alerts: (n: number) => `${n} 条告警`,
  },
  en: {
    severity: { critical: "Critical", major: "Major", minor: "Minor", warning: "Warning", info: "Info" },
    event: { opened: "New", escalated: "Escalated", acknowledged: "Acknowledged", resolved: "Resolved", reminder: "Still unacknowledged" },
    school: "School", where: "Where", device: "Device", value: "Value", threshold: "threshold", since: "Since", resolvedAt: "Resolved",
    by: "Acknowledged by", note: "Note", link: "Open the alert", room: (r: string) => `room ${r}`, alerts: (n: number) => `${n} alerts`,
  },
} as const;

const SEVERITY_ORDER: readonly Severity[] = ["critical", "major", "minor", "warning", "info"];
export const mostSevere = (items: readonly NoticeItem[]) => [...items].sort((a, b) => SEVERITY_ORDER.indexOf(a.alert.severity) - SEVERITY_ORDER.indexOf(b.alert.severity))[0]!;

/** The dashboard's page of the alert's device, which lists its open alerts (api/dashboard/router.js `#/device/{id}`). */
export const alertLink = (publicUrl: string, alert: Alert) => `${publicUrl}/#/device/${encodeURIComponent(alert.device)}`;

/** "2026-12-06 08:03" in the school's zone. */
export function localTime(iso: string, timezone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`;
}

/** At most one decimal, no trailing zero. */
const number = (value: number) => String(Math.round(value * 10) / 10);

/** "18.2 A（阈值 16 A）" / "18.2 A (threshold 16 A)". */
export function valueAgainstThreshold(alert: Alert, lang: RouteLanguage): string {
  const unit = RULE_WORDS[alert.rule]?.unit ?? "";
  const withUnit = (v: number) => `${number(v)}${unit ? ` ${unit}` : ""}`;
  return lang === "en" ? `${withUnit(alert.value)} (${WORDS.en.threshold} ${withUnit(alert.threshold)})` : `${withUnit(alert.value)}（${WORDS["zh-CN"].threshold} ${withUnit(alert.threshold)}）`;
}


/** The message's title: what a phone's notification shows. */
export function titleOf(items: readonly NoticeItem[], o: TextOptions): string {
  const w = WORDS[o.lang];
  const head = mostSevere(items);
  const place = o.place(head.alert);
  if (items.length === 1) return `【${w.severity[head.alert.severity]}】${ruleName(head.alert.rule, o.lang)} · ${w.event[head.event]} · ${place.building}`;
  return `【${w.severity[head.alert.severity]}】${w.alerts(items.length)} · ${place.school}`;
}

const roomOf = (alert: Alert, lang: RouteLanguage) => (alert.room ? ` ${WORDS[lang].room(alert.room)}` : "");

/** One alert as labelled lines (markdown). */
function card(item: NoticeItem, o: TextOptions): string[] {
  const w = WORDS[o.lang];
  const { alert } = item;
  const place = o.place(alert);
  const m = o.markup;
  const sep = o.lang === "en" ? ": " : "：";
  const lines = [
    m.strong(`${m.colour(alert.severity, w.severity[alert.severity])} ${ruleName(alert.rule, o.lang)} · ${w.event[item.event]}`),
    `${w.school}${sep}${m.text(place.school)}`,
    `${w.where}${sep}${m.text(place.building)}${m.text(roomOf(alert, o.lang))}`,
    `${w.device}${sep}${m.text(alert.device)}`,
    `${w.value}${sep}${valueAgainstThreshold(alert, o.lang)}`,
    `${w.since}${sep}${localTime(alert.started_at, place.timezone)}`,
  ];
  if (item.event === "resolved" && alert.resolved_at) lines.push(`${w.resolvedAt}${sep}${localTime(alert.resolved_at, place.timezone)}`);
  if (alert.acknowledged_by) lines.push(`${w.by}${sep}${m.text(alert.acknowledged_by)}${alert.ack_note ? `（${w.note}${sep}${m.text(alert.ack_note)}）` : ""}`);
  lines.push(m.link(w.link, alertLink(o.publicUrl, alert)));
  return lines;
}

/** One alert as one line, for a message about several. */
function line(item: NoticeItem, o: TextOptions): string {
  const w = WORDS[o.lang];
  const { alert } = item;
  const m = o.markup;
  const ack = alert.acknowledged_by ? ` · ${w.by} ${m.text(alert.acknowledged_by)}${alert.ack_note ? `「${m.text(alert.ack_note)}」` : ""}` : "";
  const time = localTime(alert.started_at, o.place(alert).timezone).slice(11);
  return m.item(`${m.colour(alert.severity, w.severity[alert.severity])} ${ruleName(alert.rule, o.lang)}（${w.event[item.event]}）${m.text(roomOf(alert, o.lang))} ${m.text(alert.device)} ${valueAgainstThreshold(alert, o.lang)} ${time}${ack} ${m.link(w.link, alertLink(o.publicUrl, alert))}`);
}

/** The message's body as markdown blocks of lines; the robots join them their way. */
export function bodyOf(items: readonly NoticeItem[], o: TextOptions): string[][] {
  if (items.length === 1) return [card(items[0]!, o)];
  // By school, then by building, in order of first appearance (a backlog keeps the order things happened).
  const sections = new Map<string, NoticeItem[]>();
  for (const item of items) {
    const place = o.place(item.alert);
    const key = `${place.school} · ${place.building}`;
    const section = sections.get(key);
    if (section) section.push(item);
    else sections.set(key, [item]);
  }
  return [...sections].map(([heading, list]) => [o.markup.strong(o.markup.text(heading)), ...list.map((i) => line(i, o))]);
}

/** The items' own severity, for a card header's colour: a message about resolved alerts only is good news. */
export const headerSeverity = (items: readonly NoticeItem[]): Severity | "resolved" => (items.every((i) => i.event === "resolved") ? "resolved" : mostSevere(items).alert.severity);
