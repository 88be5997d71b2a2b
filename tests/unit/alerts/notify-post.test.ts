// A notification's receiver is not trusted (alerts/notify/post-json.ts): its redirect is not followed (the
// signed alert would go wherever it points, 307/308 keeping the body) and only the first 4 KiB of its answer
// are read. Real HTTP servers on loopback.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_ANSWER_BYTES, postJson } from "../../../alerts/notify/post-json.js";
import { webhookChannel } from "../../../alerts/notify/webhook.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("POSTing a notification", () => {
  it("does not follow a receiver's redirect: the delivery fails and the address it points at gets nothing", async () => {
    const reached: string[] = [];
    const internal = await serve((req, res) => {
      reached.push(req.url ?? "");
      res.end("{}");
    });
    for (const status of [301, 302, 303, 307, 308]) {
      const receiver = await serve((_req, res) => res.writeHead(status, { location: `${internal}/admin/do-something` }).end());
      const channel = webhookChannel({ url: `${receiver}/hook`, secret: "s3cret" });
      await expect(channel.deliver([{ id: "d-1", body: '{"event":"opened"}' } as never], 2_000)).rejects.toThrow(`HTTP ${status}: the receiver answered with a redirect`);
    }
    // A marker sent straight to the internal server arrives; nothing before it did.
    await postJson(`${internal}/marker`, "{}", {}, 2_000);
    expect(reached).toEqual(["/marker"]);
  });

  it("reads only the first 4 KiB of an endless answer, and still delivers on a 2xx", async () => {
    let written = 0;
    const receiver = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = "x".repeat(64 * 1024);
      const more = () => {
        // 64 MiB at most: far more than a bounded reader takes, and the test must end if it is not.
        while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (written >= 64 * 1024 * 1024) res.end();
      };
      res.on("drain", more);
      more();
    });
    const answer = await postJson(`${receiver}/hook`, "{}", {}, 5_000);
    expect(answer.ok).toBe(true);
    expect(answer.text.length).toBe(MAX_ANSWER_BYTES);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });
});
