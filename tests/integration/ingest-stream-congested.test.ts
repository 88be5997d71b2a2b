// The ingest's normalised stream on a congested connection: a broker that stops reading (a raw TCP peer that
// answers CONNECT with CONNACK, then pauses) while the ingest publishes a district's latest readings (QoS 0).
// Each publish used to leave a 'drain' listener on the socket (mqtt.js waits for 'drain' to call a publish's
// callback): thousands of them, and a MaxListenersExceededWarning. Once the peer reads again, everything arrives.
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/free-port.js";
import { createLogger } from "../../infra/logger.js";
import { MqttSource } from "../../ingest/mqtt-source.js";
import { waitFor } from "../helpers/wait.js";

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PUBLISHES = 1_000;
const PAYLOAD = "x".repeat(16 * 1024);

describe("the ingest's stream publisher on a connection that is not read", () => {
  let server: Server | undefined;
  let source: MqttSource | undefined;
  afterAll(async () => {
    await source?.client.endAsync(true); // not stop(): this peer answers no PUBACK for the "offline" it publishes
    server?.close();
  });

  it("leaves no 'drain' listener per QoS 0 publish, and every byte arrives once the broker reads", { timeout: 30_000 }, async () => {
    let peer: Socket | undefined;
    let received = 0;
    server = createServer((socket) => {
      peer = socket;
      socket.once("data", () => {
        socket.write(CONNACK);
        socket.pause();
        socket.on("data", (chunk: Buffer) => (received += chunk.length));
      });
    });
    const port = await freePort();
    await new Promise<void>((listening) => server!.listen(port, "127.0.0.1", listening));
    source = new MqttSource({ url: `mqtt://127.0.0.1:${port}`, clientId: "ingest-congested", password: "unused-by-this-peer", log: createLogger("silent") });
    source.receive({ full: () => false, onHeldBack: () => {}, handle: async () => {} });
    await source.connected();

    for (let i = 0; i < PUBLISHES; i++) source.publish(`campus/internal/readings/d${i}`, PAYLOAD, 0, true);
    const stream = source.client.stream;
    expect(stream.writableNeedDrain).toBe(true); // congested: the peer has not read
    expect(stream.listenerCount("drain")).toBeLessThan(5); // mqtt.js's own, not one per publish

    peer!.resume();
    await waitFor(() => received >= PUBLISHES * PAYLOAD.length, 20_000, { what: "every publish at the peer" });
  });
});
