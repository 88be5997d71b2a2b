// The transport variables (CONTRACT §13, docs/tls.md): TLS files both or neither, TLS_ONLY only with
// them, limits read in the units the code uses, every problem named by its variable.
import { describe, expect, it } from "vitest";
import { readEnv } from "../../../domain/env.js";
import { CampusError } from "../../../domain/errors.js";

/** The problems readEnv lists for `source` (none: []). */
function problemsOf(source: Record<string, string>): { path: string; message: string }[] {
  try {
    readEnv(source);
    return [];
  } catch (error) {
    if (error instanceof CampusError) return error.problems;
    throw error;
  }
}

describe("the transport variables", () => {
  it("read TLS off, the limits' defaults in ms and connections, when nothing is set", () => {
    const env = readEnv({});
    expect(env).toMatchObject({
      tlsCertFile: "", tlsKeyFile: "", tlsOnly: false, mqttsPort: 8883, mqttConnectTimeoutMs: 10_000,
      mqttMaxConnectionsPerAddress: 2000, httpMaxConnectionsPerAddress: 256, httpHeadersTimeoutMs: 10_000, httpRequestTimeoutMs: 30_000,
    });
  });

  it("refuse a certificate without its key, and a key without its certificate", () => {
    expect(problemsOf({ TLS_CERT_FILE: "/etc/tls/cert.pem" })).toEqual([{ path: "TLS_KEY_FILE", message: "is required with TLS_CERT_FILE (set both, or neither)" }]);
    expect(problemsOf({ TLS_KEY_FILE: "/etc/tls/key.pem" }).map((p) => p.path)).toEqual(["TLS_CERT_FILE"]);
    expect(problemsOf({ TLS_CERT_FILE: "/etc/tls/cert.pem", TLS_KEY_FILE: "/etc/tls/key.pem" })).toEqual([]);
  });

  it("refuse TLS_ONLY without the files, and a TLS_ONLY that is neither true nor false", () => {
    expect(problemsOf({ TLS_ONLY: "true" }).map((p) => p.path)).toEqual(["TLS_ONLY"]);
    expect(problemsOf({ TLS_ONLY: "yes" })).toEqual([{ path: "TLS_ONLY", message: "must be one of true, false" }]);
  });

  it("refuse a fractional connection limit, and headers allowed longer than the whole request", () => {
    expect(problemsOf({ MQTT_MAX_CONNECTIONS_PER_ADDRESS: "2.5" }).map((p) => p.path)).toEqual(["MQTT_MAX_CONNECTIONS_PER_ADDRESS"]);
    expect(problemsOf({ HTTP_HEADERS_TIMEOUT_S: "60", HTTP_REQUEST_TIMEOUT_S: "30" }).map((p) => p.path)).toEqual(["HTTP_HEADERS_TIMEOUT_S"]);
  });
});
