// MQTT_URL's brokers (CONTRACT §12): one URL, or several separated by commas (`mqtt://a:1883,mqtt://b:1883`),
// of which a client uses whichever answers. Pure: the env check (./values.ts) and the connection
// (infra/mqtt.ts) read the text the same way.

/** The schemes mqtt.js connects with in Node (CONTRACT §1: MQTT, MQTT over TLS, over WebSocket with or without TLS). */
export const MQTT_SCHEMES = ["mqtt", "mqtts", "ws", "wss"] as const;
export type MqttScheme = (typeof MQTT_SCHEMES)[number];

/** The port of a URL that names none: IANA's `mqtt` 1883 and `secure-mqtt` 8883, HTTP's 80 and 443. */
export const DEFAULT_PORTS: Readonly<Record<MqttScheme, number>> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/** One broker of the list. */
export interface BrokerUrl {
  /** The entry as written, trimmed and without trailing slashes. */
  url: string;
  protocol: MqttScheme;
  /** Host name or address; an IPv6 address without its brackets (as a socket wants it). */
  host: string;
  port: number;
  /** The WebSocket path (`/mqtt`); "" for mqtt and mqtts. */
  path: string;
}

export type MqttUrlsResult = { ok: true; brokers: BrokerUrl[] } | { ok: false; problems: string[] };

/** Whether the text lists more than one broker (one URL never holds a comma in its host or port). */
export const listsSeveralBrokers = (text: string): boolean => text.includes(",");

/** The entry as shown in a problem: user info (a password, perhaps) is never repeated. */
const shown = (entry: string) => JSON.stringify(entry.replace(/^([a-z+]+:\/\/)[^/@]*@/i, "$1…@"));

/** One entry, checked; a message saying what is wrong with it otherwise. */
function parseEntry(entry: string): BrokerUrl | string {
  const url = entry.replace(/\/+$/, "");
  if (url === "") return "is empty (two commas in a row, or one at an end)";
  const parsed = URL.canParse(url) ? new URL(url) : null;
  const protocol = parsed?.protocol.replace(/:$/, "") as MqttScheme | undefined;
  if (parsed === null || protocol === undefined || !MQTT_SCHEMES.includes(protocol) || parsed.hostname === "") {
    return `${shown(entry)} must be an mqtt://, mqtts://, ws:// or wss:// URL with a host, e.g. mqtt://10.0.0.5:1883`;
  }
  // The services' and devices' credentials come from SERVICE_PASSWORD and the device keys; a URL's would
  // override them in mqtt.js, and end up in logs.
  if (parsed.username !== "" || parsed.password !== "") return `${shown(entry)} must not hold a user name or password (the service account's password is SERVICE_PASSWORD)`;
  if (parsed.search !== "" || parsed.hash !== "") return `${shown(entry)} must not have a query or fragment`;
  const path = protocol === "ws" || protocol === "wss" ? parsed.pathname : "";
  if (path === "" && parsed.pathname !== "/" && parsed.pathname !== "") return `${shown(entry)} must not have a path (only ws:// and wss:// URLs do)`;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { url, protocol, host, port: parsed.port === "" ? DEFAULT_PORTS[protocol] : Number(parsed.port), path };
}

/**
 * Reads a comma-separated list of broker URLs (blanks around entries ignored). Every entry must use the same
 * scheme and, for WebSocket, the same path: mqtt.js's `servers` switch only host, port and protocol between
 * attempts, and its TLS and TCP transports rewrite the shared options (they delete `path`), so a mixed list
 * would connect to some brokers with another's settings.
 */
export function parseMqttUrls(text: string): MqttUrlsResult {
  const problems: string[] = [];
  const brokers: BrokerUrl[] = [];
  const entries = text.split(",").map((entry) => entry.trim());
  for (const [index, entry] of entries.entries()) {
    const read = parseEntry(entry);
    const which = entries.length > 1 ? `entry ${index + 1} ` : "";
    if (typeof read === "string") problems.push(`${which}${read}`);
    else if (brokers.some((b) => b.url === read.url)) problems.push(`${which}${shown(entry)} is listed twice`);
    else brokers.push(read);
  }
  const first = brokers[0];
  for (const broker of brokers.slice(1)) {
    if (broker.protocol !== first!.protocol) problems.push(`${shown(broker.url)} uses ${broker.protocol}:// but the first broker ${first!.protocol}://: every broker of the list must use the same scheme`);
    else if (broker.path !== first!.path) problems.push(`${shown(broker.url)} has the path "${broker.path}" but the first broker "${first!.path}": every broker of the list must use the same path`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, brokers };
}

/** The list as MQTT_URL writes it. */
export const joinMqttUrls = (brokers: readonly Pick<BrokerUrl, "url">[]): string => brokers.map((b) => b.url).join(",");

/** The list starting at broker `first` (mod its length), then the others in order: device i starts on broker i mod n. */
export function rotateBrokers<T>(brokers: readonly T[], first: number): T[] {
  const start = ((first % brokers.length) + brokers.length) % brokers.length;
  return [...brokers.slice(start), ...brokers.slice(0, start)];
}
