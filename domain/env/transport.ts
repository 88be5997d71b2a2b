// Transport security and the limits on slow and greedy clients (CONTRACT §13, docs/tls.md): the
// variables, their defaults and why, merged into the one environment schema (./variables.ts).
import type { Problem } from "../errors.js";
import { type Command, variable } from "./variable.js";
import { oneOf, optionalPort, port, positiveNumber, text, type ValueKind } from "./values.js";

const LISTENERS: Command[] = ["up", "broker", "api"];

/** `true` or `false`; anything else is refused rather than guessed. */
const flag = (): ValueKind<boolean> => {
  const words = oneOf(["true", "false"] as const);
  return {
    parse(raw, name) {
      const read = words.parse(raw, name);
      return read.ok ? { ok: true, value: read.value === "true" } : read;
    },
  };
};

/** A whole count of connections, at least 1. */
const connectionCount = (why: string): ValueKind<number> => {
  const count = positiveNumber({ unit: "connections", scale: 1, max: { value: 1_000_000, why } });
  return {
    parse(raw, name) {
      const read = count.parse(raw, name);
      return read.ok && !Number.isInteger(read.value) ? { ok: false, problems: [{ path: name, message: `must be a whole number of connections (got "${raw}")` }] } : read;
    },
  };
};

const seconds = (max: number, why: string) => positiveNumber({ unit: "seconds", scale: 1000, max: { value: max, why } });

export const TRANSPORT_VARIABLES = {
  TLS_CERT_FILE: variable({
    field: "tlsCertFile",
    value: text(),
    default: "",
    shownDefault: "unset (no TLS)",
    meaning: "certificate chain (PEM) of the TLS listeners; with `TLS_KEY_FILE` (both or neither): MQTT over TLS on `MQTTS_PORT`, and the MQTT WebSocket and HTTP listeners serve only TLS. Re-read on SIGHUP (docs/tls.md)",
    readBy: LISTENERS,
  }),
  TLS_KEY_FILE: variable({
    field: "tlsKeyFile",
    value: text(),
    default: "",
    shownDefault: "unset (no TLS)",
    meaning: "private key (PEM) of `TLS_CERT_FILE`; never logged",
    readBy: LISTENERS,
  }),
  MQTTS_PORT: variable({ field: "mqttsPort", value: port(), default: "8883", meaning: "MQTT over TLS listener, when TLS is on (8883: IANA's `secure-mqtt`)", readBy: ["up", "broker"] }),
  TLS_ONLY: variable({
    field: "tlsOnly",
    value: flag(),
    default: "false",
    meaning: "`true` closes every plain listener (plain MQTT on `MQTT_PORT`); needs `TLS_CERT_FILE` and `TLS_KEY_FILE`",
    readBy: LISTENERS,
  }),
  MQTT_PROXY_PORT: variable({
    field: "mqttProxyPort",
    value: optionalPort(),
    default: "",
    shownDefault: "unset (no such listener)",
    meaning: "a second plain MQTT port for a TCP load balancer that sends the PROXY protocol header (HAProxy `send-proxy-v2`); every connection to it must start with that header, and the device address in the header is the one the per-address limit counts and the logs show. Let only the balancer reach it: the header is believed as sent (docs/ha.md)",
    readBy: ["up", "broker"],
  }),
  MQTT_CONNECT_TIMEOUT_S: variable({
    field: "mqttConnectTimeoutMs",
    // A device sends CONNECT as its first packet right after the TCP (and TLS) handshake [MQTT-3.1.0-1].
    value: seconds(300, "a connection that sends nothing holds a socket"),
    default: "10",
    meaning: "a connection that has not sent its CONNECT this long after it opened is closed",
    readBy: ["up", "broker"],
  }),
  MQTT_MAX_CONNECTIONS_PER_ADDRESS: variable({
    field: "mqttMaxConnectionsPerAddress",
    value: connectionCount("the process may hold 20,000 open files at most"),
    default: "2000",
    meaning: "open MQTT connections (TCP, TLS and WebSocket together) from one IP address; more are closed at once. A school's devices may all share one NAT address: keep it above the largest school's device count",
    readBy: ["up", "broker"],
  }),
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: variable({
    field: "httpMaxConnectionsPerAddress",
    value: connectionCount("the process may hold 20,000 open files at most"),
    default: "256",
    meaning: "open HTTP connections (live streams included) from one IP address; more are closed at once. A browser opens at most 6 per host, so 256 serves a staff room behind one NAT",
    readBy: ["up", "api"],
  }),
  HTTP_HEADERS_TIMEOUT_S: variable({
    field: "httpHeadersTimeoutMs",
    value: seconds(300, "a slow-loris client holds a socket this long"),
    default: "10",
    meaning: "a connection that has not sent a request's whole headers this long after it opened (or after its previous request) is closed (slow-loris)",
    readBy: ["up", "api"],
  }),
  HTTP_REQUEST_TIMEOUT_S: variable({
    field: "httpRequestTimeoutMs",
    value: seconds(3600, "a slow client holds a socket this long"),
    default: "30",
    meaning: "a request whose body has not all arrived this long after it began is answered 408 and closed",
    readBy: ["up", "api"],
  }),
};

/** What the variables cannot say one by one: the TLS pair is both or neither, TLS_ONLY needs it, the PROXY port is plain MQTT. */
export function transportProblems(fields: {
  tlsCertFile: string; tlsKeyFile: string; tlsOnly: boolean; httpHeadersTimeoutMs: number; httpRequestTimeoutMs: number; mqttPort: number; mqttProxyPort: number | null;
}): Problem[] {
  const problems: Problem[] = [];
  const cert = fields.tlsCertFile !== "";
  const key = fields.tlsKeyFile !== "";
  if (cert && !key) problems.push({ path: "TLS_KEY_FILE", message: "is required with TLS_CERT_FILE (set both, or neither)" });
  if (key && !cert) problems.push({ path: "TLS_CERT_FILE", message: "is required with TLS_KEY_FILE (set both, or neither)" });
  if (fields.tlsOnly && !(cert && key)) problems.push({ path: "TLS_ONLY", message: "needs TLS_CERT_FILE and TLS_KEY_FILE (nothing would be left listening)" });
  // The PROXY port carries MQTT in clear like MQTT_PORT (TLS ends at the devices' side of the balancer, if anywhere).
  if (fields.tlsOnly && fields.mqttProxyPort !== null) problems.push({ path: "MQTT_PROXY_PORT", message: "is a plain MQTT listener, which TLS_ONLY=true closes (unset one of them)" });
  if (fields.mqttProxyPort !== null && fields.mqttProxyPort !== 0 && fields.mqttProxyPort === fields.mqttPort) problems.push({ path: "MQTT_PROXY_PORT", message: "must differ from MQTT_PORT (the services and tools connect there without a PROXY header)" });
  // Node's http server refuses a headersTimeout above its requestTimeout.
  if (fields.httpHeadersTimeoutMs > fields.httpRequestTimeoutMs) problems.push({ path: "HTTP_HEADERS_TIMEOUT_S", message: "must not exceed HTTP_REQUEST_TIMEOUT_S (the headers are part of the request)" });
  return problems;
}
