import { describe, expect, it } from "vitest";
import type { Point } from "../../../domain/line-protocol.js";
import { InfluxWriteError } from "../../../infra/influx.js";
import { writeBatch, type WriterDeps } from "../../../infra/influx-batch.js";

const point = (power: number | string): Point => ({ measurement: "electrical", tags: { device: `d${power}` }, fields: { power_w: power as number }, ts: 1 });

/** A stand-in for InfluxDB's /write: refuses (400) any request containing a string power, or fails `outages` times first. */
function fakeInflux(outages = 0) {
  const requests: string[] = [];
  const stored: string[] = [];
  let failures = outages;
  const write = async (lines: string) => {
    requests.push(lines);
    if (failures > 0) {
      failures -= 1;
      throw new InfluxWriteError("InfluxDB unreachable", 0, true);
    }
    if (lines.includes('power_w="')) throw new InfluxWriteError("field type conflict", 400, false);
    stored.push(...lines.split("\n"));
  };
  return { write, requests, stored };
}

function deps(write: WriterDeps["write"], extra: Partial<WriterDeps> = {}) {
  const sleeps: number[] = [];
  const deadLetters: string[] = [];
  const d: WriterDeps = {
    write,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    givingUp: () => false,
    onDeadLetter: (_point, line) => deadLetters.push(line),
    ...extra,
  };
  return { d, sleeps, deadLetters };
}

describe("writing a batch", () => {
  it("retries the whole batch while InfluxDB is unreachable, then stores it", async () => {
    const influx = fakeInflux(3);
    const { d, sleeps } = deps(influx.write);
    const outcome = await writeBatch([point(1), point(2)], d);
    expect(outcome).toEqual({ stored: 2, deadLettered: 0, dropped: 0 });
    expect(influx.requests).toHaveLength(4);
    expect(sleeps).toEqual([188, 375, 750]);
  });

  it("isolates and dead-letters only the bad point of a batch InfluxDB refuses", async () => {
    const influx = fakeInflux();
    const { d, deadLetters } = deps(influx.write);
    const batch = [1, 2, 3, "bad", 5, 6, 7, 8].map(point);
    const outcome = await writeBatch(batch, d);
    expect(outcome).toEqual({ stored: 7, deadLettered: 1, dropped: 0 });
    expect(deadLetters).toEqual(['electrical,device=dbad power_w="bad" 1']);
    expect(influx.stored).toHaveLength(7);
    // 1 whole + halves down to the bad one: far fewer requests than one per point.
    expect(influx.requests.length).toBeLessThanOrEqual(1 + 2 * Math.log2(batch.length));
  });

  it("dead-letters several bad points and keeps all the good ones", async () => {
    const influx = fakeInflux();
    const { d, deadLetters } = deps(influx.write);
    const outcome = await writeBatch(["x", 2, 3, 4, 5, "y", 7].map(point), d);
    expect(outcome).toEqual({ stored: 5, deadLettered: 2, dropped: 0 });
    expect(deadLetters).toHaveLength(2);
  });

  it("gives up at shutdown and reports the unwritten points as dropped", async () => {
    const influx = fakeInflux(Number.POSITIVE_INFINITY);
    let attempts = 0;
    const { d } = deps(influx.write, { givingUp: () => attempts++ >= 3 });
    const outcome = await writeBatch([point(1), point(2), point(3)], d);
    expect(outcome).toEqual({ stored: 0, deadLettered: 0, dropped: 3 });
  });

  it("sends nothing for an empty batch", async () => {
    const influx = fakeInflux();
    const { d } = deps(influx.write);
    expect(await writeBatch([], d)).toEqual({ stored: 0, deadLettered: 0, dropped: 0 });
    expect(influx.requests).toEqual([]);
  });
});
