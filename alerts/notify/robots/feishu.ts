// Feishu custom bot (飞书自定义机器人), as Feishu documents it (CONTRACT §14): POST to the address as issued
// (`…/open-apis/bot/v2/hook/…`); with a secret ("签名校验") the body carries `timestamp` (epoch seconds, as a
// string, within 1 h of Feishu's clock) and `sign` = Base64 of HMAC-SHA256 keyed by `timestamp + "\n" +
// secret` over an empty message. The message is an interactive card: a header coloured by severity, a
// markdown (`lark_md`) block per section and a button to the alert. Answer `{code, msg}`; 19021 for a bad
// sign. A custom bot can @-mention only Feishu user ids, not mobile numbers: the numbers are written out.
import type { Severity } from "../../../domain/alert.js";
import { hmacBase64, type Robot, type RobotMessage } from "./robot.js";

/** Card header templates (Feishu's named colours). */
const TEMPLATES: Record<Severity | "resolved", string> = { critical: "red", major: "orange", minor: "yellow", warning: "yellow", info: "blue", resolved: "green" };
const COLOURS: Record<Severity, string> = { critical: "red", major: "orange", minor: "yellow", warning: "yellow", info: "blue" };
/** Feishu: a custom bot's request body is at most 20 KB. */
const MAX_BODY_BYTES = 20_000;

export const feishuSign = (timestampS: number, secret: string) => hmacBase64(`${timestampS}\n${secret}`, "");

function card(message: RobotMessage) {
  const elements: unknown[] = message.blocks.map((lines) => ({ tag: "div", text: { tag: "lark_md", content: lines.join("\n") } }));
  if (message.mentions.length > 0) elements.push({ tag: "div", text: { tag: "lark_md", content: `${message.lang === "en" ? "On call" : "值班电话"}: ${message.mentions.join(", ")}` } });
  if (message.link) elements.push({ tag: "action", actions: [{ tag: "button", text: { tag: "plain_text", content: message.lang === "en" ? "Open the alert" : "查看告警" }, url: message.link, type: "primary" }] });
  return { config: { wide_screen_mode: true }, header: { template: TEMPLATES[message.tone], title: { tag: "plain_text", content: message.title } }, elements };
}

export const feishu: Robot = {
  codeField: "code",
  colour: (severity, word) => `<font color='${COLOURS[severity]}'>${word}</font>`,
  request(url, secret, message, nowMs) {
    const timestamp = Math.floor(nowMs / 1000);
    const signature = secret ? { timestamp: String(timestamp), sign: feishuSign(timestamp, secret) } : {};
    return { url, body: JSON.stringify({ ...signature, msg_type: "interactive", card: card(message) }) };
  },
  fits: (message) => Buffer.byteLength(JSON.stringify(card(message))) <= MAX_BODY_BYTES,
};
