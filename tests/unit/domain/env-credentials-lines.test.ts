import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { devicePassword, safeEqual } from "../../../domain/credentials.js";
import { parseApiTokens, readEnv } from "../../../domain/env.js";
import { CampusError } from "../../../domain/errors.js";
import { toLine } from "../../../domain/line-protocol.js";

describe("environment", () => {
  it("has a default for every variable", () => {
    const env = readEnv({});
    expect(env).toMatchObject({ mqttPort: 1883, mqttWsPort: 9001, mqttUrl: "mqtt://127.0.0.1:1883", httpPort: 8080, influxUrl: "http://127.0.0.1:8086", influxDb: "campus_power", dataDir: "./data", logLevel: "info" });
  });

  it("lists every problem at once", () => {
    try {
      readEnv({ MQTT_PORT: "70000", HTTP_PORT: "http", API_TOKENS: "boss:abcdefghijklmnopqrs" }, ["DEVICE_GROUP_KEY", "SERVICE_PASSWORD"]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CampusError);
      expect((error as CampusError).problems.map((p) => p.path)).toEqual(["MQTT_PORT", "HTTP_PORT", "API_TOKENS[0]", "DEVICE_GROUP_KEY", "SERVICE_PASSWORD"]);
    }
  });

  it("parses role:token pairs", () => {
    expect(parseApiTokens("viewer:aaaaaaaaaaaaaaaa, admin:bbbbbbbbbbbbbbbb")).toEqual([
      { role: "viewer", token: "aaaaaaaaaaaaaaaa" },
      { role: "admin", token: "bbbbbbbbbbbbbbbb" },
    ]);
  });
});

describe("device credentials", () => {
  it("matches openssl's HMAC-SHA256 as documented in the contract", () => {
    const openssl = execFileSync("openssl", ["dgst", "-sha256", "-hmac", "fleet-key-0123456789"], { input: "brk-d3-301" }).toString();
    expect(openssl.trim().endsWith(devicePassword("brk-d3-301", "fleet-key-0123456789"))).toBe(true);
  });
  it("compares secrets without regard to where they differ", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
  });
});

describe("line protocol", () => {
  it("escapes tags, writes floats without the integer suffix, and sorts tags", () => {
    const line = toLine({ measurement: "electrical", tags: { room: "3F east", device: "brk,1", phase: undefined }, fields: { power_w: 220, switch_on: true, note: 'a "b"' }, ts: 1764403200000 });
    expect(line).toBe('electrical,device=brk\\,1,room=3F\\ east power_w=220,switch_on=true,note="a \\"b\\"" 1764403200000');
  });
  it("drops a point with no usable field", () => {
    expect(toLine({ measurement: "electrical", tags: {}, fields: { power_w: Number.NaN }, ts: 1 })).toBeNull();
  });
});
