// Record and replay (CONTRACT §7) with the real broker, ingest and InfluxDB: traffic the simulator sent
// through stack A, recorded as NDJSON, replayed as the devices themselves into stack B, is stored as
// exactly the same readings.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../infra/logger.js";
import { replayFile, startRecorder, startSimulator } from "../../simulator/index.js";
import { parseRecordedLine } from "../../simulator/recording.js";
import { localTime } from "../../simulator/local-time.js";
import { waitFor } from "../helpers/wait.js";
import { everyDeviceLeft, GROUP_KEY, SERVICE_PASSWORD, type Stack, startStack, storedReadings } from "./simulator-stack.js";

const CAMPUS = "scenarios/campus.yaml";
const stacks: Stack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
});

describe("record and replay", () => {
  it("replays a recorded file to exactly the same stored readings", async () => {
    const a = await startStack(CAMPUS);
    stacks.push(a);
    const lines: string[] = [];
    const recorder = await startRecorder({ mqttUrl: a.mqttUrl, servicePassword: SERVICE_PASSWORD, write: (line) => lines.push(line) });
    const simulator = await startSimulator({
      campus: a.campus,
      mqttUrl: a.mqttUrl,
      deviceGroupKey: GROUP_KEY,
      log: createLogger("silent"),
      seed: 11,
      speed: 30,
      durationMs: 4_000,
      startMs: (wall) => wall - 4_000 * 30,
    });
    await simulator.finished;
    await simulator.stop();
    // Each device's "offline" on leaving is its last message: once the recorder has them all, it has everything.
    const received = () => lines.map((line) => JSON.parse(line) as { topic: string; payload: string });
    await waitFor(() => everyDeviceLeft(a.campus, received()), 5_000, { intervalMs: 20, what: "every device's offline recorded" });
    await recorder.stop();
    await a.flush();
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) expect(parseRecordedLine(line.trim())).not.toHaveProperty("error");
    const file = join(mkdtempSync(join(tmpdir(), "campus-replay-")), "traffic.ndjson");
    writeFileSync(file, lines.join(""));

    const b = await startStack(CAMPUS);
    stacks.push(b);
    const totals = await replayFile({ campus: b.campus, mqttUrl: b.mqttUrl, deviceGroupKey: GROUP_KEY, file, speed: 0 });
    expect(totals).toMatchObject({ published: lines.length, skipped: 0, invalid: 0, rounds: 1 });

    // Devices whose payloads carry their own time: native (ts) and Tasmota (Time). Shelly Gen1 and
    // Zigbee2MQTT payloads carry none, so the ingest stamps them with the receive time, which a replay
    // cannot reproduce (and Gen2 beyond the live skew tolerance falls back to it too).
    const timed = a.campus.devices.filter((d) => d.format === "native" || d.format === "tasmota").map((d) => d.id);
    const original = await storedReadings(a.influx, timed);
    expect(original.length).toBeGreaterThan(50);
    // The broker acknowledged every publish; the ingest stores them a moment later.
    const replayed = await waitFor(async () => {
      await b.flush();
      const found = await storedReadings(b.influx, timed);
      return found.length >= original.length ? found : null;
    }, 10_000);
    expect(replayed).toEqual(original);
  });

  it("replays only the topics asked for, and moves the times with --restamp", async () => {
    const c = await startStack(CAMPUS);
    stacks.push(c);
    const t = Date.parse("2026-11-25T12:00:00Z");
    const dir = mkdtempSync(join(tmpdir(), "campus-replay-"));
    const file = join(dir, "two.ndjson");
    writeFileSync(
      file,
      [
        { t, topic: "campus/devices/brk-o1-101/telemetry", payload: JSON.stringify({ ts: new Date(t).toISOString(), power_w: 100 }) },
        { t: t + 1_000, topic: "tele/tasmota_d1101a/SENSOR", payload: JSON.stringify({ Time: "2026-11-25T20:00:01", ENERGY: { Power: 50, Total: 1.5 } }) },
        { t: t + 2_000, topic: "campus/devices/not-in-campus/telemetry", payload: "{}" },
      ].map((m) => JSON.stringify(m)).join("\n"),
    );
    const before = Date.now();
    const totals = await replayFile({ campus: c.campus, mqttUrl: c.mqttUrl, deviceGroupKey: GROUP_KEY, file, speed: 0, restamp: true, topics: ["campus/devices/+/telemetry"] });
    expect(totals).toMatchObject({ published: 1, skipped: 2 });
    const lines = await waitFor(async () => {
      await c.flush();
      const found = await storedReadings(c.influx, ["brk-o1-101", "plug-d1-101-a"]);
      return found.length > 0 ? found : null;
    }, 10_000);
    // The Tasmota plug's own later message, replayed unfiltered, is the marker: once it is stored, a wrongly
    // replayed earlier line of the same plug would be stored too.
    const marker = join(dir, "marker.ndjson");
    const markerTime = localTime(Date.now() - 60_000, c.campus.site.timezone).iso;
    writeFileSync(marker, JSON.stringify({ t: Date.now(), topic: "tele/tasmota_d1101a/SENSOR", payload: JSON.stringify({ Time: markerTime, ENERGY: { Power: 77, Total: 1.6 } }) }));
    expect(await replayFile({ campus: c.campus, mqttUrl: c.mqttUrl, deviceGroupKey: GROUP_KEY, file: marker, speed: 0 })).toMatchObject({ published: 1 });
    const plug = await waitFor(async () => {
      await c.flush();
      const found = (await storedReadings(c.influx, ["plug-d1-101-a"])).map((l) => JSON.parse(l) as { power_w: number });
      return found.length > 0 ? found : null;
    }, 10_000);
    expect(plug?.map((p) => p.power_w), "only the marker, not the Tasmota line outside --topics").toEqual([77]);
    const stored = (await storedReadings(c.influx, ["brk-o1-101"])).map((l) => JSON.parse(l) as { time: string | number; device: string });
    expect(lines).not.toBeNull();
    expect(stored.map((s) => s.device)).toEqual(["brk-o1-101"]);
    const time = stored[0]!.time;
    // Recorded at 2026-11-25T12:00Z, restamped to the moment of the replay.
    expect(typeof time === "number" ? time : Date.parse(time)).toBeGreaterThanOrEqual(before - 1_000);
  });
});
