// A receiver of the product's own signed webhook (CONTRACT §5), checking it as a receiver's author would:
// `X-Campus-Signature: sha256=<hex HMAC-SHA256 of the raw body keyed by the secret>`, else 401 (which the
// product retries); `X-Campus-Delivery` kept, so a test can see a retry reuse it. A real node:http server.
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookArrival {
  delivery: string;
  signed: boolean;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/hook` */
  url: string;
  arrivals: WebhookArrival[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const arrivals: WebhookArrival[] = [];
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      const signed = req.headers["x-campus-signature"] === `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
      arrivals.push({ delivery: String(req.headers["x-campus-delivery"]), signed, body: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(signed ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
