// E-mail routes' pure parts (CONTRACT §14 "email"): the subject a mail list shows, the same words as the robots
// in a text and an HTML part (names and notes escaped in HTML), SMTP_URL and SMTP_FROM as the start and
// check-config read them (a refusal never repeats a URL that may hold a password), and the file's checks of
// an e-mail route.
import { describe, expect, it } from "vitest";
import { emailMessage, subjectOf } from "../../../alerts/notify/email-text.js";
import type { NoticeItem } from "../../../alerts/notify/message-text.js";
import type { Alert } from "../../../domain/alert.js";
import { parseConfigText } from "../../../domain/district/parse.js";
import { emailEnvironmentProblems } from "../../../domain/district/notify-check.js";
import { smtpSettingsOf } from "../../../domain/env-alerts.js";
import type { Problem } from "../../../domain/errors.js";

const overload: Alert = {
  id: "brk-101.overload.1.1", rule: "overload", device: "brk-101", building: "dorm-1", site: "xinwu-exp", room: "101", severity: "major", state: "firing",
  value: 18.24, threshold: 16, message: "", started_at: "2026-12-06T00:03:05.000Z", updated_at: "2026-12-06T00:03:05.000Z",
};
const place = () => ({ school: "新吾实验中学", building: "宿舍1号楼", timezone: "Asia/Shanghai" });
const text = { publicUrl: "https://campus.example", place };
const opened: NoticeItem[] = [{ event: "opened", alert: overload }];

describe("an alert e-mail", () => {
  it("has a subject with severity, rule, event, school, building and room, in the route's language", () => {
    expect(subjectOf(opened, "zh-CN", place)).toBe("【严重】过载 · 新告警 · 新吾实验中学 / 宿舍1号楼 101室");
    expect(subjectOf(opened, "en", place)).toBe("[Major] Overload · New · 新吾实验中学 / 宿舍1号楼 room 101");
    const several: NoticeItem[] = [...opened, { event: "opened", alert: { ...overload, id: "b", device: "brk-102", severity: "critical", rule: "leakage" } }];
    expect(subjectOf(several, "zh-CN", place)).toBe("【危急】2 条告警 · 新吾实验中学 / 宿舍1号楼");
  });

  it("says the robots' words in its text and HTML parts, the link written out in text and a link in HTML", () => {
    const mail = emailMessage({ items: opened }, "zh-CN", text);
    expect(mail.text).toBe([
      "【严重】过载 · 新告警 · 新吾实验中学 / 宿舍1号楼 101室",
      "",
      "严重 过载 · 新告警\n学校：新吾实验中学\n位置：宿舍1号楼 101室\n设备：brk-101\n数值：18.2 A（阈值 16 A）\n开始：2026-12-06 08:03\n查看告警: https://campus.example/#/device/brk-101",
      "",
    ].join("\n"));
    expect(mail.html).toContain('<strong><span style="color:#F57C00;font-weight:bold">严重</span> 过载 · 新告警</strong>');
    expect(mail.html).toContain('<a href="https://campus.example/#/device/brk-101">查看告警</a>');
    expect(mail.html).toContain('<html lang="zh-CN">');
  });

  it("escapes a person's note and the campus file's names in HTML, and lists several alerts", () => {
    const acked: Alert = { ...overload, state: "acknowledged", acknowledged_by: "王<师傅>", ack_note: "<script>alert(1)</script> & 已断电" };
    const mail = emailMessage({ items: [{ event: "acknowledged", alert: acked }, { event: "opened", alert: { ...overload, id: "c", device: "brk-103" } }] }, "zh-CN", text);
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 已断电");
    expect(mail.html).toContain("<ul");
    expect(mail.html.match(/<li>/g)).toHaveLength(2);
    expect(mail.text).toContain("<script>alert(1)</script> & 已断电"); // text is text
  });
});

describe("SMTP_URL and SMTP_FROM", () => {
  const read = (environment: Record<string, string>, routes: number[] = [0]) => {
    const problems: Problem[] = [];
    return { smtp: smtpSettingsOf(environment, routes, problems), problems };
  };

  it("are read when an e-mail route exists, user info and mailbox names kept as written", () => {
    expect(read({ SMTP_URL: "smtps://a%40b:p%3Ass@smtp.example.edu.cn:465", SMTP_FROM: "校园用电 <alerts@school.example>" })).toEqual({
      smtp: { url: "smtps://a%40b:p%3Ass@smtp.example.edu.cn:465", from: "校园用电 <alerts@school.example>" },
      problems: [],
    });
    expect(read({}, [])).toEqual({ smtp: null, problems: [] });
  });

  it("name each one missing or malformed, never repeating a URL that may hold a password", () => {
    expect(read({}, [1, 3]).problems).toEqual([
      { path: "SMTP_URL", message: "is not set: notify[1], notify[3] (email) sends through it" },
      { path: "SMTP_FROM", message: "is not set: notify[1], notify[3] (email) sends from it" },
    ]);
    const { problems } = read({ SMTP_URL: "https://user:hunter2-secret@smtp.example", SMTP_FROM: "not an address" });
    expect(problems.map((p) => p.path)).toEqual(["SMTP_URL", "SMTP_FROM"]);
    expect(problems[0]!.message).toMatch(/^must be an smtp:\/\/ or smtps:\/\/ URL/);
    expect(JSON.stringify(problems)).not.toContain("hunter2-secret");
  });

  it("are listed for check-config only when the routes have an e-mail route", () => {
    expect(emailEnvironmentProblems([{ type: "dingtalk", url: "https://x.example/robot/send" }], {})).toEqual([]);
    expect(emailEnvironmentProblems([{ type: "dingtalk", url: "https://x.example/robot/send" }, { type: "email", to: ["a@b.example"] }], { SMTP_FROM: "a@b.example" })).toEqual([
      { path: "SMTP_URL", message: "is not set: notify[1] (email) sends through it" },
    ]);
  });
});

describe("an e-mail route in the file", () => {
  const campus = (notify: string) => `site: { id: a, name: A, timezone: Asia/Shanghai }
buildings: [ { id: b, name: B, kind: lab } ]
devices: [ { id: d, kind: breaker, building: b, rating_a: 16 } ]
notify:
${notify}`;
  const problemsOf = (text: string) => {
    const result = parseConfigText(text, "campus.yaml", () => ({ ok: false, message: "none" }));
    return result.ok ? [] : result.problems;
  };

  it("needs `to`, each an address; `to` belongs to e-mail routes, and a digest to any route, a webhook's too", () => {
    expect(problemsOf(campus(`  - { type: email, digest: "08:00" }
  - { type: email, to: ["duty@school.example", "not-an-address"] }
  - { type: dingtalk, url: "https://oapi.example/robot/send?access_token=t", to: ["a@b.example"] }
  - { url: "https://im.example/hook", secret_env: HOOK_SECRET, digest: "08:00" }`))).toEqual([
      { path: "notify[0].to", message: "is required for an email route (the addresses to write to)" },
      { path: "notify[1].to[1]", message: '"not-an-address" is not an e-mail address' },
      { path: "notify[2].to", message: "is for email routes only (a dingtalk route sends to its url)" },
      // notify[3], a webhook route with a digest, is accepted: CONTRACT §14 lets any route carry `digest`
      // (it was refused here until the webhook's digest was built: alerts/notify/digest-webhook.ts).
    ]);
  });
});
