import { describe, expect, it } from "vitest";
import { seriesOf, splitRecord, withField } from "../../../ingest/durable-sink.js";
import { toLine } from "../../../domain/line-protocol.js";

describe("spooled lines", () => {
  const line = toLine({ measurement: "electrical", tags: { device: "brk d1,101", building: "dorm=1" }, fields: { power_w: 920.5, note: "a b \"c\"" }, ts: 1_795_000_000_000 })!;

  it("finds the series of a line with escaped spaces, commas and equals signs in its tags", () => {
    expect(seriesOf(line)).toBe("electrical,building=dorm\\=1,device=brk\\ d1\\,101");
  });

  it("adds a field before the timestamp, even after a string field with spaces", () => {
    expect(withField(line, "energy_delta_kwh=0.25")).toBe(
      'electrical,building=dorm\\=1,device=brk\\ d1\\,101 power_w=920.5,note="a b \\"c\\"",energy_delta_kwh=0.25 1795000000000',
    );
  });
});

describe("spool records of the sink", () => {
  it("splits a record into its JSON header and its lines, and an empty body into no line", () => {
    const header = { f: { native: 2 }, e: [["electrical,device=a", 1, 12.5, 0]] };
    expect(splitRecord(Buffer.from(`${JSON.stringify(header)}\nelectrical,device=a energy_kwh=12.5 1\ndevice_status,device=a online=true 1`))).toEqual({
      header,
      lines: ["electrical,device=a energy_kwh=12.5 1", "device_status,device=a online=true 1"],
    });
    expect(splitRecord(Buffer.from('{"f":{},"e":[]}\n')).lines).toEqual([]);
  });
});
