import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DeadLetterLog, deadLetterFile, deadLetterLine } from "../../../infra/dead-letter.js";

const base = { t: Date.parse("2026-11-29T08:00:00Z"), topic: "campus/devices/brk-1/telemetry", device: "brk-1", code: "PAYLOAD_INVALID", reason: "bad" };

describe("dead-letter lines", () => {
  it("keep a UTF-8 payload as text", () => {
    const line = JSON.parse(deadLetterLine({ ...base, payload: Buffer.from('{"power_w": "高"}') }));
    expect(line).toEqual({ ...base, payload: '{"power_w": "高"}' });
  });

  it("keep a binary payload as base64", () => {
    const line = JSON.parse(deadLetterLine({ ...base, payload: Buffer.from([0xff, 0xfe, 0x00, 0x01]) }));
    expect(line.payload).toEqual({ base64: "//4AAQ==" });
  });

  it("cut a huge payload and say how big it was", () => {
    const line = JSON.parse(deadLetterLine({ ...base, payload: Buffer.alloc(1_000_000, "a") }, 1024));
    expect(line.payload).toHaveLength(1024);
    expect(line.truncated).toBe(true);
    expect(line.payload_bytes).toBe(1_000_000);
  });

  it("do not turn text into base64 when the cut splits a multi-byte character", () => {
    const line = JSON.parse(deadLetterLine({ ...base, payload: Buffer.from("电".repeat(100)) }, 10));
    expect(line.payload).toBe("电电电");
  });
});

describe("the dead-letter log", () => {
  it("appends one NDJSON line per dead letter to a file per UTC day", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dead-letter-"));
    const log = new DeadLetterLog(join(dir, "dead-letter"));
    log.append({ ...base, payload: "one" });
    log.append({ ...base, payload: "two" });
    await log.flush();
    log.append({ ...base, payload: "three" });
    await log.flush();
    const lines = readFileSync(deadLetterFile(join(dir, "dead-letter"), base.t), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).payload)).toEqual(["one", "two", "three"]);
    expect(deadLetterFile("/x", base.t)).toBe("/x/2026-11-29.ndjson");
  });
});
