// A group robot route as an outbox channel (./paced-channel.ts): its queued messages rendered for a phone
// (./message-text.ts, ./digest-text.ts) in the vendor's format (./robots/), within the robots' flood limit
// (./rate.ts), and the vendor's answer read: HTTP 200 with a non-zero errcode/code is a refusal
// (RobotRefusal), retried like any failed delivery. Never logged: the secret, and the address's query or
// hook id (DingTalk's access_token, WeCom's key are credentials).
import type { RobotType, RouteLanguage } from "../../domain/district/schema.js";
import type { Digest } from "./digest-content.js";
import { digestText } from "./digest-text.js";
import { markdownMarkup } from "./markup.js";
import { alertLink, bodyOf, headerSeverity, type NoticeItem, type TextOptions, titleOf } from "./message-text.js";
import { type Outlet, type PacedChannel, pacedChannel } from "./paced-channel.js";
import { ROBOT_RATE, type RateLimit } from "./rate.js";
import { dingtalk } from "./robots/dingtalk.js";
import { feishu } from "./robots/feishu.js";
import { readAnswer, redactUrl, type Robot, type RobotMessage, type VendorAnswer } from "./robots/robot.js";
import { wecom } from "./robots/wecom.js";
import { postJson } from "./post-json.js";

export const ROBOTS: Readonly<Record<RobotType, Robot>> = { dingtalk, wecom, feishu };

export interface RobotRoute {
  type: RobotType;
  url: string;
  secret: string | undefined;
  lang: RouteLanguage;
  mentions: readonly string[];
}

/** A vendor's refusal: its code and words, and where (redacted), for the log. */
export class RobotRefusal extends Error {
  constructor(readonly answer: VendorAnswer, readonly vendor: RobotType, readonly address: string) {
    super(`${vendor} refused the message: HTTP ${answer.status}, ${answer.code === null ? "not the vendor's answer" : `${vendor === "feishu" ? "code" : "errcode"} ${answer.code}`}: ${answer.message} (${address})`);
  }
}

/** @-mentions are for major and critical alerts (CONTRACT §14), and not for good news (all resolved). */
const wantsMention = (items: readonly NoticeItem[]) => items.some((i) => i.event !== "resolved" && (i.alert.severity === "critical" || i.alert.severity === "major"));

/** What the robots' words need besides the route: the dashboard's address and where an alert is. */
export type RobotText = Omit<TextOptions, "lang" | "markup">;

/** The message a robot sends about these items. */
export function robotMessage(route: RobotRoute, items: readonly NoticeItem[], text: RobotText): RobotMessage {
  const options: TextOptions = { ...text, lang: route.lang, markup: markdownMarkup(ROBOTS[route.type].colour) };
  return {
    title: titleOf(items, options),
    blocks: bodyOf(items, options),
    mentions: wantsMention(items) ? route.mentions : [],
    link: items.length === 1 ? alertLink(text.publicUrl, items[0]!.alert) : null,
    tone: headerSeverity(items),
    lang: route.lang,
  };
}

/** A daily digest as a robot's message: no mentions (it is not an alarm), its button to the month's report. */
export function robotDigestMessage(route: RobotRoute, digest: Digest): RobotMessage {
  const { title, blocks } = digestText(digest, route.lang, markdownMarkup(ROBOTS[route.type].colour));
  return { title, blocks, mentions: [], link: digest.report_url, tone: "info", lang: route.lang };
}

/** POSTs one message to a robot and reads the vendor's answer (also `notify-test`'s). */
export async function postToRobot(route: RobotRoute, message: RobotMessage, nowMs: number, timeoutMs: number): Promise<VendorAnswer> {
  const robot = ROBOTS[route.type];
  const request = robot.request(route.url, route.secret, message, nowMs);
  const response = await postJson(request.url, request.body, {}, timeoutMs);
  return readAnswer(response.status, response.text, robot.codeField);
}

export function robotOutlet(route: RobotRoute, text: RobotText): Outlet<RobotMessage> {
  return {
    compose: (content) => ("digest" in content ? robotDigestMessage(route, content.digest) : robotMessage(route, content.items, text)),
    fits: (message) => ROBOTS[route.type].fits(message),
    async send(message, nowMs, timeoutMs) {
      const answer = await postToRobot(route, message, nowMs, timeoutMs);
      if (!answer.ok) throw new RobotRefusal(answer, route.type, redactUrl(route.url));
    },
  };
}

export const robotChannel = (route: RobotRoute, text: RobotText, deps: { now: () => number; sent?: readonly number[]; rate?: RateLimit }): PacedChannel =>
  pacedChannel(robotOutlet(route, text), deps.rate ?? ROBOT_RATE, deps);
