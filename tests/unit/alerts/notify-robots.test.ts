// The robots' messages and requests (CONTRACT §14), pure: the words a person reads (zh-CN and en), each
// vendor's signing and body, WeCom's 4,096-byte limit cut between characters, the mention rule, and the flood
// window's arithmetic. Signatures are checked the way the vendors' documentation computes them.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { NoticeItem } from "../../../alerts/notify/message-text.js";
import { largestFitting, nextBatch } from "../../../alerts/notify/rate.js";
import { robotMessage, type RobotRoute } from "../../../alerts/notify/robot-channel.js";
import { dingtalk } from "../../../alerts/notify/robots/dingtalk.js";
import { feishu } from "../../../alerts/notify/robots/feishu.js";
import { readAnswer, redactUrl } from "../../../alerts/notify/robots/robot.js";
import { cutUtf8, wecom } from "../../../alerts/notify/robots/wecom.js";
import { RULE_WORDS } from "../../../domain/rule-words.js";
import { type Alert, RULE_IDS } from "../../../domain/alert.js";

const overload: Alert = {
  id: "brk-101:overload:1", rule: "overload", device: "brk-101", building: "dorm-1", site: "xinwu-exp", room: "101", severity: "major", state: "firing",
  value: 18.24, threshold: 16, message: "", started_at: "2026-12-06T00:03:05.000Z", updated_at: "2026-12-06T00:03:05.000Z",
};
const text = { publicUrl: "https://campus.example", place: () => ({ school: "新吾实验中学", building: "宿舍1号楼", timezone: "Asia/Shanghai" }) };
const route = (type: RobotRoute["type"], over: Partial<RobotRoute> = {}): RobotRoute => ({ type, url: "https://robot.example/send?access_token=tok", secret: undefined, lang: "zh-CN", mentions: ["13800138000"], ...over });
const opened: NoticeItem[] = [{ event: "opened", alert: overload }];

describe("a robot's message", () => {
  it("says where, what, how much against the threshold, since when in the school's time, and links to the alert", () => {
    const message = robotMessage(route("dingtalk"), opened, text);
    expect(message.title).toBe("【严重】过载 · 新告警 · 宿舍1号楼");
    expect(message.blocks[0]).toEqual([
      "**<font color=#F57C00>严重</font> 过载 · 新告警**",
      "学校：新吾实验中学",
      "位置：宿舍1号楼 101室",
      "设备：brk-101",
      "数值：18.2 A（阈值 16 A）",
      "开始：2026-12-06 08:03", // 00:03 UTC in Asia/Shanghai
      "[查看告警](https://campus.example/#/device/brk-101)",
    ]);
    expect(message.mentions).toEqual(["13800138000"]);
  });

  it("is in English with lang: en, and tells who acknowledged and their note", () => {
    const acknowledged = { ...overload, state: "acknowledged" as const, acknowledged_by: "wang.li", ack_note: "on my way" };
    const message = robotMessage(route("wecom", { lang: "en" }), [{ event: "acknowledged", alert: acknowledged }], text);
    expect(message.title).toBe("【Major】Overload · Acknowledged · 宿舍1号楼");
    expect(message.blocks[0]).toContain("Value: 18.2 A (threshold 16 A)");
    expect(message.blocks[0]).toContain("Acknowledged by: wang.li（Note: on my way）");
  });

  it("mentions the on-call numbers for major and critical alerts only, and not for good news", () => {
    expect(robotMessage(route("dingtalk"), [{ event: "opened", alert: { ...overload, severity: "warning" } }], text).mentions).toEqual([]);
    expect(robotMessage(route("dingtalk"), [{ event: "resolved", alert: { ...overload, state: "resolved" } }], text).mentions).toEqual([]);
    expect(robotMessage(route("dingtalk"), [{ event: "opened", alert: { ...overload, severity: "critical" } }], text).mentions).toEqual(["13800138000"]);
  });

  it("names every rule id of the rules in words, in both languages", () => {
    for (const rule of RULE_IDS) expect(RULE_WORDS[rule], rule).toMatchObject({ zh: expect.any(String), en: expect.any(String) });
  });

  it("lists several alerts one line each, under their school and building", () => {
    const items: NoticeItem[] = [opened[0]!, { event: "opened", alert: { ...overload, device: "brk-102", room: "102" } }];
    const message = robotMessage(route("wecom"), items, text);
    expect(message.title).toBe("【严重】2 条告警 · 新吾实验中学");
    expect(message.blocks).toEqual([["**新吾实验中学 · 宿舍1号楼**", expect.stringContaining("101室 brk-101 18.2 A（阈值 16 A） 08:03"), expect.stringContaining("102室 brk-102")]]);
    expect(message.link).toBeNull();
  });
});

describe("the vendors' requests", () => {
  it("DingTalk: timestamp and URL-encoded sign in the query, HMAC-SHA256 keyed by the secret over timestamp\\nsecret; markdown with the mention in the text", () => {
    const request = dingtalk.request("https://oapi.example/robot/send?access_token=tok", "SECabc", robotMessage(route("dingtalk"), opened, text), 1_700_000_000_000);
    const url = new URL(request.url);
    expect(url.searchParams.get("access_token")).toBe("tok");
    expect(url.searchParams.get("timestamp")).toBe("1700000000000");
    expect(url.searchParams.get("sign")).toBe(createHmac("sha256", "SECabc").update("1700000000000\nSECabc").digest("base64"));
    expect(request.url).not.toMatch(/sign=[^&]*[+/=]/); // Base64's + / = are percent-encoded
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({ msgtype: "markdown", at: { atMobiles: ["13800138000"], isAtAll: false } });
    expect(body.markdown.text).toContain("@13800138000");
  });

  it("DingTalk without a secret sends to the address as issued", () => {
    expect(dingtalk.request("https://oapi.example/robot/send?access_token=tok", undefined, robotMessage(route("dingtalk"), opened, text), 1).url).toBe("https://oapi.example/robot/send?access_token=tok");
  });

  it("Feishu: timestamp (seconds, a string) and sign in the body, HMAC-SHA256 keyed by timestamp\\nsecret over nothing; a card coloured by severity", () => {
    const body = JSON.parse(feishu.request("https://open.example/open-apis/bot/v2/hook/h", "s3cret", robotMessage(route("feishu"), opened, text), 1_700_000_000_999).body);
    expect(body.timestamp).toBe("1700000000");
    expect(body.sign).toBe(createHmac("sha256", "1700000000\ns3cret").update("").digest("base64"));
    expect(body).toMatchObject({ msg_type: "interactive", card: { header: { template: "orange", title: { tag: "plain_text", content: "【严重】过载 · 新告警 · 宿舍1号楼" } } } });
    expect(JSON.stringify(body.card.elements)).toContain("https://campus.example/#/device/brk-101");
  });

  it("WeCom: markdown content with <@mobile> mentions, at most 4,096 bytes of UTF-8", () => {
    const body = JSON.parse(wecom.request("https://qyapi.example/cgi-bin/webhook/send?key=k", undefined, robotMessage(route("wecom"), opened, text), 1).body);
    expect(body.msgtype).toBe("markdown");
    expect(body.markdown.content).toContain("<@13800138000>");
    expect(body.markdown.content).toContain('<font color="warning">严重</font>');
  });

  it("cuts text to a byte limit between characters, never inside one", () => {
    const text = "过载".repeat(2000) + "🔥"; // 3 bytes each, then 4
    const cut = cutUtf8(text, 4096);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(4096);
    expect(cut.endsWith("…")).toBe(true);
    expect(Buffer.from(cut).toString("utf8")).toBe(cut); // no broken character
    expect(cutUtf8("a🔥🔥", 6)).toBe("a…"); // not half an emoji
    expect(cutUtf8("short", 4096)).toBe("short");
  });

  it("reads an HTTP 200 with a non-zero errcode or code as a refusal", () => {
    expect(readAnswer(200, '{"errcode":0,"errmsg":"ok"}', "errcode")).toMatchObject({ ok: true, code: 0 });
    expect(readAnswer(200, '{"errcode":310000,"errmsg":"sign not match"}', "errcode")).toEqual({ ok: false, status: 200, code: 310000, message: "sign not match" });
    expect(readAnswer(200, '{"code":19021,"msg":"sign match fail"}', "code")).toMatchObject({ ok: false, code: 19021 });
    expect(readAnswer(200, '{"StatusCode":0,"StatusMessage":"success"}', "code")).toMatchObject({ ok: true });
    expect(readAnswer(502, "<html>bad gateway</html>", "errcode")).toMatchObject({ ok: false, code: null });
  });

  it("keeps tokens and keys out of the address it logs", () => {
    expect(redactUrl("https://oapi.dingtalk.com/robot/send?access_token=secret-token")).toBe("https://oapi.dingtalk.com/robot/send?…");
    expect(redactUrl("https://open.feishu.cn/open-apis/bot/v2/hook/secret-hook")).toBe("https://open.feishu.cn/open-apis/bot/v2/hook/…");
  });
});

describe("flood control", () => {
  const minute = { messages: 20, windowMs: 60_000 };
  it("sends one at a time while the minute has room for the backlog", () => {
    expect(nextBatch([], 5, 0, minute)).toEqual({ take: 1 });
    expect(nextBatch(Array.from({ length: 15 }, (_, i) => i), 5, 100, minute)).toEqual({ take: 1 });
  });

  it("spreads a backlog larger than the room left over it, several alerts a message", () => {
    expect(nextBatch([], 40, 0, minute)).toEqual({ take: 2 });
    expect(nextBatch(Array.from({ length: 17 }, () => 0), 40, 1_000, minute)).toEqual({ take: 14 });
  });

  it("waits for the oldest attempt to leave the sliding window when the minute is full", () => {
    const sent = Array.from({ length: 20 }, (_, i) => 1_000 + i);
    expect(nextBatch(sent, 3, 30_000, minute)).toEqual({ waitUntil: 61_000 });
    // The first attempt has left: room for one message, which carries all three.
    expect(nextBatch(sent, 3, 61_000, minute)).toEqual({ take: 3 });
  });

  it("carries fewer alerts when that many would not fit the vendor's size limit", () => {
    expect(largestFitting(8, (n) => n <= 3)).toBe(3);
    expect(largestFitting(8, () => false)).toBe(1);
  });
});
