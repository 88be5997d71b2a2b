// A group robot route as an outbox channel (./sender.ts): its queued messages rendered for a phone
// (./message-text.ts) in the vendor's format (./robots/), sent within the flood limit (./rate.ts) — several
// at once when more are waiting than the minute has room for — and the vendor's answer read: HTTP 200 with a
// non-zero errcode/code is a refusal (RobotRefusal), retried like any failed delivery. Never logged: the
// secret, and the address's query or hook id (DingTalk's access_token, WeCom's key are credentials).
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { AlertSchema } from "../../domain/alert.js";
import type { RobotType, RouteLanguage } from "../../domain/district/schema.js";
import { type OutboxEntry, WebhookEventSchema } from "../saved-state.js";
import { alertLink, bodyOf, headerSeverity, type NoticeItem, type TextOptions, titleOf } from "./message-text.js";
import { largestFitting, nextBatch, ROBOT_RATE, type RateLimit, withinWindow } from "./rate.js";
import { dingtalk } from "./robots/dingtalk.js";
import { feishu } from "./robots/feishu.js";
import { readAnswer, redactUrl, type Robot, type RobotMessage, type VendorAnswer } from "./robots/robot.js";
import { wecom } from "./robots/wecom.js";
import type { Channel } from "./sender.js";

export const ROBOTS: Readonly<Record<RobotType, Robot>> = { dingtalk, wecom, feishu };

/** A robot's outbox entry: the alert changes it is about (`{event, alert}` items). */
export const RobotItemsSchema = Type.Array(Type.Object({ event: WebhookEventSchema, alert: AlertSchema }));

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

/** The message a robot sends about these items. */
export function robotMessage(route: RobotRoute, items: readonly NoticeItem[], text: Omit<TextOptions, "lang" | "colour">): RobotMessage {
  const options: TextOptions = { ...text, lang: route.lang, colour: ROBOTS[route.type].colour };
  return {
    title: titleOf(items, options),
    blocks: bodyOf(items, options),
    mentions: wantsMention(items) ? route.mentions : [],
    link: items.length === 1 ? alertLink(text.publicUrl, items[0]!.alert) : null,
    tone: headerSeverity(items),
    lang: route.lang,
  };
}

/** POSTs one message to a robot and reads the vendor's answer (also `notify-test`'s). */
export async function postToRobot(route: RobotRoute, message: RobotMessage, nowMs: number, timeoutMs: number): Promise<VendorAnswer> {
  const robot = ROBOTS[route.type];
  const request = robot.request(route.url, route.secret, message, nowMs);
  const response = await fetch(request.url, { method: "POST", headers: { "content-type": "application/json; charset=utf-8" }, body: request.body, signal: AbortSignal.timeout(timeoutMs) });
  return readAnswer(response.status, await response.text().catch(() => ""), robot.codeField);
}

export interface RobotChannel extends Channel {
  /** The attempts inside the flood window (saved, so a restart does not reset the count). */
  sentTimes(): number[];
}

export function robotChannel(route: RobotRoute, text: Omit<TextOptions, "lang" | "colour">, deps: { now: () => number; sent?: readonly number[]; rate?: RateLimit }): RobotChannel {
  const rate = deps.rate ?? ROBOT_RATE;
  let sent = [...(deps.sent ?? [])];
  const itemsOf = (entries: readonly OutboxEntry[]): NoticeItem[] =>
    entries.flatMap((entry) => {
      const parsed: unknown = JSON.parse(entry.body);
      if (!Value.Check(RobotItemsSchema, parsed)) throw new Error(`outbox entry ${entry.id} is not a robot message`);
      return parsed;
    });
  return {
    plan(queue, now) {
      const next = nextBatch(sent, queue.length, now, rate);
      if (!("take" in next)) return next;
      const robot = ROBOTS[route.type];
      return { take: largestFitting(next.take, (n) => robot.fits(robotMessage(route, itemsOf(queue.slice(0, n)), text))) };
    },
    async deliver(entries, timeoutMs) {
      const now = deps.now();
      sent = [...withinWindow(sent, now, rate), now];
      const answer = await postToRobot(route, robotMessage(route, itemsOf(entries), text), now, timeoutMs);
      if (!answer.ok) throw new RobotRefusal(answer, route.type, redactUrl(route.url));
    },
    sentTimes: () => withinWindow(sent, deps.now(), rate),
  };
}
