// The PROXY protocol header reader (broker/proxy-protocol.ts): the spec's examples, HAProxy's health-check
// headers, bad headers, and properties against proxy-protocol-js as an independent encoder: every header
// it builds reads back to its source address and exact length, every shorter prefix waits for more bytes,
// and no input makes the reader throw.
import { BlockList, isIP } from "node:net";
import fc from "fast-check";
import {
  Command, INETProtocol, IPv4Address, IPv4ProxyAddress, IPv6Address, IPv6ProxyAddress, Peer, TransportProtocol, UnspecProxyAddress, V1BinaryProxyProtocol, V2ProxyProtocol,
} from "proxy-protocol-js";
import { describe, expect, it } from "vitest";
import { canonicalAddress, readProxyHeader } from "../../../broker/proxy-protocol.js";
import { readEnv } from "../../../domain/env.js";
import { CampusError } from "../../../domain/errors.js";

const SIGNATURE_V2 = Buffer.from("0d0a0d0a000d0a515549540a", "hex");
/** An MQTT 3.1.1 CONNECT's first bytes: what follows the header on a device's connection. */
const CONNECT = Buffer.from("101000044d5154540402003c0004", "hex");

const v1 = (line: string) => Buffer.from(line, "latin1");
const v2 = (versionCommand: number, familyTransport: number, block: Buffer) => {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(block.length);
  return Buffer.concat([SIGNATURE_V2, Buffer.from([versionCommand, familyTransport]), length, block]);
};
const ipv4Block = (source: number[], destination: number[], sourcePort: number, destinationPort: number) => {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return Buffer.concat([Buffer.from(source), Buffer.from(destination), ports]);
};

describe("readProxyHeader, v1 (text)", () => {
  it("reads a TCP4 header's source address and port, and where the header ends", () => {
    const header = v1("PROXY TCP4 192.0.2.10 198.51.100.1 56324 1884\r\n");
    expect(readProxyHeader(Buffer.concat([header, CONNECT]))).toEqual({ status: "complete", length: header.length, source: { address: "192.0.2.10", port: 56324 } });
  });

  it("reads a TCP6 header, writing the address in its one canonical form", () => {
    const read = readProxyHeader(v1("PROXY TCP6 2001:DB8:0:0:0:0:0:7 2001:db8::1 40000 1884\r\n"));
    expect(read).toMatchObject({ status: "complete", source: { address: "2001:db8::7", port: 40000 } });
  });

  it("takes UNKNOWN (HAProxy's v1 health check) as a header without a client address", () => {
    expect(readProxyHeader(v1("PROXY UNKNOWN\r\n"))).toEqual({ status: "complete", length: 15, source: null });
    expect(readProxyHeader(v1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"))).toMatchObject({ status: "complete", source: null });
  });

  it("waits for more bytes while the line is shorter than 107 bytes and has no CRLF", () => {
    expect(readProxyHeader(Buffer.alloc(0))).toEqual({ status: "incomplete" });
    expect(readProxyHeader(v1("PRO"))).toEqual({ status: "incomplete" });
    expect(readProxyHeader(v1("PROXY TCP4 192.0.2.10 198.51.100.1 5632"))).toEqual({ status: "incomplete" });
    expect(readProxyHeader(v1("PROXY TCP4 192.0.2.10 198.51.100.1 56324 1884\r"))).toEqual({ status: "incomplete" });
  });

  it.each([
    ["an MQTT CONNECT instead of a header", CONNECT],
    ["an HTTP request", v1("GET / HTTP/1.1\r\n")],
    ["a lower-case signature", v1("proxy TCP4 192.0.2.10 198.51.100.1 1 2\r\n")],
    ["an unknown protocol", v1("PROXY UDP4 192.0.2.10 198.51.100.1 1 2\r\n")],
    ["an IPv6 address under TCP4", v1("PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n")],
    ["a host name for an address", v1("PROXY TCP4 device.example 198.51.100.1 1 2\r\n")],
    ["a port above 65535", v1("PROXY TCP4 192.0.2.10 198.51.100.1 65536 1884\r\n")],
    ["a missing port", v1("PROXY TCP4 192.0.2.10 198.51.100.1 1884\r\n")],
    ["two spaces between fields", v1("PROXY TCP4  192.0.2.10 198.51.100.1 1 2\r\n")],
    ["a bare LF", v1("PROXY TCP4 192.0.2.10 198.51.100.1 1 2\n")],
    ["a line past 107 bytes", v1(`PROXY TCP6 ${"f".repeat(120)}`)],
  ])("refuses %s", (_what, bytes) => {
    expect(readProxyHeader(bytes)).toMatchObject({ status: "invalid" });
  });
});

describe("readProxyHeader, v2 (binary)", () => {
  it("reads an IPv4 PROXY header (HAProxy send-proxy-v2) and skips its TLVs", () => {
    const tlvs = Buffer.from("0100026832", "hex"); // PP2_TYPE_ALPN "h2"
    const header = v2(0x21, 0x11, Buffer.concat([ipv4Block([203, 0, 113, 7], [10, 0, 0, 2], 51000, 1884), tlvs]));
    expect(readProxyHeader(Buffer.concat([header, CONNECT]))).toEqual({ status: "complete", length: 16 + 12 + 5, source: { address: "203.0.113.7", port: 51000 } });
  });

  it("reads an IPv4-mapped IPv6 source as the IPv4 address it is", () => {
    const mapped = Buffer.from("00000000000000000000ffffc0000221", "hex"); // ::ffff:192.0.2.33
    const block = Buffer.concat([mapped, Buffer.alloc(16), Buffer.from([0x9c, 0x40, 0x07, 0x5c])]);
    expect(readProxyHeader(v2(0x21, 0x21, block))).toMatchObject({ source: { address: "192.0.2.33", port: 40000 } });
  });

  it("takes LOCAL (HAProxy's health check), UNSPEC and UNIX as headers without a client address", () => {
    expect(readProxyHeader(v2(0x20, 0x00, Buffer.alloc(0)))).toEqual({ status: "complete", length: 16, source: null });
    expect(readProxyHeader(v2(0x20, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)))).toMatchObject({ status: "complete", source: null });
    expect(readProxyHeader(v2(0x21, 0x00, Buffer.alloc(0)))).toMatchObject({ status: "complete", source: null });
    expect(readProxyHeader(v2(0x21, 0x31, Buffer.alloc(216)))).toMatchObject({ status: "complete", length: 16 + 216, source: null });
  });

  it.each([
    ["version 1 in the version nibble", v2(0x11, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ["command 2", v2(0x22, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ["family 4", v2(0x21, 0x41, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ["transport 3", v2(0x21, 0x13, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ["a length shorter than the IPv4 address block", v2(0x21, 0x11, Buffer.alloc(8))],
    ["a length shorter than the IPv6 address block", v2(0x21, 0x21, Buffer.alloc(12))],
    ["a broken signature", Buffer.concat([Buffer.from("0d0a0d0a000d0a51554954ff", "hex"), Buffer.alloc(16)])],
  ])("refuses %s", (_what, bytes) => {
    expect(readProxyHeader(bytes)).toMatchObject({ status: "invalid" });
  });
});

describe("canonicalAddress", () => {
  it("gives one spelling per address, and null for what is not an IP address", () => {
    expect(canonicalAddress("192.0.2.1")).toBe("192.0.2.1");
    expect(canonicalAddress("2001:0DB8:0000:0000:0000:0000:0000:0001")).toBe("2001:db8::1");
    expect(canonicalAddress("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(canonicalAddress("::1")).toBe("::1");
    expect(canonicalAddress("device.example")).toBeNull();
    expect(canonicalAddress("192.0.2.01")).toBeNull();
  });
});

/** Every proper prefix of `header` waits for more, the whole reads as `expected`, and bytes after it change nothing. */
function expectFramed(header: Buffer, payload: Buffer, check: (read: ReturnType<typeof readProxyHeader>) => void): void {
  for (let cut = 0; cut < header.length; cut++) expect(readProxyHeader(header.subarray(0, cut))).toEqual({ status: "incomplete" });
  const alone = readProxyHeader(header);
  expect(alone).toMatchObject({ status: "complete", length: header.length });
  check(alone);
  expect(readProxyHeader(Buffer.concat([header, payload]))).toEqual(alone);
}

/** True when `address` (as read) and `text` (as encoded) name the same IPv6 address. */
function sameIpv6(address: string, text: string): boolean {
  const list = new BlockList();
  list.addAddress(text, "ipv6");
  return isIP(address) === 6 && list.check(address, "ipv6");
}

const port = fc.integer({ min: 0, max: 65535 });
const payload = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes));

describe("readProxyHeader, properties against proxy-protocol-js", () => {
  it("reads back every v1 TCP4 and TCP6 header it builds", () => {
    const v4 = fc.tuple(fc.ipV4(), fc.ipV4()).map(([s, d]) => ({ protocol: INETProtocol.TCP4, source: s, destination: d }));
    const v6 = fc.tuple(fc.ipV6(), fc.ipV6()).map(([s, d]) => ({ protocol: INETProtocol.TCP6, source: s, destination: d }));
    fc.assert(
      fc.property(fc.oneof(v4, v6), port, port, payload, ({ protocol, source, destination }, sourcePort, destinationPort, after) => {
        const header = Buffer.from(new V1BinaryProxyProtocol(protocol, new Peer(source, sourcePort), new Peer(destination, destinationPort)).build());
        expectFramed(header, after, (read) => {
          expect(read).toMatchObject({ source: { address: canonicalAddress(source), port: sourcePort } });
        });
      }),
    );
  });

  it("reads back every v2 IPv4 and IPv6 PROXY header it builds, and every LOCAL one", () => {
    const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => [...a]);
    fc.assert(
      fc.property(bytes(4), bytes(4), bytes(16), bytes(16), port, port, fc.boolean(), fc.boolean(), payload, (s4, d4, s6, d6, sourcePort, destinationPort, ipv6, local, after) => {
        const address = ipv6
          ? new IPv6ProxyAddress(IPv6Address.createFrom(s6), sourcePort, IPv6Address.createFrom(d6), destinationPort)
          : new IPv4ProxyAddress(IPv4Address.createFrom(s4), sourcePort, IPv4Address.createFrom(d4), destinationPort);
        const header = Buffer.from(new V2ProxyProtocol(local ? Command.LOCAL : Command.PROXY, TransportProtocol.STREAM, address).build());
        expectFramed(header, after, (read) => {
          if (read.status !== "complete") return;
          if (local) return void expect(read.source).toBeNull();
          expect(read.source?.port).toBe(sourcePort);
          const text = Buffer.from(s6).toString("hex").match(/.{4}/g)?.join(":") ?? "";
          if (ipv6 && !text.startsWith("0000:0000:0000:0000:0000:ffff")) expect(sameIpv6(read.source?.address ?? "", text)).toBe(true);
          if (!ipv6) expect(read.source?.address).toBe(s4.join("."));
        });
      }),
    );
  });

  it("reads a v2 UNSPEC header it builds as one without a client address", () => {
    const header = Buffer.from(new V2ProxyProtocol(Command.LOCAL, TransportProtocol.UNSPEC, new UnspecProxyAddress()).build());
    expect(readProxyHeader(header)).toEqual({ status: "complete", length: 16, source: null });
  });

  it("never throws, and refuses any bytes that do not start like a signature", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        const bytes = Buffer.from(raw);
        const read = readProxyHeader(bytes);
        expect(["incomplete", "invalid", "complete"]).toContain(read.status);
        const likeV1 = bytes.subarray(0, 6).equals(Buffer.from("PROXY ").subarray(0, Math.min(6, bytes.length)));
        const likeV2 = bytes.subarray(0, 12).equals(SIGNATURE_V2.subarray(0, Math.min(12, bytes.length)));
        if (!likeV1 && !likeV2) expect(read.status).toBe("invalid");
      }),
    );
    // Random bytes after each signature reach the deeper checks too.
    fc.assert(
      fc.property(fc.constantFrom(Buffer.from("PROXY "), SIGNATURE_V2), fc.uint8Array({ maxLength: 300 }), (signature, rest) => {
        const read = readProxyHeader(Buffer.concat([signature, Buffer.from(rest)]));
        if (read.status === "complete") expect(read.length).toBeLessThanOrEqual(signature.length + rest.length);
      }),
    );
  });
});

describe("MQTT_PROXY_PORT", () => {
  const problemsOf = (source: Record<string, string>) => {
    try {
      readEnv(source);
      return [];
    } catch (error) {
      if (error instanceof CampusError) return error.problems;
      throw error;
    }
  };

  it("is off (null) by default, a port when set, and refused when not a port", () => {
    expect(readEnv({}).mqttProxyPort).toBeNull();
    expect(readEnv({ MQTT_PROXY_PORT: "1884" }).mqttProxyPort).toBe(1884);
    expect(problemsOf({ MQTT_PROXY_PORT: "haproxy" }).map((p) => p.path)).toEqual(["MQTT_PROXY_PORT"]);
  });

  it("is refused with TLS_ONLY (it is a plain listener) and on MQTT_PORT itself", () => {
    const tls = { TLS_CERT_FILE: "/etc/tls/cert.pem", TLS_KEY_FILE: "/etc/tls/key.pem" };
    expect(problemsOf({ ...tls, TLS_ONLY: "true", MQTT_PROXY_PORT: "1884" }).map((p) => p.path)).toEqual(["MQTT_PROXY_PORT"]);
    expect(problemsOf({ ...tls, MQTT_PROXY_PORT: "1884" })).toEqual([]);
    expect(problemsOf({ MQTT_PORT: "1884", MQTT_PROXY_PORT: "1884" }).map((p) => p.path)).toEqual(["MQTT_PROXY_PORT"]);
  });
});
