// Every rule id of alerts/rules in words an electrician uses (zh-CN and en), with the unit of its alert's
// `value` and `threshold` (the rules' own: CONTRACT §5 table, alerts/rules/*.ts `breach`). Shared by the
// notifications (alerts/notify/) and the printable monthly report (api/printable/).
import type { RuleId } from "./alert.js";

export const RULE_WORDS: Readonly<Record<string, { zh: string; en: string; unit: string }>> = {
  overload: { zh: "过载", en: "Overload", unit: "A" },
  "heavy-load": { zh: "重载", en: "Heavy load", unit: "A" },
  // value: time to trip on the earliest curve, threshold: the warning horizon (alerts/rules/predicted-trip.ts).
  "predicted-trip": { zh: "预计跳闸", en: "Predicted trip", unit: "s" },
  "power-limit": { zh: "超功率", en: "Power limit", unit: "W" },
  "malignant-load": { zh: "违规电器", en: "Forbidden appliance", unit: "W" },
  leakage: { zh: "漏电", en: "Leakage", unit: "mA" },
  overtemperature: { zh: "温度过高", en: "Overtemperature", unit: "°C" },
  overvoltage: { zh: "过压", en: "Overvoltage", unit: "V" },
  undervoltage: { zh: "欠压", en: "Undervoltage", unit: "V" },
  // value: the lost phase's voltage (alerts/rules/voltage.ts).
  "phase-loss": { zh: "缺相", en: "Phase loss", unit: "V" },
  // value: seconds without data, threshold: the silence allowed.
  offline: { zh: "离线", en: "Offline", unit: "s" },
  // value: trips / arcs seen, threshold 1.
  "device-trip": { zh: "跳闸", en: "Breaker tripped", unit: "" },
  "arc-fault": { zh: "电弧故障", en: "Arc fault", unit: "" },
  "after-hours": { zh: "非工作时间用电", en: "After-hours use", unit: "W" },
} satisfies Record<RuleId, unknown>;

/** A rule's name in the language (zh-CN unless "en"); an id the table does not know (a newer rule) is shown as it is. */
export const ruleName = (rule: string, lang: string): string => RULE_WORDS[rule]?.[lang === "en" ? "en" : "zh"] ?? rule;
