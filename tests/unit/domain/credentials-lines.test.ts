import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { devicePassword, safeEqual } from "../../../domain/credentials.js";
import { toLine } from "../../../domain/line-protocol.js";

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
