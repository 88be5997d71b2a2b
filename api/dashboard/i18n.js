// Strings of the dashboard in English and Simplified Chinese. The language follows the browser
// (navigator.languages) until the user picks one, which is then kept in this browser.
const STRINGS = {
  en: {
    title: "campus-power", overview: "Campus", energy: "Energy", live: "live", offline_conn: "disconnected",
    campus_total: "Campus total", buildings: "Buildings", open_alerts: "Open alerts", none: "none",
    sign_in: "Sign in", token_hint: "Paste an API token (viewer, operator or admin). It is kept in this browser only.",
    token: "API token", open_dashboard: "Open dashboard", token_refused: "That token was not accepted.", change_token: "Change token",
    signed_in_as: "signed in as {role}", role_viewer: "viewer", role_operator: "operator", role_admin: "admin",
    online: "online", offline: "offline", devices_online: "{online}/{total} online", alerts_n: "{n} alerts",
    power: "Power", current: "Current", rating: "Rating", voltage: "Voltage", temperature: "Temperature", leakage: "Leakage",
    load: "Load (current / rating)", device: "Device", room: "Room", no_room: "Building level", last_seen: "Last seen", never: "never",
    seconds_ago: "{n} s ago", minutes_ago: "{n} min ago",
    severity: "Severity", rule: "Rule", value_threshold: "Value / threshold", message: "Message", since: "Since", state: "State",
    acknowledge: "Acknowledge", ack_title: "Acknowledge alert", ack_note: "Note (optional)", ack_note_hint: "What was found or done, for the next person",
    cancel: "Cancel", confirm: "Acknowledge", ack_failed: "Could not acknowledge: {reason}", by: "by {who}", note: "Note",
    back: "← Campus", history: "History", range: "Range", last_1h: "1 hour", last_6h: "6 hours", last_24h: "24 hours", last_7d: "7 days", last_30d: "30 days",
    no_data: "no data in this range", chart_summary: "{n} points, {min}–{max} {unit}, last {last} {unit}", kwh_per_day: "kWh per building per day", after_hours_share: "After-hours share", total: "Total", day: "Day",
    after_hours_note: "After hours: outside Monday–Friday 07:00–18:00, site time.", loading: "loading…",
    sev_critical: "critical", sev_major: "major", sev_minor: "minor", sev_warning: "warning", sev_info: "info",
    st_firing: "firing", st_acknowledged: "acknowledged", st_resolved: "resolved",
    language: "Language", api_docs: "API docs",
  },
  "zh-CN": {
    title: "校园用电监测", overview: "全校", energy: "用电量", live: "实时", offline_conn: "已断开",
    campus_total: "全校总功率", buildings: "楼宇", open_alerts: "未恢复告警", none: "无",
    sign_in: "登录", token_hint: "请粘贴 API 令牌（查看员、值班员或管理员）。令牌只保存在本浏览器中。",
    token: "API 令牌", open_dashboard: "进入监控页", token_refused: "令牌无效，请重新输入。", change_token: "更换令牌",
    signed_in_as: "当前身份：{role}", role_viewer: "查看员", role_operator: "值班员", role_admin: "管理员",
    online: "在线", offline: "离线", devices_online: "在线 {online}/{total}", alerts_n: "告警 {n} 条",
    power: "功率", current: "电流", rating: "额定电流", voltage: "电压", temperature: "温度", leakage: "漏电流",
    load: "负载率（电流/额定电流）", device: "设备", room: "房间", no_room: "楼宇级设备", last_seen: "最后上报", never: "从未上报",
    seconds_ago: "{n} 秒前", minutes_ago: "{n} 分钟前",
    severity: "级别", rule: "规则", value_threshold: "测量值 / 阈值", message: "说明", since: "开始时间", state: "状态",
    acknowledge: "确认", ack_title: "确认告警", ack_note: "备注（可选）", ack_note_hint: "现场情况或处理措施，方便下一位同事了解",
    cancel: "取消", confirm: "确认告警", ack_failed: "确认失败：{reason}", by: "确认人：{who}", note: "备注",
    back: "← 返回全校", history: "历史曲线", range: "时间范围", last_1h: "1 小时", last_6h: "6 小时", last_24h: "24 小时", last_7d: "7 天", last_30d: "30 天",
    no_data: "该时段没有数据", chart_summary: "共 {n} 个数据点，{min}–{max} {unit}，最后 {last} {unit}", kwh_per_day: "各楼宇每日用电量（kWh）", after_hours_share: "非工作时间占比", total: "合计", day: "日期",
    after_hours_note: "非工作时间：周一至周五 07:00–18:00 以外（学校当地时间）。", loading: "加载中…",
    sev_critical: "紧急", sev_major: "严重", sev_minor: "次要", sev_warning: "预警", sev_info: "提示",
    st_firing: "告警中", st_acknowledged: "已确认", st_resolved: "已恢复",
    language: "语言", api_docs: "API 文档",
  },
};

// Names of rules, device kinds and building kinds as staff say them.
const NAMES = {
  "zh-CN": {
    overload: "过载", "heavy-load": "重载", "predicted-trip": "预计跳闸", "power-limit": "超功率", "malignant-load": "恶性负载",
    leakage: "漏电", overtemperature: "过温", overvoltage: "过压", undervoltage: "欠压", "phase-loss": "缺相", offline: "离线",
    "device-trip": "跳闸", "arc-fault": "电弧故障", "after-hours": "非工作时间用电",
    breaker: "断路器", socket: "插座", meter: "电表", detector: "探测器",
    classroom: "教学楼", dormitory: "宿舍楼", lab: "实验楼", office: "办公楼", canteen: "食堂", other: "其他",
  },
  en: {},
};

export const LANGUAGES = { en: "English", "zh-CN": "简体中文" };
const KEY = "campus-power-lang";

function pick() {
  const saved = localStorage.getItem(KEY);
  if (saved && STRINGS[saved]) return saved;
  for (const lang of navigator.languages || [navigator.language]) {
    if (/^zh\b/i.test(lang) && !/^zh-(TW|HK|MO|Hant)/i.test(lang)) return "zh-CN";
    if (/^en\b/i.test(lang)) return "en";
  }
  return "en";
}

let current = pick();

export const lang = () => current;

export function setLang(next) {
  current = STRINGS[next] ? next : "en";
  localStorage.setItem(KEY, current);
  apply();
}

/** A string with `{name}` placeholders filled; the key itself when missing (visible, not blank). */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** A rule id, device kind or building kind in the current language. */
export const name = (id) => NAMES[current][id] ?? id;

/** Fills every [data-i18n] element (text) and [data-i18n-placeholder] / [data-i18n-label] attribute. */
export function apply(root = document) {
  document.documentElement.lang = current;
  document.title = t("title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}
