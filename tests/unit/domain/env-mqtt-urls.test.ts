// MQTT_URL as one broker or a comma-separated list of several (CONTRACT §12), read by readEnv and by the
// pure reader the connection uses (domain/env/mqtt-urls.ts).
import { describe, expect, it } from "vitest";
import { readEnv } from "../../../domain/env.js";
import { parseMqttUrls, rotateBrokers } from "../../../domain/env/mqtt-urls.js";
import { CampusError } from "../../../domain/errors.js";

const refusal = (value: string) => {
  try {
    readEnv({ MQTT_URL: value });
  } catch (error) {
    expect(error).toBeInstanceOf(CampusError);
    return (error as CampusError).problems;
  }
  return expect.unreachable(`MQTT_URL=${value} was accepted`);
};

describe("MQTT_URL (CONTRACT §12: several brokers)", () => {
  it("keeps one URL as it is, trailing slashes dropped as before", () => {
    expect(readEnv({ MQTT_URL: "mqtt://10.0.0.5:1883" }).mqttUrl).toBe("mqtt://10.0.0.5:1883");
    expect(readEnv({ MQTT_URL: "mqtts://broker.example.edu.cn:8883/" }).mqttUrl).toBe("mqtts://broker.example.edu.cn:8883");
    expect(readEnv({ MQTT_PORT: "1884" }).mqttUrl).toBe("mqtt://127.0.0.1:1884");
  });

  it("takes a comma-separated list and drops the blanks around its entries", () => {
    expect(readEnv({ MQTT_URL: " mqtt://a.example:1883 ,\tmqtt://b.example:1884/ " }).mqttUrl).toBe("mqtt://a.example:1883,mqtt://b.example:1884");
    expect(readEnv({ MQTT_URL: "wss://a.example/mqtt, wss://b.example/mqtt" }).mqttUrl).toBe("wss://a.example/mqtt,wss://b.example/mqtt");
  });

  it("reads each broker's scheme, host, port (the scheme's default when none is written) and WebSocket path", () => {
    const read = parseMqttUrls("mqtt://a.example,mqtt://[::1]:1884");
    expect(read).toEqual({
      ok: true,
      brokers: [
        { url: "mqtt://a.example", protocol: "mqtt", host: "a.example", port: 1883, path: "" },
        { url: "mqtt://[::1]:1884", protocol: "mqtt", host: "::1", port: 1884, path: "" },
      ],
    });
    const ws = parseMqttUrls("wss://a.example/mqtt,wss://b.example:8443/mqtt");
    expect(ws.ok && ws.brokers.map((b) => [b.protocol, b.port, b.path])).toEqual([["wss", 443, "/mqtt"], ["wss", 8443, "/mqtt"]]);
  });

  it("names the bad entry of a list, and every bad one", () => {
    const problems = refusal("mqtt://a.example:1883,http://b.example:1883,mqtt://c.example:1883,ftp://d");
    expect(problems.map((p) => p.path)).toEqual(["MQTT_URL", "MQTT_URL"]);
    expect(problems[0]!.message).toContain('entry 2 "http://b.example:1883" must be an mqtt://, mqtts://, ws:// or wss:// URL');
    expect(problems[1]!.message).toContain('entry 4 "ftp://d"');
  });

  it("refuses a single URL that is not an MQTT one, naming it", () => {
    expect(refusal("http://broker.example:1883")[0]!.message).toContain('"http://broker.example:1883" must be an mqtt://');
    expect(refusal("broker.example:1883")[0]!.message).toContain("must be an mqtt://");
    expect(refusal("mqtt://")[0]!.message).toContain("with a host");
  });

  it("refuses an empty entry, a duplicate, a path on mqtt:// and a query", () => {
    expect(refusal("mqtt://a.example,,mqtt://b.example")[0]!.message).toBe("entry 2 is empty (two commas in a row, or one at an end)");
    expect(refusal("mqtt://a.example,")[0]!.message).toContain("entry 2 is empty");
    expect(refusal("mqtt://a.example, mqtt://a.example/")[0]!.message).toContain("is listed twice");
    expect(refusal("mqtt://a.example/mqtt")[0]!.message).toContain("must not have a path");
    expect(refusal("mqtt://a.example?clientId=x")[0]!.message).toContain("must not have a query");
  });

  it("refuses credentials in a URL without repeating them", () => {
    const problems = refusal("mqtt://a.example,mqtt://campus-service:hunter22@b.example");
    expect(problems[0]!.message).toContain("must not hold a user name or password");
    expect(JSON.stringify(problems)).not.toContain("hunter22");
  });

  it("refuses a list that mixes schemes or WebSocket paths (mqtt.js's servers share one set of options)", () => {
    expect(refusal("mqtt://a.example,mqtts://b.example")[0]!.message).toContain("every broker of the list must use the same scheme");
    expect(refusal("ws://a.example/mqtt,ws://b.example/other")[0]!.message).toContain("must use the same path");
  });
});

describe("rotateBrokers", () => {
  it("starts device i on broker i mod n and keeps the others in order after it", () => {
    expect(rotateBrokers(["a", "b", "c"], 0)).toEqual(["a", "b", "c"]);
    expect(rotateBrokers(["a", "b", "c"], 1)).toEqual(["b", "c", "a"]);
    expect(rotateBrokers(["a", "b", "c"], 5)).toEqual(["c", "a", "b"]);
    expect(rotateBrokers(["a"], 7)).toEqual(["a"]);
  });
});
