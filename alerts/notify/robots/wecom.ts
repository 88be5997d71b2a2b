// WeCom group robot (企业微信群机器人), as WeCom documents it (CONTRACT §14): POST to the address as issued
// (`…/cgi-bin/webhook/send?key=…`: the key is the credential, there is no signing); body
// `{"msgtype": "markdown", "markdown": {"content"}}`, content at most 4,096 bytes of UTF-8; its markdown
// colours are three named ones (`info` green, `comment` grey, `warning` orange-red); a mention is `<@id>`.
// Answer `{errcode, errmsg}`; 93000 "invalid webhook url" for an unknown key.
import type { Severity } from "../../../domain/alert.js";
import type { Robot, RobotMessage } from "./robot.js";

/** WeCom: "markdown.content 最长不超过4096个字节，必须是utf8编码". */
export const WECOM_MAX_CONTENT_BYTES = 4096;
const COLOURS: Record<Severity, "warning" | "comment" | "info"> = { critical: "warning", major: "warning", minor: "comment", warning: "comment", info: "info" };
const ELLIPSIS = "…";

/** The longest prefix of `text` within `maxBytes` of UTF-8, cut between characters (never inside one), marked "…" when cut. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const room = maxBytes - Buffer.byteLength(ELLIPSIS);
  let used = 0;
  let kept = "";
  // for…of walks code points, so a surrogate pair (an emoji) is never split.
  for (const character of text) {
    const size = Buffer.byteLength(character);
    if (used + size > room) break;
    used += size;
    kept += character;
  }
  return kept + ELLIPSIS;
}

function content(message: RobotMessage): string {
  const body = [`**${message.title}**`, ...message.blocks.map((lines) => lines.join("\n"))].join("\n\n");
  return message.mentions.length > 0 ? `${body}\n${message.mentions.map((m) => `<@${m}>`).join(" ")}` : body;
}

export const wecom: Robot = {
  codeField: "errcode",
  colour: (severity, word) => `<font color="${COLOURS[severity]}">${word}</font>`,
  request(url, _secret, message) {
    return { url, body: JSON.stringify({ msgtype: "markdown", markdown: { content: cutUtf8(content(message), WECOM_MAX_CONTENT_BYTES) } }) };
  },
  fits: (message) => Buffer.byteLength(content(message)) <= WECOM_MAX_CONTENT_BYTES,
};
