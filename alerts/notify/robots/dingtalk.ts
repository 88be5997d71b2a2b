// DingTalk custom group robot (钉钉自定义机器人), as DingTalk documents it (CONTRACT §14): POST to the address
// as issued (`…/robot/send?access_token=…`); with a secret ("加签"), the query also carries `timestamp`
// (epoch ms, within 1 h of DingTalk's clock) and `sign` = URL-encoded Base64 of HMAC-SHA256 keyed by the
// secret over `timestamp + "\n" + secret`. Body: markdown, and `at.atMobiles` (a mention must also appear
// as `@mobile` in the text to be shown). Answer `{errcode, errmsg}`; 310000 "sign not match" for a bad sign.
import { SEVERITY_COLOURS } from "../markup.js";
import { hmacBase64, type Robot, type RobotMessage } from "./robot.js";

/** DingTalk's message size limit: 20,000 bytes of markdown text. */
const MAX_TEXT_BYTES = 20_000;

export const dingtalkSign = (timestampMs: number, secret: string) => hmacBase64(secret, `${timestampMs}\n${secret}`);

function text(message: RobotMessage): string {
  // A markdown paragraph per line: DingTalk's markdown ignores single line breaks on phones.
  const body = message.blocks.map((lines) => lines.join("\n\n")).join("\n\n---\n\n");
  return message.mentions.length > 0 ? `${body}\n\n${message.mentions.map((m) => `@${m}`).join(" ")}` : body;
}

export const dingtalk: Robot = {
  codeField: "errcode",
  // DingTalk's markdown takes HTML font colours.
  colour: (severity, word) => `<font color=${SEVERITY_COLOURS[severity]}>${word}</font>`,
  request(url, secret, message, nowMs) {
    const address = new URL(url);
    if (secret) {
      address.searchParams.set("timestamp", String(nowMs));
      address.searchParams.set("sign", dingtalkSign(nowMs, secret));
    }
    const body = { msgtype: "markdown", markdown: { title: message.title, text: text(message) }, at: { atMobiles: [...message.mentions], isAtAll: false } };
    return { url: address.toString(), body: JSON.stringify(body) };
  },
  fits: (message) => Buffer.byteLength(text(message)) <= MAX_TEXT_BYTES,
};
