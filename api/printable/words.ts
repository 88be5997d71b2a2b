// The printable report's words in its two languages (issue 13: Chinese and English). One interface, so a
// phrase missing in one language is a type error. Rule names are in domain/rule-words.ts.
import type { CommandAction, CommandState } from "../../domain/command.js";
import type { DayKind } from "./month.js";

export const REPORT_LANGS = ["zh-CN", "en"] as const;
export type ReportLang = (typeof REPORT_LANGS)[number];

export interface ReportWords {
  title: string;
  /** The month as a heading, e.g. "2026年11月" / "November 2026". */
  month(year: number, month: number): string;
  district: string;
  period: string;
  timeZone: string;
  generatedAt: string;
  inProgress: string;
  future: string;
  monthKwh: string;
  previousKwh: string;
  change: string;
  afterHoursShare: string;
  peakDemand: string;
  peakNote: string;
  alertsFigure: string;
  alertsCount(count: number, acknowledged: number): string;
  byBuilding: string;
  building: string;
  afterHoursKwh: string;
  total: string;
  noData: string;
  dailyChart: string;
  day: string;
  dayKinds: Record<DayKind, string>;
  afterHours: string;
  afterHoursLead(share: string): string;
  worstBuildings: string;
  alerts: string;
  rule: string;
  count: string;
  acknowledged: string;
  medianAck: string;
  worstAck: string;
  noAlerts: string;
  ackNote: string;
  commands: string;
  noCommands: string;
  commandsCount(count: number): string;
  time: string;
  device: string;
  action: string;
  who: string;
  result: string;
  actions: Record<CommandAction, string>;
  states: Record<CommandState, string>;
  /** A schedule's commands of the month: how many, how many the devices carried out. */
  scheduleLine(name: string, count: string, confirmed: string): string;
  moreCommands(count: number): string;
  method: string;
  /** A duration: hours, minutes, seconds (whole). */
  duration(hours: number, minutes: number, seconds: number): string;
}

const zh: ReportWords = {
  title: "用电月报",
  month: (year, month) => `${year}年${month}月`,
  district: "所属",
  period: "统计周期",
  timeZone: "时区",
  generatedAt: "生成时间",
  inProgress: "本月尚未结束：数据截至生成时间，与上月整月相比。",
  future: "该月尚未开始，暂无数据。",
  monthKwh: "本月用电",
  previousKwh: "上月用电",
  change: "环比",
  afterHoursShare: "非工作时间用电占比",
  peakDemand: "最大需量",
  peakNote: "15 分钟平均功率的最大值",
  alertsFigure: "本月告警",
  alertsCount: (count, acknowledged) => `告警 ${count} 起，已确认 ${acknowledged} 起`,
  byBuilding: "各建筑用电",
  building: "建筑",
  afterHoursKwh: "非工作时间 kWh",
  total: "全校合计",
  noData: "本月没有用电数据。",
  dailyChart: "每日用电量",
  day: "日期（日）",
  dayKinds: { school: "上课日", workday: "调休上课日", weekend: "周末", holiday: "节假日", vacation: "寒暑假" },
  afterHours: "非工作时间用电",
  afterHoursLead: (share) => `全校非工作时间（课表以外的时段，以及周末、节假日和寒暑假全天）用电占本月用电的 ${share}。`,
  worstBuildings: "非工作时间用电最多的建筑",
  alerts: "本月告警（按规则）",
  rule: "规则",
  count: "次数",
  acknowledged: "已确认",
  medianAck: "确认用时（中位数）",
  worstAck: "最长确认用时",
  noAlerts: "本月没有告警。",
  ackNote: "确认用时：从告警发生到值班人员确认。",
  commands: "远程控制",
  noCommands: "本月没有远程控制操作。",
  commandsCount: (count) => `本月远程控制 ${count} 次。`,
  time: "时间",
  device: "设备",
  action: "操作",
  who: "操作人",
  result: "结果",
  actions: { switch_off: "断电", switch_on: "通电" },
  states: { selected: "已选择", cancelled: "已取消", expired: "已过期", sent: "已下发", confirmed: "已执行", failed: "失败", timeout: "超时" },
  scheduleLine: (name, count, confirmed) => `定时任务「${name}」：${count} 次，已执行 ${confirmed} 次`,
  moreCommands: (count) => `另有 ${count} 次操作未列出（见远程控制记录）。`,
  method: "说明：用电量由各回路最上级电能表的累计读数差值计算（计数器清零不计为负值）；非工作时间按各建筑类型的作息和学校校历判断；时间均为学校所在时区。",
  duration: (h, m, s) => (h > 0 ? `${h} 小时 ${m} 分` : m > 0 ? `${m} 分 ${s} 秒` : `${s} 秒`),
};

const en: ReportWords = {
  title: "Monthly electricity report",
  month: (year, month) => new Intl.DateTimeFormat("en", { year: "numeric", month: "long", timeZone: "UTC" }).format(Date.UTC(year, month - 1, 1)),
  district: "District",
  period: "Period",
  timeZone: "Time zone",
  generatedAt: "Generated",
  inProgress: "The month is not over: figures up to the time generated, against the whole previous month.",
  future: "This month has not started: no data yet.",
  monthKwh: "This month",
  previousKwh: "Previous month",
  change: "Change",
  afterHoursShare: "After-hours share",
  peakDemand: "Peak demand",
  peakNote: "largest 15-minute mean power",
  alertsFigure: "Alerts",
  alertsCount: (count, acknowledged) => `${count} alerts, ${acknowledged} acknowledged`,
  byBuilding: "By building",
  building: "Building",
  afterHoursKwh: "After-hours kWh",
  total: "Whole school",
  noData: "No electricity data for this month.",
  dailyChart: "Daily consumption",
  day: "Day of month",
  dayKinds: { school: "School day", workday: "Make-up school day", weekend: "Weekend", holiday: "Holiday", vacation: "Vacation" },
  afterHours: "After-hours consumption",
  afterHoursLead: (share) => `Outside school hours (outside each building's timetable, and all day on weekends, holidays and vacations) the school used ${share} of the month's electricity.`,
  worstBuildings: "Buildings using most after hours",
  alerts: "Alerts of the month, by rule",
  rule: "Rule",
  count: "Count",
  acknowledged: "Acknowledged",
  medianAck: "Median time to acknowledge",
  worstAck: "Longest time to acknowledge",
  noAlerts: "No alerts this month.",
  ackNote: "Time to acknowledge: from the alert's start to an operator's acknowledgement.",
  commands: "Remote switching",
  noCommands: "No remote commands this month.",
  commandsCount: (count) => `${count} remote commands this month.`,
  time: "Time",
  device: "Device",
  action: "Action",
  who: "By",
  result: "Result",
  actions: { switch_off: "Switch off", switch_on: "Switch on" },
  states: { selected: "Selected", cancelled: "Cancelled", expired: "Expired", sent: "Sent", confirmed: "Done", failed: "Failed", timeout: "Timed out" },
  scheduleLine: (name, count, confirmed) => `Schedule "${name}": ${count} commands, ${confirmed} done`,
  moreCommands: (count) => `${count} more not listed (see the command log).`,
  method: "Method: consumption is the rise of each branch's topmost energy counter (a counter reset never counts as negative); after hours follows each building kind's timetable and the school calendar; all times are in the school's time zone.",
  duration: (h, m, s) => (h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`),
};

export const WORDS: Readonly<Record<ReportLang, ReportWords>> = { "zh-CN": zh, en };

/**
 * The language of a report: `?lang=` when given, else the first of `Accept-Language` (RFC 9110 §12.5.4, by
 * weight, then order) that is Chinese or English, else Chinese (the pilot's schools).
 */
export function reportLang(lang: ReportLang | undefined, acceptLanguage: string | undefined): ReportLang {
  if (lang !== undefined) return lang;
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part, order) => {
      const [tag = "", ...params] = part.trim().toLowerCase().split(";");
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim(), weight: q === undefined ? 1 : Number(q), order };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.order - b.order);
  for (const { tag } of ranked) {
    if (tag === "zh" || tag.startsWith("zh-")) return "zh-CN";
    if (tag === "en" || tag.startsWith("en-")) return "en";
  }
  return "zh-CN";
}
