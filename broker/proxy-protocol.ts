// The PROXY protocol header a TCP load balancer (HAProxy `send-proxy` / `send-proxy-v2`) puts before the
// client's bytes, so the broker knows the device's address and not the balancer's (CONTRACT §12, the
// MQTT_PROXY_PORT listener). Pure: bytes in, a verdict out; the socket side is ./proxied-connection.ts.
// Spec: haproxy.org/download/2.8/doc/proxy-protocol.txt (cited as "PP §n" below).
//
// Written here rather than taken from proxy-protocol-js (which aedes-protocol-decoder uses): that library
// parses a header it is handed but cannot say where one ends in a stream (its v2 parser ignores the length
// field, so TLVs land in the payload; its v1 parser rejects "PROXY UNKNOWN\r\n", which HAProxy's v1 health
// checks send), and it neither validates nor formats addresses. It serves the tests as an independent encoder.
import { isIP } from "node:net";

export interface ProxiedSource {
  /** The client's IP address, canonical (IPv4 dotted; IPv6 compressed, lower case; v4-mapped IPv6 as IPv4). */
  address: string;
  port: number;
}

export type ProxyHeaderRead =
  /** More bytes are needed to decide. */
  | { status: "incomplete" }
  /** Not a PROXY header, or a broken one: the connection must be closed. */
  | { status: "invalid"; detail: string }
  /**
   * A whole header of `length` bytes; what follows it is the client's stream. `source` is null when the
   * header carries no client address (v2 LOCAL: the balancer's own health check; v1 UNKNOWN; v2 UNSPEC or
   * UNIX): the connection's own address stands (PP §2.1, §2.2).
   */
  | { status: "complete"; length: number; source: ProxiedSource | null };

const V1_SIGNATURE = Buffer.from("PROXY ", "latin1");
// PP §2.1: "PROXY TCP6 ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n" is the longest, CRLF included.
const V1_MAX_BYTES = 107;
// PP §2.2: 12 signature bytes, version/command, family/transport, a 16-bit length of what follows.
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;
const V2_VERSION = 0x2;
const V2_COMMAND_LOCAL = 0x0;
const V2_COMMAND_PROXY = 0x1;
// PP §2.2: the address block's size by family (high nibble of byte 14): UNSPEC, INET, INET6, UNIX.
const V2_ADDRESS_BYTES = [0, 12, 36, 216] as const;
const V2_FAMILY_INET = 1;
const V2_FAMILY_INET6 = 2;

const INCOMPLETE: ProxyHeaderRead = { status: "incomplete" };
const invalid = (detail: string): ProxyHeaderRead => ({ status: "invalid", detail });

/** Reads the PROXY header (v1 or v2) at the start of what a connection sent so far. */
export function readProxyHeader(bytes: Buffer): ProxyHeaderRead {
  if (startsLike(bytes, V2_SIGNATURE)) return bytes.length < V2_FIXED_BYTES ? INCOMPLETE : readV2(bytes);
  if (startsLike(bytes, V1_SIGNATURE)) return bytes.length < V1_SIGNATURE.length ? INCOMPLETE : readV1(bytes);
  return invalid("no PROXY protocol signature (v1 \"PROXY \" or the v2 12-byte signature)");
}

/** True when `bytes` and `signature` agree on their common length (an empty or short start may still become it). */
function startsLike(bytes: Buffer, signature: Buffer): boolean {
  const common = Math.min(bytes.length, signature.length);
  return bytes.subarray(0, common).equals(signature.subarray(0, common));
}

function readV1(bytes: Buffer): ProxyHeaderRead {
  const window = bytes.subarray(0, V1_MAX_BYTES);
  const crlf = window.indexOf("\r\n", 0, "latin1");
  if (crlf < 0) {
    if (bytes.length >= V1_MAX_BYTES) return invalid(`v1 header without CRLF in its first ${V1_MAX_BYTES} bytes`);
    // A lone LF (or a CR followed by anything but LF) can never become the header's end.
    const lf = window.indexOf(0x0a);
    const cr = window.indexOf(0x0d);
    if (lf >= 0 || (cr >= 0 && cr < window.length - 1)) return invalid("v1 header with a CR or LF that is not its CRLF");
    return INCOMPLETE;
  }
  const length = crlf + 2;
  const fields = window.toString("latin1", V1_SIGNATURE.length, crlf).split(" ");
  // PP §2.1: with UNKNOWN "the receiver must ignore anything presented before the CRLF".
  if (fields[0] === "UNKNOWN") return { status: "complete", length, source: null };
  const family = fields[0] === "TCP4" ? 4 : fields[0] === "TCP6" ? 6 : 0;
  if (family === 0) return invalid(`v1 protocol must be TCP4, TCP6 or UNKNOWN (got "${printable(fields[0] ?? "")}")`);
  if (fields.length !== 5) return invalid("v1 header must be PROXY <protocol> <source> <destination> <source port> <destination port>");
  const [, source = "", destination = "", sourcePort = "", destinationPort = ""] = fields;
  if (isIP(source) !== family || isIP(destination) !== family) return invalid(`v1 addresses are not ${fields[0]} addresses`);
  const port = portOf(sourcePort);
  if (port === null || portOf(destinationPort) === null) return invalid("v1 ports must be decimal numbers 0..65535");
  const address = canonicalAddress(source);
  return address === null ? invalid("v1 source address cannot be read") : { status: "complete", length, source: { address, port } };
}

function readV2(bytes: Buffer): ProxyHeaderRead {
  const versionCommand = bytes[12] ?? 0;
  const familyTransport = bytes[13] ?? 0;
  if (versionCommand >> 4 !== V2_VERSION) return invalid(`v2 version must be 2 (got ${versionCommand >> 4})`);
  const command = versionCommand & 0x0f;
  if (command !== V2_COMMAND_LOCAL && command !== V2_COMMAND_PROXY) return invalid(`v2 command must be LOCAL or PROXY (got ${command})`);
  const family = familyTransport >> 4;
  const addressBytes = V2_ADDRESS_BYTES[family as 0 | 1 | 2 | 3];
  if (addressBytes === undefined || (familyTransport & 0x0f) > 2) return invalid(`v2 family/transport byte 0x${familyTransport.toString(16)} is not defined`);
  const length = V2_FIXED_BYTES + bytes.readUInt16BE(14);
  // LOCAL may carry any block (PP §2.2: "discard the protocol block including the family").
  if (command === V2_COMMAND_PROXY && length - V2_FIXED_BYTES < addressBytes) return invalid(`v2 length ${length - V2_FIXED_BYTES} is shorter than its address block (${addressBytes} bytes)`);
  if (bytes.length < length) return INCOMPLETE;
  // What follows the addresses (TLVs: ALPN, TLS details, ...) is skipped: only the source address is used.
  if (command === V2_COMMAND_LOCAL || (family !== V2_FAMILY_INET && family !== V2_FAMILY_INET6)) return { status: "complete", length, source: null };
  const address = family === V2_FAMILY_INET ? bytes.subarray(16, 20).join(".") : canonicalAddress(ipv6Text(bytes.subarray(16, 32)));
  const port = bytes.readUInt16BE(family === V2_FAMILY_INET ? 24 : 48);
  return address === null ? invalid("v2 source address cannot be read") : { status: "complete", length, source: { address, port } };
}

/** Eight colon-separated hex groups of 16 bytes (canonicalAddress compresses them). */
function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(":");
}

function portOf(text: string): number | null {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : null;
}

/**
 * One spelling per address, so the per-address limit counts `2001:DB8::1` and `2001:db8:0:0:0:0:0:1` as one,
 * and an IPv4 client seen through an IPv6 socket (`::ffff:a.b.c.d`) as the IPv4 address it is. WHATWG URL
 * serialises IPv6 in RFC 5952's compressed lower-case form. Null when `text` is not an IP address.
 */
export function canonicalAddress(text: string): string | null {
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6 || !URL.canParse(`http://[${text}]/`)) return null;
  const compressed = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (!mapped) return compressed;
  const high = Number.parseInt(mapped[1] ?? "0", 16);
  const low = Number.parseInt(mapped[2] ?? "0", 16);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** A field of a refused header, safe to log: printable ASCII, at most 32 characters. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 32);
}
