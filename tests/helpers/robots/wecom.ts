// WeCom's group robot endpoint as WeCom checks a request: the key in the query (else errcode 93000), a
// markdown body whose content is valid UTF-8 of at most 4,096 bytes (else 40058).
import { type Receiver, startReceiver } from "./receiver.js";

export const WECOM_PATH = "/cgi-bin/webhook/send";

export function startWecom(o: { key: string; clock?: () => number }): Promise<Receiver> {
  return startReceiver((url, body, raw) => {
    if (url.pathname !== WECOM_PATH || url.searchParams.get("key") !== o.key) return { errcode: 93000, errmsg: "invalid webhook url, hint: [1733221111_1_1]" };
    const content = (body.markdown as { content?: unknown } | undefined)?.content;
    if (body.msgtype !== "markdown" || typeof content !== "string") return { errcode: 40008, errmsg: "invalid message type" };
    // A character cut in half would not survive JSON.parse as it was sent: U+FFFD shows it.
    if (Buffer.byteLength(content) > 4096 || content.includes("\uFFFD") || raw.includes("\\ud8")) return { errcode: 40058, errmsg: "markdown.content exceed max length 4096" };
    return null;
  }, { errcode: 0, errmsg: "ok" }, o.clock);
}
