// A daily digest (./digest-content.ts) in words, pure: a title and blocks of lines in the route's language and
// format (./markup.ts), read on a phone or in a mailbox. The alerts of the last day by rule with how fast they
// were acknowledged, yesterday's energy against the day before, the devices offline now, the month's report.
import type { RouteLanguage } from "../../domain/district/schema.js";
import { type Digest, energyChangePct, type RuleSummary } from "./digest-content.js";
import type { Markup } from "./markup.js";
import { ruleName } from "../../domain/rule-words.js";
import { localTime } from "./message-text.js";

const WORDS = {
  "zh-CN": {
    title: (school: string, date: string) => `【日报】${school} ${date}`,
    alerts: (from: string, to: string) => `告警（${from} 至 ${to}）`,
    none: "无告警",
    rule: (r: RuleSummary, name: string, ack: string) => `${name}：${r.opened} 条，已确认 ${r.acknowledged} 条${ack}，未确认 ${r.unacknowledged} 条`,
    ackTimes: (median: string, worst: string) => `（确认用时中位 ${median}，最长 ${worst}）`,
    energy: "用电",
    day: (day: string, kwh: string) => `${day}：${kwh}`,
    change: (pct: string) => `，较前一日 ${pct}`,
    noData: "无数据",
    offline: (n: number) => (n === 0 ? "当前离线设备：无" : `当前离线设备：${n} 台`),
    more: (n: number) => `等，共 ${n} 台`,
    room: (r: string) => ` ${r}室`,
    report: "本月用电报表",
    duration: (s: number) => (s < 60 ? `${Math.round(s)} 秒` : s < 3600 ? `${Math.round(s / 60)} 分钟` : `${Math.round(s / 360) / 10} 小时`),
  },
  en: {
    title: (school: string, date: string) => `Daily digest · ${school} · ${date}`,
    alerts: (from: string, to: string) => `Alerts (${from} to ${to})`,
    none: "No alerts",
    rule: (r: RuleSummary, name: string, ack: string) => `${name}: ${r.opened} opened, ${r.acknowledged} acknowledged${ack}, ${r.unacknowledged} unacknowledged`,
    ackTimes: (median: string, worst: string) => ` (time to acknowledge: median ${median}, worst ${worst})`,
    energy: "Energy",
    day: (day: string, kwh: string) => `${day}: ${kwh}`,
    change: (pct: string) => `, ${pct} against the day before`,
    noData: "no data",
    offline: (n: number) => (n === 0 ? "Devices offline now: none" : `Devices offline now: ${n}`),
    more: (n: number) => `and more, ${n} in all`,
    room: (r: string) => ` room ${r}`,
    report: "This month's energy report",
    duration: (s: number) => (s < 60 ? `${Math.round(s)} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 360) / 10} h`),
  },
} as const;

/** "1,234.5 kWh": at most one decimal. */
const kwhText = (kwh: number, lang: RouteLanguage) => `${(Math.round(kwh * 10) / 10).toLocaleString(lang === "en" ? "en-US" : "zh-CN")} kWh`;

/** "+3.2 %" / "−5 %" (a minus sign, as a person writes it); null when the day before had nothing to compare with. */
function changeText(energy: Digest["energy"]): string | null {
  const pct = energyChangePct(energy);
  if (pct === null) return null;
  return `${pct > 0 ? "+" : pct < 0 ? "−" : "±"}${Math.abs(pct)} %`;
}

export function digestText(digest: Digest, lang: RouteLanguage, m: Markup): { title: string; blocks: string[][] } {
  const w = WORDS[lang];
  const zone = digest.timezone;
  const ruleLines = digest.rules.map((r) => {
    const ack = r.median_ack_s === null || r.worst_ack_s === null ? "" : w.ackTimes(w.duration(r.median_ack_s), w.duration(r.worst_ack_s));
    return m.item(w.rule(r, ruleName(r.rule, lang), ack));
  });
  const alerts = [m.strong(w.alerts(localTime(new Date(digest.from_ms).toISOString(), zone), localTime(new Date(digest.to_ms).toISOString(), zone))), ...(ruleLines.length > 0 ? ruleLines : [w.none])];

  const { energy } = digest;
  const change = changeText(energy);
  const kwhOrNone = (kwh: number | null) => (kwh === null ? w.noData : kwhText(kwh, lang));
  const energyLines = [m.strong(w.energy), m.item(`${w.day(energy.day, kwhOrNone(energy.kwh))}${change ? w.change(change) : ""}`), m.item(w.day(energy.day_before, kwhOrNone(energy.kwh_before)))];

  const listed = digest.offline.map((d) => m.item(`${m.text(d.device)}（${m.text(d.building)}${d.room ? m.text(w.room(d.room)) : ""}）`));
  const offline = [m.strong(w.offline(digest.offline_total)), ...listed, ...(digest.offline_total > digest.offline.length ? [w.more(digest.offline_total)] : [])];

  return { title: w.title(digest.school, digest.date), blocks: [alerts, energyLines, offline, [m.link(w.report, digest.report_url)]] };
}
