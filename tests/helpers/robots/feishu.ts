// Feishu's custom bot endpoint as Feishu checks a request: the hook id in the path (else 19001); with 签名校验,
// `timestamp` (epoch s, a string) within 1 h and `sign` = Base64(HMAC-SHA256 keyed by timestamp + "\n" +
// secret over ""), both in the body (else 19021); msg_type interactive with a card.
import { createHmac } from "node:crypto";
import { type Receiver, startReceiver } from "./receiver.js";

export const FEISHU_PATH = "/open-apis/bot/v2/hook/";

export function startFeishu(o: { hook: string; secret?: string; clock?: () => number }): Promise<Receiver> {
  return startReceiver((url, body, _raw, now) => {
    if (url.pathname !== `${FEISHU_PATH}${o.hook}`) return { code: 19001, msg: "param invalid: incoming webhook access token invalid" };
    if (o.secret) {
      const timestamp = typeof body.timestamp === "string" ? Number(body.timestamp) : Number.NaN;
      const expected = createHmac("sha256", `${String(body.timestamp)}\n${o.secret}`).update("").digest("base64");
      if (!Number.isFinite(timestamp) || Math.abs(now / 1000 - timestamp) > 3600 || body.sign !== expected) return { code: 19021, msg: "sign match fail or timestamp is not within one hour from current time" };
    }
    const card = body.card as { header?: { title?: { content?: unknown } }; elements?: unknown } | undefined;
    if (body.msg_type !== "interactive" || typeof card?.header?.title?.content !== "string" || !Array.isArray(card.elements)) return { code: 9499, msg: "Bad Request" };
    return null;
  }, { code: 0, msg: "success", data: {} }, o.clock);
}
