import { describe, expect, it } from "vitest";
import { readClientFrame } from "../../../../api/live/protocol.js";

const codeOf = (text: string, isBinary = false) => {
  const read = readClientFrame(text, isBinary);
  return read.ok ? "ok" : read.code;
};

describe("a client frame after authentication", () => {
  it("is a subscribe message when it matches the schema, lists and options absent or present", () => {
    expect(readClientFrame('{"type":"subscribe","batch":true}', false)).toEqual({ ok: true, subscribe: { type: "subscribe", batch: true } });
    const full = { type: "subscribe", buildings: ["dorm-1"], devices: ["brk-d1-101"], interval_ms: 250, batch: false };
    expect(readClientFrame(JSON.stringify(full), false)).toEqual({ ok: true, subscribe: full });
  });

  it("names what is wrong with anything else", () => {
    expect(codeOf('{"type":"subscribe"}', true)).toBe("BINARY_FRAME");
    expect(codeOf("{not json")).toBe("INVALID_FRAME");
    expect(codeOf('"subscribe"')).toBe("INVALID_FRAME");
    expect(codeOf("null")).toBe("INVALID_FRAME");
    expect(codeOf('{"devices":[]}')).toBe("UNKNOWN_TYPE");
    expect(codeOf('{"type":"auth","token":"t"}')).toBe("UNKNOWN_TYPE");
    expect(codeOf('{"type":"subscribe","devices":"brk-d1-101"}')).toBe("INVALID_SUBSCRIBE");
    expect(codeOf('{"type":"subscribe","buildings":[1]}')).toBe("INVALID_SUBSCRIBE");
    expect(codeOf('{"type":"subscribe","interval_ms":"fast"}')).toBe("INVALID_SUBSCRIBE");
    expect(codeOf('{"type":"subscribe","batch":"yes"}')).toBe("INVALID_SUBSCRIBE");
  });

  it("says where a subscribe message is wrong", () => {
    const read = readClientFrame('{"type":"subscribe","interval_ms":"fast"}', false);
    expect(read.ok ? "" : read.message).toMatch(/\/interval_ms/);
  });
});
