// DingTalk's custom robot endpoint as DingTalk checks a request: the access_token in the query; with 加签,
// `timestamp` (epoch ms) within 1 h of its clock and `sign` = Base64(HMAC-SHA256(secret, timestamp + "\n" +
// secret)), else errcode 310000 "sign not match"; a markdown body with title and text.
import { createHmac } from "node:crypto";
import { type Receiver, startReceiver } from "./receiver.js";

export const DINGTALK_PATH = "/robot/send";
const HOUR_MS = 3_600_000;

export function startDingtalk(o: { token: string; secret?: string; clock?: () => number }): Promise<Receiver> {
  return startReceiver((url, body, _raw, now) => {
    if (url.pathname !== DINGTALK_PATH || url.searchParams.get("access_token") !== o.token) return { errcode: 300001, errmsg: "token is not exist" };
    if (o.secret) {
      const timestamp = Number(url.searchParams.get("timestamp"));
      // URLSearchParams has already URL-decoded the sign.
      const expected = createHmac("sha256", o.secret).update(`${url.searchParams.get("timestamp")}\n${o.secret}`).digest("base64");
      if (!Number.isFinite(timestamp) || Math.abs(now - timestamp) > HOUR_MS) return { errcode: 310000, errmsg: "invalid timestamp" };
      if (url.searchParams.get("sign") !== expected) return { errcode: 310000, errmsg: "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]" };
    }
    const markdown = body.markdown as { title?: unknown; text?: unknown } | undefined;
    if (body.msgtype !== "markdown" || typeof markdown?.title !== "string" || typeof markdown.text !== "string") return { errcode: 40035, errmsg: "缺少参数 json" };
    return null;
  }, { errcode: 0, errmsg: "ok" }, o.clock);
}
