// The signed JSON webhook (CONTRACT §5, §9): one outbox entry per POST, header `X-Campus-Signature:
// sha256=<hex HMAC-SHA256 of the body keyed by the target's secret>`; `X-Campus-Delivery` carries the outbox
// id, so a receiver can drop the duplicate a retry after a lost response produces (at-least-once).
import { createHmac } from "node:crypto";
import { postJson } from "./post-json.js";
import type { Channel } from "./sender.js";

export interface WebhookTarget {
  url: string;
  secret: string;
}

export const sign = (body: string, secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

export function webhookChannel({ url, secret }: WebhookTarget): Channel {
  return {
    plan: () => ({ take: 1 }),
    async deliver([entry], timeoutMs) {
      const response = await postJson(url, entry!.body, { "x-campus-signature": sign(entry!.body, secret), "x-campus-delivery": entry!.id }, timeoutMs);
      const answer = response.text;
      // Any answer but 2xx is retried, 4xx included (docs/alerts.md "Webhook": why); the receiver's own
      // words go to the log, where a refusal that persists must be read by someone.
      if (!response.ok) throw new Error(`HTTP ${response.status}${answer ? `: ${answer.slice(0, 200)}` : ""}`);
    },
  };
}
