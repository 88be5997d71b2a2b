import { describe, expect, it } from "vitest";
import { parseApiTokens, readEnv, requiredFor } from "../../../domain/env.js";
import { CampusError, ErrorCodes, type Problem } from "../../../domain/errors.js";

/** The problems readEnv lists for `source`; fails the test when it does not refuse it as ENV_INVALID. */
function problemsOf(source: NodeJS.ProcessEnv, required: Parameters<typeof readEnv>[1] = []): Problem[] {
  try {
    readEnv(source, required);
  } catch (error) {
    expect(error).toBeInstanceOf(CampusError);
    expect((error as CampusError).code).toBe(ErrorCodes.ENV_INVALID);
    return (error as CampusError).problems;
  }
  return expect.unreachable(`readEnv accepted ${JSON.stringify(source)}`);
}

const WEBHOOK = { ALERT_WEBHOOK_URL: "https://hooks.example/campus", ALERT_WEBHOOK_SECRET: "hook-secret" };

describe("environment", () => {
  it("has a default for every variable", () => {
    const env = readEnv({});
    expect(env).toMatchObject({ mqttPort: 1883, mqttWsPort: 9001, mqttUrl: "mqtt://127.0.0.1:1883", httpPort: 8080, influxUrl: "http://127.0.0.1:8086", influxDb: "campus_power", dataDir: "./data", logLevel: "info" });
    expect(env).toMatchObject({ rawRetentionMs: 90 * 86_400_000, spoolMaxBytes: 1024 * 1024 * 1024, bindHost: "0.0.0.0", alertWebhook: null });
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
      { role: "viewer", token: "aaaaaaaaaaaaaaaa", sites: null },
      { role: "admin", token: "bbbbbbbbbbbbbbbb", sites: null },
    ]);
  });

  it("derives MQTT_URL's default from MQTT_PORT and drops trailing slashes from URLs", () => {
    expect(readEnv({ MQTT_PORT: "1884" }).mqttUrl).toBe("mqtt://127.0.0.1:1884");
    expect(readEnv({ INFLUX_URL: "http://influx.example:8086//" }).influxUrl).toBe("http://influx.example:8086");
  });

  it("reads the webhook's settings in ms only when ALERT_WEBHOOK_URL is set", () => {
    expect(readEnv({ ALERT_WEBHOOK_RETRY: "whenever" }).alertWebhook).toBeNull();
    expect(readEnv({ ...WEBHOOK, ALERT_WEBHOOK_GROUP: "0", ALERT_WEBHOOK_REPEAT: "critical:90s" }).alertWebhook).toEqual({
      url: "https://hooks.example/campus",
      secret: "hook-secret",
      escalationUrl: null,
      escalationSecret: "hook-secret",
      groupWindowMs: 0,
      repeatMs: { critical: 90_000 },
      escalateMs: { critical: 300_000, major: 1_800_000 },
      expireMs: 86_400_000,
      retryMs: 1_000,
      timeoutMs: 5_000,
    });
    expect(problemsOf({ ALERT_WEBHOOK_URL: WEBHOOK.ALERT_WEBHOOK_URL })).toEqual([{ path: "ALERT_WEBHOOK_SECRET", message: "is required with ALERT_WEBHOOK_URL (the body is signed with it)" }]);
  });

  it("takes fractions of a day and of a megabyte, and the edges of the port range", () => {
    expect(readEnv({ RAW_RETENTION_DAYS: "0.5", SPOOL_MAX_MB: "0.5" })).toMatchObject({ rawRetentionMs: 43_200_000, spoolMaxBytes: 524_288 });
    expect(readEnv({ MQTT_PORT: "0", HTTP_PORT: "65535" })).toMatchObject({ mqttPort: 0, httpPort: 65535 });
  });

  it("names the secrets each command cannot start without (the lists cli/main.ts passes today)", () => {
    expect(requiredFor("up")).toEqual(["DEVICE_GROUP_KEY", "API_TOKENS", "SERVICE_PASSWORD"]);
    expect(requiredFor("broker")).toEqual(["DEVICE_GROUP_KEY", "SERVICE_PASSWORD"]);
    expect(requiredFor("ingest")).toEqual(["SERVICE_PASSWORD"]);
    expect(requiredFor("alerts")).toEqual(["SERVICE_PASSWORD"]);
    expect(requiredFor("api")).toEqual(["API_TOKENS", "SERVICE_PASSWORD"]);
    expect(requiredFor("simulate")).toEqual(["DEVICE_GROUP_KEY"]);
    expect(requiredFor("record")).toEqual(["SERVICE_PASSWORD"]);
    expect(requiredFor("replay")).toEqual(["DEVICE_GROUP_KEY"]);
    expect(requiredFor("check-config")).toEqual([]);
  });

  it("lists a secret that is given but refused once, with what is wrong with it", () => {
    expect(problemsOf({ DEVICE_GROUP_KEY: "too-short" }, ["DEVICE_GROUP_KEY"])).toEqual([{ path: "DEVICE_GROUP_KEY", message: "must be at least 16 characters" }]);
  });
});

describe("environment: invalid numbers and durations are listed problems, never a crash or a silent default", () => {
  const cases: [variable: string, text: string, message: string, extra?: NodeJS.ProcessEnv][] = [];
  for (const name of ["MQTT_PORT", "MQTT_WS_PORT", "HTTP_PORT"]) {
    // not a number, negative, fractional, out of range, blank (which Number() reads as 0), hex, exponent
    for (const text of ["http", "-1", "80.5", "65536", " ", "0x50", "1e3"]) cases.push([name, text, `must be a port number 0..65535 (got "${text}")`]);
  }
  cases.push(
    ["RAW_RETENTION_DAYS", "ninety", 'must be a positive number of days (got "ninety")'],
    ["RAW_RETENTION_DAYS", "-5", 'must be a positive number of days (got "-5")'],
    ["RAW_RETENTION_DAYS", "0", 'must be a positive number of days (got "0")'],
    ["RAW_RETENTION_DAYS", "0.01", 'must be at least 1/24 days: InfluxDB keeps data at least 1 hour (got "0.01")'],
    ["RAW_RETENTION_DAYS", "200000", 'must be at most 106751 days: InfluxDB holds a duration as 64-bit nanoseconds (got "200000")'],
    ["SPOOL_MAX_MB", "big", 'must be a positive number of MB (got "big")'],
    ["SPOOL_MAX_MB", "-1", 'must be a positive number of MB (got "-1")'],
    ["SPOOL_MAX_MB", "0", 'must be a positive number of MB (got "0")'],
    ["SPOOL_MAX_MB", "9999999999", 'must be at most 8589934591 MB: a size in bytes must stay an exact integer (got "9999999999")'],
  );
  for (const name of ["ALERT_WEBHOOK_GROUP", "ALERT_WEBHOOK_EXPIRE", "ALERT_WEBHOOK_RETRY", "ALERT_WEBHOOK_TIMEOUT"]) {
    for (const text of ["soon", "-1s", "5 minutes"]) cases.push([name, text, `must be a duration such as 500ms, 30s, 15m, 4h (got "${text}")`, WEBHOOK]);
  }
  for (const name of ["ALERT_WEBHOOK_EXPIRE", "ALERT_WEBHOOK_RETRY", "ALERT_WEBHOOK_TIMEOUT"]) {
    for (const text of ["0s", "0", "0.0m"]) cases.push([name, text, `must be longer than zero (got "${text}")`, WEBHOOK]);
  }
  for (const name of ["ALERT_WEBHOOK_GROUP", "ALERT_WEBHOOK_RETRY", "ALERT_WEBHOOK_TIMEOUT"]) {
    cases.push([name, "25d", 'must be at most 2147483647 ms: Node\'s longest timer (about 24.8 days) (got "25d")', WEBHOOK]);
  }
  cases.push(["ALERT_WEBHOOK_EXPIRE", "100000000000d", 'must be at most 8640000000000000 ms: the longest span a JavaScript date can hold (got "100000000000d")', WEBHOOK]);
  for (const name of ["ALERT_WEBHOOK_REPEAT", "ALERT_WEBHOOK_ESCALATE_AFTER"]) {
    const leftOut = name === "ALERT_WEBHOOK_REPEAT" ? "a severity left out gets no reminders" : "a severity left out is never escalated";
    cases.push(
      [name, "critical", 'must be severity:duration pairs with a severity of critical, major, minor, warning, info, e.g. critical:15m,major:30m (got "critical")', WEBHOOK],
      [name, "loud:5m", 'must be severity:duration pairs with a severity of critical, major, minor, warning, info, e.g. critical:15m,major:30m (got "loud:5m")', WEBHOOK],
      [name, "critical:5m,major:0s", `major: must be longer than zero (got "0s"); ${leftOut}`, WEBHOOK],
      [name, "critical:-5m", `critical: must be a duration such as 500ms, 30s, 15m, 4h (got "-5m"); ${leftOut}`, WEBHOOK],
    );
  }

  it.each(cases)("%s=%j is refused", (name, text, message, extra) => {
    expect(problemsOf({ ...extra, [name]: text })).toEqual([{ path: name, message }]);
  });

  it("takes a zero grouping window: no grouping, as docs/alerts.md says", () => {
    expect(readEnv({ ...WEBHOOK, ALERT_WEBHOOK_GROUP: "0s" }).alertWebhook?.groupWindowMs).toBe(0);
  });
});
