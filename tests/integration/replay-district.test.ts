// `replay --restamp` of a district's traffic (CONTRACT §7, §9) with the real broker, ingest and InfluxDB:
// a Tasmota `Time` has no zone, so it is moved in its device's own school's zone. Across a change of
// daylight-saving time that zone's wall clock moves by an hour more or less than the offset; moved in
// another zone, the time would be an hour off and the ingest would refuse it as skewed.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { replayFile } from "../../simulator/index.js";
import { localTime } from "../../simulator/local-time.js";
import { waitFor } from "../helpers/wait.js";
import { GROUP_KEY, type Stack, startStack, storedReadings } from "./simulator-stack.js";

const DAY_MS = 86_400_000;
let stack: Stack | undefined;
afterAll(async () => stack?.stop());

/** Berlin's offset from UTC at an instant, ms (1 h in winter, 2 h in summer). */
const berlinOffsetMs = (at: number) => Date.parse(`${localTime(at, "Europe/Berlin").iso}Z`) - Math.floor(at / 1000) * 1000;

describe("replay --restamp in a district", () => {
  it("moves a Tasmota plug's Time in its own school's zone, across a change of daylight-saving time", async () => {
    stack = await startStack("tests/fixtures/district-zones/district.yaml");
    // A recording from a day whose Berlin offset differs from today's (at most half a year back), a day
    // past the change, so its time of day is never in the hour the autumn change repeats.
    const now = Date.now();
    const daysAgo = (days: number) => Math.floor((now - days * DAY_MS) / 1000) * 1000;
    let days = 1;
    while (berlinOffsetMs(daysAgo(days)) === berlinOffsetMs(now)) days++;
    const recordedAt = daysAgo(days + 1);
    const file = join(mkdtempSync(join(tmpdir(), "campus-replay-district-")), "west.ndjson");
    const sensor = { Time: localTime(recordedAt, "Europe/Berlin").iso, ENERGY: { Power: 42, Total: 3.5 } };
    writeFileSync(file, `${JSON.stringify({ t: recordedAt, topic: "tele/tasmota_3E5701/SENSOR", payload: JSON.stringify(sensor) })}\n`);

    const before = Date.now();
    expect(await replayFile({ campus: stack.campus, mqttUrl: stack.mqttUrl, deviceGroupKey: GROUP_KEY, file, speed: 0, restamp: true })).toMatchObject({ published: 1, skipped: 0 });
    const stored = await waitFor(async () => {
      await stack!.flush();
      const found = (await storedReadings(stack!.influx, ["plug-west-101"])).map((line) => JSON.parse(line) as { time: number; site: string; power_w: number });
      return found.length > 0 ? found : null;
    }, 10_000);
    expect(stored).toHaveLength(1);
    expect(stored![0]).toMatchObject({ site: "west-school", power_w: 42 });
    // The restamped Time is the replay's start (whole seconds: Tasmota's Time has no fraction), read as it
    // was meant: not refused as skewed, which would have stored the receive time instead.
    expect(stored![0]!.time % 1000).toBe(0);
    expect(stored![0]!.time).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    const fallbacks = (await stack.metrics.getSingleMetric("campus_power_ingest_timestamp_fallbacks_total")?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
    expect(fallbacks).toBe(0);
  });
});
