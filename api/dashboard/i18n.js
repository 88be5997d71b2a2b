// Strings of the dashboard in English and Simplified Chinese. The language follows the browser
// (navigator.languages) until the user picks one, which is then kept in this browser.
const STRINGS = {
  en: {
    title: "campus-power", overview: "Campus", energy: "Energy", live: "live", offline_conn: "disconnected",
    // The district (CONTRACT §9)
    district: "District", district_total: "District total", schools: "Schools", no_open_alerts: "no open alerts",
    attention_note: "What needs attention first: more critical alerts, then more major alerts, then more devices offline.",
    sev_count: "{n} {severity}", open_alerts_n: "alerts: {n}", offline_n: "{n} offline", today_kwh: "today {kwh} kWh", after_hours_today: "after hours {share}",
    find: "Find a device or room", search_none: "No device or room matches.", search_more: "{n} more: type more to narrow it down",
    campus_total: "Campus total", buildings: "Buildings", open_alerts: "Open alerts", none: "none",
    sign_in: "Sign in", sign_in_hint: "With the name and password your administrator gave you.", username: "Name", password: "Password",
    wrong_credentials: "Wrong name or password.", too_many_attempts: "Too many attempts: wait {n} s, then try again.",
    too_many_attempts_later: "Too many attempts: wait a minute, then try again.", server_unreachable: "The server could not be reached.",
    sign_in_failed: "Could not sign in (HTTP {status}).", session_ended: "Your session has ended: sign in again.", sign_out: "Sign out",
    signed_in_as: "signed in as {role}", role_viewer: "viewer", role_operator: "operator", role_admin: "admin",
    online: "online", offline: "offline", devices_online: "{online}/{total} online", alerts_n: "{n} alerts",
    power: "Power", current: "Current", rating: "Rating", voltage: "Voltage", temperature: "Temperature", leakage: "Leakage",
    load: "Load (current / rating)", device: "Device", room: "Room", no_room: "Building level", last_seen: "Last seen", never: "never",
    seconds_ago: "{n} s ago", minutes_ago: "{n} min ago",
    severity: "Severity", rule: "Rule", value_threshold: "Value / threshold", message: "Message", since: "Since", state: "State",
    acknowledge: "Acknowledge", ack_title: "Acknowledge alert", ack_note: "Note (optional)", ack_note_hint: "What was found or done, for the next person",
    cancel: "Cancel", confirm: "Acknowledge", ack_failed: "Could not acknowledge: {reason}", by: "by {who}", note: "Note",
    back: "← Campus", history: "History", range: "Range", last_1h: "1 hour", last_6h: "6 hours", last_24h: "24 hours", last_7d: "7 days", last_30d: "30 days",
    no_data: "no data in this range", chart_summary: "{n} points, {min}–{max} {unit}, last {last} {unit}", kwh_per_day: "kWh per building per day", kwh_per_day_table: "kWh per building per day, as a table", after_hours_share: "After-hours share", total: "Total", day: "Day",
    after_hours_note: "After hours: outside each building kind's occupied hours on school days, and all of a weekend, holiday or vacation day (the school's calendar), site time.", loading: "loading…",
    // The energy views (issue 13 item 4)
    load_curve: "Hourly load of a day against the same weekday's average", chosen_day: "Day", weekday_average: "Average of the {n} previous {weekday}s",
    no_earlier_weeks: "No earlier week with data to compare with.", heat_map: "kWh per building per hour, last 7 days", kwh_per_hour: "kWh per hour",
    show_table: "Show as a table", building_day: "Building · day", after_hours_title: "After-hours share per building per day",
    after_hours_of: "after hours {share} of {kwh} kWh", over_range: "{share} after hours over the range", total_kwh: "total {kwh} kWh",
    day_workday: "make-up workday", day_weekend: "weekend", day_holiday: "holiday", day_vacation: "vacation",
    export: "Export daily kWh", report_month: "Month", monthly_report: "Monthly report", export_failed: "Export failed (HTTP {status}).", load_failed: "Could not load this (HTTP {status}).", saved_file: "Saved {file}.",
    sev_critical: "critical", sev_major: "major", sev_minor: "minor", sev_warning: "warning", sev_info: "info",
    st_firing: "firing", st_acknowledged: "acknowledged", st_resolved: "resolved",
    language: "Language", api_docs: "API docs",
    // Remote switching (CONTRACT §10, docs/commands.md)
    commands: "Switching", switching: "Remote switching", relay: "Relay", relay_reported: "as the device reports it",
    relay_on: "on (closed)", relay_off: "off (open)", relay_unknown: "not reported", relay_off_short: "relay off",
    switch_off: "Switch off", switch_on: "Switch on", switch_off_more: "Switch off…", switch_on_more: "Switch on…",
    switch_room: "Switch room…", switch_device: "Switch {device}…", switch_title: "Remote switching: {device}", action: "Action",
    reason: "Reason (kept in the audit)", reason_hint: "Why? Type one or pick one",
    reason_1: "Banned appliance in use", reason_2: "Overload or overheating risk", reason_3: "Nobody there (holiday, after hours)",
    reason_4: "Maintenance on the circuit", reason_5: "Power back after a check",
    select: "Select", select_hint: "Selecting sends nothing yet: you confirm in a second step within 30 s, and can cancel until then.",
    confirm_switch_off: "Confirm switch-off ({n} s)", confirm_switch_on: "Confirm switch-on ({n} s)", close: "Close",
    goes_dark: "Will go dark — the device and everything it feeds ({n}):", gets_power: "Will get power — the device and everything it feeds ({n}):",
    status_selected: "Selected — nothing sent yet. Confirm before the time on the button runs out, or the selection expires.",
    status_ran_out: "The 30 s ran out: nothing was sent. Select again to switch.",
    status_sent: "Sent to the device — waiting for its own report.",
    status_confirmed: "Confirmed by the device at {time}.", status_failed: "Failed: the device refused, or reported that its relay stayed as it was.",
    status_timeout: "Timeout: the device did not report the commanded state in time.", status_cancelled: "Cancelled — nothing was sent.",
    status_expired: "Expired — not confirmed within 30 s; nothing was sent.",
    cmd_selected: "selected", cmd_sent: "sent, waiting for the device", cmd_confirmed: "confirmed", cmd_failed: "failed",
    cmd_timeout: "timeout", cmd_cancelled: "cancelled", cmd_expired: "expired",
    refused_PROTECTED: "Refused — protected circuit: this device, or one it feeds, must stay on (fire pumps, emergency lighting, servers, lab fridges). Nobody can switch it remotely.",
    refused_NOT_SWITCHABLE: "Refused — this device has no relay that can be switched remotely.",
    refused_DEVICE_OFFLINE: "Refused — the device is offline and cannot receive a command.",
    refused_BUSY: "Refused — another command for this device is selected or in progress; wait until it ends.",
    refused_EXPIRED: "Refused — the selection expired (30 s) or the command already ended; select again.",
    refused_NOT_SELECTOR: "Refused — only the person who selected this command may confirm or cancel it.",
    refused_VALIDATION_FAILED: "Refused — the request was incomplete (a reason is required).",
    refused_FORBIDDEN: "Refused — your role may not switch circuits.", refused_UNAUTHORIZED: "Your sign-in is no longer valid: sign in again.",
    refused_DEVICE_NOT_FOUND: "Refused — no such device.", refused_COMMAND_NOT_FOUND: "Refused — no such command.",
    refused_ALERTS_UNAVAILABLE: "The alerts service did not answer within 5 s: the step may still happen. Check the log before trying again.",
    refused_network: "The server could not be reached: check the log before trying again.", refused_other: "Refused ({code}).",
    reason_missing: "Give a reason: it is kept in the audit.", service_says: "The service says: {message}",
    viewer_cannot: "Only operators can switch circuits; you are signed in as {role}.", no_relay: "This device has no relay to switch.",
    command_log: "Switching log", log_title: "Remote switching log", time: "Time", who: "Who", why: "Why", detail: "Detail",
    you: "you", more: "Show more", no_commands: "No switching in this range.",
  },
  "zh-CN": {
    title: "校园用电监测", overview: "全校", energy: "用电量", live: "实时", offline_conn: "已断开",
    // 全区（CONTRACT §9）
    district: "全区", district_total: "全区总功率", schools: "学校", no_open_alerts: "无未恢复告警",
    attention_note: "按需关注程度排序：紧急告警多的在前，其次是严重告警多的，再次是离线设备占比高的。",
    sev_count: "{severity} {n} 条", open_alerts_n: "告警 {n} 条", offline_n: "离线 {n}", today_kwh: "今日 {kwh} kWh", after_hours_today: "非工作时间 {share}",
    find: "查找设备或房间", search_none: "没有匹配的设备或房间。", search_more: "还有 {n} 个，请输入更多字符缩小范围",
    campus_total: "全校总功率", buildings: "楼宇", open_alerts: "未恢复告警", none: "无",
    sign_in: "登录", sign_in_hint: "请使用管理员为您开设的用户名和密码登录。", username: "用户名", password: "密码",
    wrong_credentials: "用户名或密码错误。", too_many_attempts: "尝试次数过多，请等待 {n} 秒后再试。",
    too_many_attempts_later: "尝试次数过多，请稍候一分钟再试。", server_unreachable: "无法连接服务器。",
    sign_in_failed: "登录失败（HTTP {status}）。", session_ended: "登录已失效，请重新登录。", sign_out: "退出登录",
    signed_in_as: "当前身份：{role}", role_viewer: "查看员", role_operator: "值班员", role_admin: "管理员",
    online: "在线", offline: "离线", devices_online: "在线 {online}/{total}", alerts_n: "告警 {n} 条",
    power: "功率", current: "电流", rating: "额定电流", voltage: "电压", temperature: "温度", leakage: "漏电流",
    load: "负载率（电流/额定电流）", device: "设备", room: "房间", no_room: "楼宇级设备", last_seen: "最后上报", never: "从未上报",
    seconds_ago: "{n} 秒前", minutes_ago: "{n} 分钟前",
    severity: "级别", rule: "规则", value_threshold: "测量值 / 阈值", message: "说明", since: "开始时间", state: "状态",
    acknowledge: "确认", ack_title: "确认告警", ack_note: "备注（可选）", ack_note_hint: "现场情况或处理措施，方便下一位同事了解",
    cancel: "取消", confirm: "确认告警", ack_failed: "确认失败：{reason}", by: "确认人：{who}", note: "备注",
    back: "← 返回全校", history: "历史曲线", range: "时间范围", last_1h: "1 小时", last_6h: "6 小时", last_24h: "24 小时", last_7d: "7 天", last_30d: "30 天",
    no_data: "该时段没有数据", chart_summary: "共 {n} 个数据点，{min}–{max} {unit}，最后 {last} {unit}", kwh_per_day: "各楼宇每日用电量（kWh）", kwh_per_day_table: "各楼宇每日用电量明细表（kWh）", after_hours_share: "非工作时间占比", total: "合计", day: "日期",
    after_hours_note: "非工作时间：上课日各类楼宇使用时段以外的时间，以及周末、节假日和寒暑假全天（以学校校历为准，学校当地时间）。", loading: "加载中…",
    // 用电分析图表（issue 13 第 4 项）
    load_curve: "日逐时负荷曲线（与前几周同一星期几的平均值对比）", chosen_day: "日期", weekday_average: "前 {n} 个{weekday}平均",
    no_earlier_weeks: "前几周没有可对比的数据。", heat_map: "各楼宇逐时用电量（近 7 天）", kwh_per_hour: "kWh/小时",
    show_table: "以表格显示", building_day: "楼宇 · 日期", after_hours_title: "各楼宇每日非工作时间用电占比",
    after_hours_of: "非工作时间占 {share}（共 {kwh} kWh）", over_range: "全时段非工作时间占 {share}", total_kwh: "合计 {kwh} kWh",
    day_workday: "调休上课日", day_weekend: "周末", day_holiday: "节假日", day_vacation: "寒暑假",
    export: "导出每日用电量", report_month: "月份", monthly_report: "月度报告", export_failed: "导出失败（HTTP {status}）。", load_failed: "加载失败（HTTP {status}）。", saved_file: "已保存 {file}。",
    sev_critical: "紧急", sev_major: "严重", sev_minor: "次要", sev_warning: "预警", sev_info: "提示",
    st_firing: "告警中", st_acknowledged: "已确认", st_resolved: "已恢复",
    language: "语言", api_docs: "API 文档",
    // 远程通断电（CONTRACT §10，docs/commands.md）
    commands: "通断电", switching: "远程通断电", relay: "继电器", relay_reported: "以设备上报为准",
    relay_on: "合闸（通电）", relay_off: "分闸（断电）", relay_unknown: "未上报", relay_off_short: "已断电",
    switch_off: "断电", switch_on: "通电", switch_off_more: "断电…", switch_on_more: "通电…",
    switch_room: "房间通断电…", switch_device: "{device} 通断电…", switch_title: "远程通断电：{device}", action: "操作",
    reason: "原因（记入操作记录）", reason_hint: "请输入或选择原因",
    reason_1: "使用违规电器", reason_2: "过载或过热风险", reason_3: "无人使用（假期、下班后）",
    reason_4: "线路检修", reason_5: "检查完毕，恢复供电",
    select: "选中", select_hint: "选中不会下发指令：需在 30 秒内再次确认才会执行，确认前可随时取消。",
    confirm_switch_off: "确认断电（{n} 秒）", confirm_switch_on: "确认通电（{n} 秒）", close: "关闭",
    goes_dark: "将断电——本设备及其下游全部设备（{n} 个）：", gets_power: "将通电——本设备及其下游全部设备（{n} 个）：",
    status_selected: "已选中，尚未下发。请在按钮上的倒计时结束前确认，否则选中自动失效。",
    status_ran_out: "30 秒已过，未下发任何指令。如需操作请重新选中。",
    status_sent: "已下发到设备，正在等待设备自身上报结果。",
    status_confirmed: "设备已于 {time} 上报确认。", status_failed: "失败：设备拒绝执行，或上报继电器保持原状态。",
    status_timeout: "超时：设备未在规定时间内上报指令要求的状态。", status_cancelled: "已取消，未下发任何指令。",
    status_expired: "已失效：30 秒内未确认，未下发任何指令。",
    cmd_selected: "已选中", cmd_sent: "已下发，等待设备", cmd_confirmed: "已确认", cmd_failed: "失败",
    cmd_timeout: "超时", cmd_cancelled: "已取消", cmd_expired: "已失效",
    refused_PROTECTED: "已拒绝：受保护回路。该设备或其下游设备必须保持供电（消防泵、应急照明、服务器、实验室冰箱），任何人都不能远程通断。",
    refused_NOT_SWITCHABLE: "已拒绝：该设备没有可远程控制的继电器。",
    refused_DEVICE_OFFLINE: "已拒绝：设备离线，无法接收指令。",
    refused_BUSY: "已拒绝：该设备已有一条指令处于选中或执行中，请等待其结束。",
    refused_EXPIRED: "已拒绝：选中已超过 30 秒或指令已结束，请重新选中。",
    refused_NOT_SELECTOR: "已拒绝：只有选中该指令的人才能确认或取消。",
    refused_VALIDATION_FAILED: "已拒绝：请求不完整（必须填写原因）。",
    refused_FORBIDDEN: "已拒绝：您的身份无权远程通断电。", refused_UNAUTHORIZED: "登录已失效，请重新登录。",
    refused_DEVICE_NOT_FOUND: "已拒绝：设备不存在。", refused_COMMAND_NOT_FOUND: "已拒绝：指令不存在。",
    refused_ALERTS_UNAVAILABLE: "告警服务 5 秒内未应答，该操作仍可能生效。请先查看通断电记录再重试。",
    refused_network: "无法连接服务器，请先查看通断电记录再重试。", refused_other: "已拒绝（{code}）。",
    reason_missing: "请填写原因，它会记入操作记录。", service_says: "系统说明：{message}",
    viewer_cannot: "只有值班员和管理员可以远程通断电，您当前身份为{role}。", no_relay: "该设备没有可远程控制的继电器。",
    command_log: "通断电记录", log_title: "远程通断电操作记录", time: "时间", who: "操作人", why: "原因", detail: "详情",
    you: "我", more: "加载更多", no_commands: "该时段没有通断电记录。",
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

/** Fills every [data-i18n] element (text) and [data-i18n-placeholder] / [data-i18n-label] / [data-i18n-value] attribute. */
export function apply(root = document) {
  document.documentElement.lang = current;
  document.title = t("title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-value]")) el.value = t(el.dataset.i18nValue);
}
