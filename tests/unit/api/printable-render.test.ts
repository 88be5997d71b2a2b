// The printable monthly report as HTML from a typed model (api/printable/render.ts): the school's name and
// every figure in the HTML itself, the daily chart as inline SVG, no script, every outside text escaped,
// Chinese and English with numbers written the language's way.
import { describe, expect, it } from "vitest";
import type { Command } from "../../../domain/command.js";
import type { PrintableReport } from "../../../api/printable/model.js";
import { renderReport } from "../../../api/printable/render.js";

const at = Date.parse;
const command = (over: Partial<Command>): Command => ({
  id: "c1", device: "brk-d3-301", site: "north", building: "dorm-3", action: "switch_off", reason: "kettle", issued_by: "alice",
  state: "confirmed", selected_at: "2026-11-12T12:00:00.000Z", expires_at: "2026-11-12T12:00:30.000Z", ...over,
});

const model = (over: Partial<PrintableReport> = {}): PrintableReport => ({
  lang: "zh-CN",
  school: { id: "north", name: "北郊实验学校" },
  district: { id: "xinwu", name: "新吴区教育局" },
  month: { id: "2026-11", year: 2026, month: 11, fromMs: at("2026-11-01T00:00:00+08:00"), toMs: at("2026-12-01T00:00:00+08:00") },
  timeZone: "Asia/Shanghai",
  generatedAt: at("2026-12-02T09:30:00+08:00"),
  status: "over",
  totalKwh: 12345.6,
  previousKwh: 11000,
  changePct: 12.2,
  afterHoursKwh: 3086.4,
  afterHoursShare: 0.25,
  buildings: [
    { id: "dorm-3", name: "三号宿舍楼", kwh: 8000, previousKwh: 7000, changePct: 14.3, afterHoursKwh: 2500, afterHoursShare: 0.3125 },
    { id: "teach-a", name: "教学楼A", kwh: 4345.6, previousKwh: 4000, changePct: 8.6, afterHoursKwh: 586.4, afterHoursShare: 0.1349 },
  ],
  worstAfterHours: [{ id: "dorm-3", name: "三号宿舍楼", kwh: 8000, previousKwh: 7000, changePct: 14.3, afterHoursKwh: 2500, afterHoursShare: 0.3125 }],
  days: Array.from({ length: 30 }, (_, i) => ({ date: `2026-11-${String(i + 1).padStart(2, "0")}`, kind: i % 7 === 0 ? "weekend" : "school", kwh: i === 29 ? null : 400 + i })),
  peak: { kw: 187.25, at: at("2026-11-18T19:45:00+08:00") },
  alerts: [{ rule: "overload", count: 3, acknowledged: 2, medianAckMs: 150_000, worstAckMs: 2 * 3_600_000 + 5 * 60_000 }],
  commands: { total: 1, byState: [{ state: "confirmed", count: 1 }], schedules: [], listed: [command({})], unlisted: 0 },
  ...over,
});

describe("the printable report's HTML", () => {
  it("holds the school's name, the month's figures and the daily chart as inline SVG, without any script", () => {
    const html = renderReport(model());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain("<h1>北郊实验学校");
    expect(html).toContain("2026年11月 用电月报");
    expect(html).toContain("新吴区教育局");
    expect(html).toContain("12,346 kWh"); // the month's total, whole kWh above 1,000
    expect(html).toContain("11,000 kWh");
    expect(html).toContain("+12.2%");
    expect(html).toContain("25.0%"); // after-hours share
    expect(html).toContain("187.3 kW"); // peak demand…
    expect(html).toContain("2026/11/18 19:45"); // …and when, in the school's zone
    expect(html).toContain("过载"); // the rule in words
    expect(html).toContain("2 分 30 秒"); // median time to acknowledge
    expect(html).toContain("2 小时 5 分"); // longest
    expect(html).toContain("断电");
    expect((html.match(/<svg class="daily-chart"/g) ?? []).length).toBe(1);
    expect((html.match(/<rect class="bar"/g) ?? []).length).toBe(29); // the 30th day has no data: no bar
    expect((html.match(/<rect class="day-weekend"/g) ?? []).length).toBe(5); // days 1, 8, 15, 22, 29
    expect(html).not.toContain("调休上课日"); // no make-up day this month: not in the legend
    expect(html).not.toMatch(/<script|javascript:|\son\w+=/i);
    expect(html).toContain('font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif');
    expect(html).toContain("size: A4 portrait");
  });

  it("marks a make-up school day (调休) by its number in bold, and says so in the legend", () => {
    const days = model().days.map((d) => (d.date === "2026-11-07" ? { ...d, kind: "workday" as const } : d));
    const html = renderReport(model({ days }));
    expect(html).toContain('font-weight="bold">7</text>');
    expect(html).toContain("调休上课日");
  });

  it("writes English with English numbers and words", () => {
    const html = renderReport(model({ lang: "en" }));
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("November 2026 Monthly electricity report");
    expect(html).toContain("12,346 kWh");
    expect(html).toContain("Overload");
    expect(html).toContain("2 min 30 s");
    expect(html).toContain("Switch off");
    expect(html).toContain("Day of month");
    expect(html).not.toContain("用电月报");
  });

  it("names the district, but not for a plain campus file (a district of one, named as its school)", () => {
    expect(renderReport(model())).toContain("<dt>所属</dt><dd>新吴区教育局</dd>");
    expect(renderReport(model({ district: { id: "north", name: "北郊实验学校" } }))).not.toContain("<dt>所属</dt>");
  });

  it("escapes every text that comes from outside: names, devices, people", () => {
    const evil = `<img src=x onerror="alert(1)">&'`;
    const html = renderReport(
      model({
        school: { id: "north", name: evil },
        district: { id: "x", name: evil },
        buildings: [{ id: "b", name: evil, kwh: 1, previousKwh: null, changePct: null, afterHoursKwh: 0, afterHoursShare: 0 }],
        commands: { total: 1, byState: [{ state: "failed", count: 1 }], schedules: [{ id: "s", name: evil, count: 2, confirmed: 1 }], listed: [command({ issued_by: evil, state: "failed" })], unlisted: 0 },
      }),
    );
    expect(html).not.toContain("<img");
    expect(html).not.toContain('onerror="');
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;");
  });

  it("says so when there is nothing: no alerts, no remote commands, a month still to come", () => {
    const html = renderReport(
      model({
        status: "future",
        totalKwh: 0,
        previousKwh: 0,
        changePct: null,
        afterHoursKwh: 0,
        afterHoursShare: null,
        buildings: [],
        worstAfterHours: [],
        days: [{ date: "2026-11-01", kind: "school", kwh: null }],
        peak: null,
        alerts: [],
        commands: { total: 0, byState: [], schedules: [], listed: [], unlisted: 0 },
      }),
    );
    expect(html).toContain("该月尚未开始，暂无数据。");
    expect(html).toContain("本月没有告警。");
    expect(html).toContain("本月没有远程控制操作。");
    expect(html).not.toContain('<rect class="bar"');
  });
});
