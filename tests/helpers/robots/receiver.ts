// Local stand-ins for the vendors' robot endpoints (test code: the product never knows it is tested). Each
// checks a request the way its vendor documents it and answers in the vendor's words (./dingtalk.ts,
// ./wecom.ts, ./feishu.ts); this file is the HTTP part they share: a real node:http server on 127.0.0.1, a
// log of what was accepted and refused, and answers the test may force (a vendor error for the next N).
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Arrival {
  /** When it arrived, by the test's clock (which may run faster than the wall's). */
  at: number;
  url: URL;
  body: Record<string, unknown>;
  /** The vendor's answer: `{errcode, errmsg}` or `{code, msg}`. */
  answer: Record<string, unknown>;
  accepted: boolean;
}

/** A vendor's judgement of one request: null = accepted, else the error answer. */
export type Judge = (url: URL, body: Record<string, unknown>, raw: string, now: number) => Record<string, unknown> | null;

export interface Receiver {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  arrivals: Arrival[];
  accepted(): Arrival[];
  refused(): Arrival[];
  /** The next `count` requests that the vendor would accept get this error answer instead (a vendor hiccup). */
  failNext(count: number, answer: Record<string, unknown>): void;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", () => resolve(body));
});

export async function startReceiver(judge: Judge, ok: Record<string, unknown>, clock: () => number = Date.now): Promise<Receiver> {
  const arrivals: Arrival[] = [];
  let forced: { count: number; answer: Record<string, unknown> } = { count: 0, answer: {} };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // judged below as a body without fields
      }
      let answer = judge(url, body, raw, Date.now());
      if (answer === null && forced.count > 0) {
        forced = { ...forced, count: forced.count - 1 };
        answer = forced.answer;
      }
      arrivals.push({ at: clock(), url, body, answer: answer ?? ok, accepted: answer === null });
      // The vendors answer HTTP 200 with their error code in the JSON, refusals included.
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer ?? ok));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    accepted: () => arrivals.filter((a) => a.accepted),
    refused: () => arrivals.filter((a) => !a.accepted),
    failNext: (count, answer) => void (forced = { count, answer }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
