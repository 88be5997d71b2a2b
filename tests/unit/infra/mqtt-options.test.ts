// The options every MQTT client of the product is made with: one URL exactly as before, a list of brokers
// as mqtt.js's `servers` (CONTRACT §12). No sockets: the options are data.
import { describe, expect, it } from "vitest";
import { brokerList, mqttOptions } from "../../../infra/mqtt.js";

const base = { clientId: "c", username: "u", password: "p", random: () => 0.5 };

describe("mqttOptions", () => {
  it("gives one URL no failover options (a client connects as it always did)", () => {
    const options = mqttOptions({ ...base, url: "mqtt://127.0.0.1:1883" });
    expect(options).not.toHaveProperty("servers");
    expect(options).not.toHaveProperty("host");
    expect(options).toMatchObject({ clientId: "c", username: "u", password: "p", clean: true, protocolVersion: 4, keepalive: 30, reconnectPeriod: 1_500, connectTimeout: 10_000 });
    expect(brokerList({ url: "mqtt+unix:///run/broker.sock" })).toBeNull();
  });

  it("lists several brokers as servers, the first also as the client's host", () => {
    const options = mqttOptions({ ...base, url: "mqtt://a.example:1883,mqtt://[::1]:1884" });
    expect(options.servers).toEqual([
      { host: "a.example", port: 1883, protocol: "mqtt" },
      { host: "::1", port: 1884, protocol: "mqtt" },
    ]);
    expect(options).toMatchObject({ host: "a.example", port: 1883, protocol: "mqtt" });
    expect(options).not.toHaveProperty("path");
  });

  it("starts with the broker a device is given first, then the next ones in order", () => {
    const options = mqttOptions({ ...base, url: "mqtt://a:1,mqtt://b:2,mqtt://c:3", firstBroker: 4 });
    expect(options.servers?.map((s) => s.host)).toEqual(["b", "c", "a"]);
    expect(options.host).toBe("b");
  });

  it("keeps a WebSocket list's path for every broker", () => {
    expect(mqttOptions({ ...base, url: "ws://a:9001/mqtt,ws://b:9001/mqtt" })).toMatchObject({ protocol: "ws", host: "a", port: 9001, path: "/mqtt" });
  });

  it("throws on a bad list rather than connecting somewhere else", () => {
    expect(() => mqttOptions({ ...base, url: "mqtt://a:1,http://b:2" })).toThrow(/entry 2 "http:\/\/b:2"/);
  });
});
