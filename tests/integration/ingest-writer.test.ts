// The ingest's batch writer against the real influxd: InfluxDB's own refusal of one point (HTTP 400)
// must dead-letter that point only.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InfluxClient, rows } from "../../infra/influx.js";
import { writeBatch } from "../../ingest/writer.js";
import { influxUrl } from "../helpers/influx.js";

describe("the batch writer against a real InfluxDB", () => {
  it("dead-letters only the point InfluxDB refuses (field type conflict, HTTP 400) and stores the rest", async () => {
    const db = new InfluxClient({ url: influxUrl(), db: `writer_${randomBytes(4).toString("hex")}` });
    await db.ensureDatabase();
    await db.write("conflict,device=a value=1 1000");
    const points = Array.from({ length: 10 }, (_, i) => ({
      measurement: "conflict",
      tags: { device: `d${i}` },
      fields: { value: i === 6 ? "text" : i },
      ts: 2_000 + i,
    }));
    const deadLetters: string[] = [];
    const outcome = await writeBatch(points, {
      write: (lines) => db.write(lines),
      sleep: async () => undefined,
      random: () => 0.5,
      givingUp: () => false,
      onDeadLetter: (_point, line) => deadLetters.push(line),
    });
    expect(outcome).toEqual({ stored: 9, deadLettered: 1, dropped: 0 });
    expect(deadLetters).toEqual(['conflict,device=d6 value="text" 2006']);
    expect(rows(await db.query("SELECT count(value) FROM conflict"))[0]?.count).toBe(10); // 9 + the first one
  });
});
