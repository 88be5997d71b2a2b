// Simulated devices obey commands (CONTRACT §10, issue 11 §6): a switched-off circuit and everything below
// it draw nothing, each format answers and reports its relay as the real device does, and a `command` fault
// makes a device ignore, refuse or take its time, in event time. Pure: the model and the stream.
import { describe, expect, it } from "vitest";
import type { Device } from "../../../domain/campus.js";
import { commandMessage } from "../../../domain/formats/commands.js";
import { loadCampus } from "../../../infra/campus-file.js";
import type { Fault } from "../../../simulator/faults.js";
import { reportMessages } from "../../../simulator/messages.js";
import { advanceTo, createCampusModel, switchRelay } from "../../../simulator/model.js";
import { nativeReading } from "../../../simulator/payloads.js";
import { createStream, type StreamItem } from "../../../simulator/stream.js";

const campus = loadCampus("scenarios/campus.yaml");
const start = Date.parse("2026-11-25T20:00:00+08:00"); // a Wednesday evening: the dormitory is busy
const device = (id: string) => campus.deviceById.get(id)!;
const native = (model: ReturnType<typeof createCampusModel>, id: string) => nativeReading(model, id);

describe("a switched-off circuit in the model", () => {
  it("draws nothing: power, current, leakage and energy stop, the voltage stays; switched on, it draws again", () => {
    const model = createCampusModel(campus, { seed: 3, startMs: start });
    advanceTo(model, start + 60_000);
    const before = native(model, "brk-d1-102");
    expect(before.power_w).toBeGreaterThan(20);
    expect(before.leakage_ma).toBeGreaterThan(0);
    expect(switchRelay(model, "brk-d1-102", false)).toBe(true);
    const at = native(model, "brk-d1-102"); // at once: the answer shows it
    advanceTo(model, start + 660_000);
    const after = native(model, "brk-d1-102");
    for (const reading of [at, after]) {
      expect(reading).toMatchObject({ switch_on: false, power_w: 0, current_a: 0, leakage_ma: 0 });
      expect(reading.voltage_v).toBeGreaterThan(198); // GB/T 12325: 220 V −10 %
    }
    expect(after.energy_kwh).toBe(at.energy_kwh);
    expect(switchRelay(model, "brk-d1-102", true)).toBe(false);
    advanceTo(model, start + 720_000);
    expect(native(model, "brk-d1-102")).toMatchObject({ switch_on: true });
    expect(native(model, "brk-d1-102").power_w).toBeGreaterThan(20);
    expect(native(model, "brk-d1-102").energy_kwh).toBeGreaterThan(after.energy_kwh!);
  });

  it("cuts everything downstream, and the feeder carries only its other circuits", () => {
    const twin = (off: boolean) => {
      const model = createCampusModel(campus, { seed: 3, startMs: start });
      advanceTo(model, start + 60_000);
      if (off) switchRelay(model, "brk-d1-102", false);
      advanceTo(model, start + 120_000);
      return model;
    };
    const on = twin(false);
    const off = twin(true);
    // The socket below the room's breaker keeps its own relay closed but has no supply.
    expect(native(off, "plug-d1-102-a")).toMatchObject({ switch_on: true, power_w: 0, current_a: 0 });
    expect(native(on, "plug-d1-102-a").power_w).toBeGreaterThan(0);
    const room = native(on, "brk-d1-102").power_w!;
    const feederDrop = native(on, "brk-d1-main").power_w! - native(off, "brk-d1-main").power_w!;
    // The room's load leaves the feeder; the rest only differs by its noise (the same seed runs on).
    expect(Math.abs(feederDrop - room)).toBeLessThan(0.1 * room + 30);
    expect(native(off, "brk-d1-101").power_w).toBeGreaterThan(0); // a sibling room is not touched
  });

  it("keeps a circuit dark while its own relay is open, even once the one above closes again", () => {
    const model = createCampusModel(campus, { seed: 3, startMs: start });
    advanceTo(model, start + 60_000);
    switchRelay(model, "plug-d1-102-a", false);
    switchRelay(model, "brk-d1-102", false);
    switchRelay(model, "brk-d1-102", true);
    advanceTo(model, start + 120_000);
    expect(native(model, "brk-d1-102").power_w).toBeGreaterThan(0);
    expect(native(model, "plug-d1-102-a")).toMatchObject({ switch_on: false, power_w: 0 });
  });

  it("shows the open relay in every format's periodic report", () => {
    const model = createCampusModel(campus, { seed: 3, startMs: start });
    const ids = ["brk-d1-103", "plug-d1-101-a", "plug-d1-102-a", "brk-t1-201-light", "brk-l1-fridge"];
    for (const id of ids) switchRelay(model, id, false);
    advanceTo(model, start + 10_000);
    const payloads = (id: string) => Object.fromEntries(reportMessages(model, device(id), 0, true).map((m) => [m.topic, m.payload]));
    expect(JSON.parse(payloads("brk-d1-103")["campus/devices/brk-d1-103/telemetry"]!)).toMatchObject({ switch_on: false, power_w: 0 });
    expect(JSON.parse(payloads("plug-d1-101-a")["tele/tasmota_d1101a/STATE"]!)).toMatchObject({ POWER: "OFF" });
    expect(JSON.parse(payloads("plug-d1-101-a")["tele/tasmota_d1101a/SENSOR"]!)).toMatchObject({ ENERGY: { Power: 0, Current: 0 } });
    expect(payloads("plug-d1-102-a")).toMatchObject({ "shellies/shellyplug-s-d1102a/relay/0": "off", "shellies/shellyplug-s-d1102a/relay/0/power": "0" });
    expect(JSON.parse(payloads("brk-t1-201-light")["shellypro1pm-t1201/status/switch:0"]!)).toMatchObject({ output: false, apower: 0 });
    expect(JSON.parse(payloads("brk-l1-fridge")["zigbee2mqtt/lab_fridge_breaker"]!)).toMatchObject({ state: "OFF", power: 0 });
  });
});

describe("commands in the stream", () => {
  const T = start + 60_500; // between two reports
  const offFor = (d: Device, rpcId = 9) => commandMessage(d, { id: "cmd-9", action: "switch_off", issued_by: "operator:ab12", expires_at: new Date(T + 30_000).toISOString() }, rpcId).payload;
  const streamOf = (ids: string[], faults: Fault[] = []) => createStream({ campus, devices: ids.map(device), seed: 1, startMs: start, faults });
  const messagesOf = (items: StreamItem[]) => items.flatMap((i) => (i.kind === "report" ? i.messages.map((m) => ({ at: i.eventMs, topic: m.topic, body: parse(m.payload) })) : []));
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  const slow = (id: string, delayMs: number, at = 0, forMs = Infinity): Fault => ({ type: "command", device: id, atMs: at, forMs, rampMs: 0, value: delayMs, behaviour: "slow" });
  const mode = (id: string, behaviour: "ignore" | "refuse"): Fault => ({ type: "command", device: id, atMs: 0, forMs: Infinity, rampMs: 0, value: 0, behaviour });

  it("answers at once in each format's own words, after the reports due before it", () => {
    const ids = ["brk-d1-103", "plug-d1-101-a", "plug-d1-102-a", "brk-t1-201-light", "brk-l1-fridge"];
    const stream = streamOf(ids);
    stream.take(start + 50_000);
    for (const id of ids) expect(stream.receive(device(id), offFor(device(id)), T).outcome).toBe("obeyed");
    const answers = messagesOf(stream.take(T)).filter((m) => m.at === T);
    expect(answers.map((m) => m.topic)).toEqual([
      "campus/devices/brk-d1-103/events",
      "campus/devices/brk-d1-103/telemetry",
      "stat/tasmota_d1101a/RESULT",
      "stat/tasmota_d1101a/POWER",
      "shellies/shellyplug-s-d1102a/relay/0",
      "shellies/shellyplug-s-d1102a/relay/0/power",
      "campus-power/brk-t1-201-light/rpc",
      "shellypro1pm-t1201/events/rpc",
      "zigbee2mqtt/lab_fridge_breaker",
    ]);
    const body = (topic: string) => answers.find((m) => m.topic === topic)!.body;
    expect(body("campus/devices/brk-d1-103/events")).toEqual({ ts: new Date(T).toISOString(), type: "switch", reason: "remote", detail: "cmd-9" });
    expect(body("campus/devices/brk-d1-103/telemetry")).toMatchObject({ ts: new Date(T).toISOString(), switch_on: false, power_w: 0 });
    expect(body("stat/tasmota_d1101a/RESULT")).toEqual({ POWER: "OFF" });
    expect(body("stat/tasmota_d1101a/POWER")).toBe("OFF");
    expect(body("shellies/shellyplug-s-d1102a/relay/0")).toBe("off");
    expect(body("campus-power/brk-t1-201-light/rpc")).toEqual({ id: 9, src: "shellypro1pm-t1201", dst: "campus-power/brk-t1-201-light", result: { was_on: true } });
    expect(body("shellypro1pm-t1201/events/rpc")).toMatchObject({ method: "NotifyStatus", params: { "switch:0": { id: 0, output: false, source: "MQTT", apower: 0 } } });
    expect(body("zigbee2mqtt/lab_fridge_breaker")).toMatchObject({ state: "OFF", power: 0 });
    // The next periodic reports carry the open relay: Tasmota's STATE among them.
    const later = messagesOf(stream.take(T + 20_000));
    expect(later.find((m) => m.topic === "tele/tasmota_d1101a/STATE")?.body).toMatchObject({ POWER: "OFF" });
    expect(later.find((m) => m.topic === "campus/devices/brk-d1-103/telemetry")?.body).toMatchObject({ switch_on: false, power_w: 0 });
  });

  it("a slow device acts and answers the delay later in event time, and reports its old state meanwhile", () => {
    const stream = streamOf(["brk-d1-103"], [slow("brk-d1-103", 20_000)]);
    stream.take(T);
    expect(stream.receive(device("brk-d1-103"), offFor(device("brk-d1-103")), T).outcome).toBe("delayed");
    const meanwhile = messagesOf(stream.take(T + 19_999));
    expect(meanwhile.map((m) => m.topic)).not.toContain("campus/devices/brk-d1-103/events");
    for (const m of meanwhile) expect(m.body).toMatchObject({ switch_on: true });
    const answer = messagesOf(stream.take(T + 20_000)).filter((m) => m.at === T + 20_000);
    expect(answer[0]).toMatchObject({ topic: "campus/devices/brk-d1-103/events", body: { detail: "cmd-9" } });
    expect(answer[1]?.body).toMatchObject({ switch_on: false });
  });

  it("a slow window ends: a command after it is carried out at once", () => {
    const stream = streamOf(["brk-d1-103"], [slow("brk-d1-103", 20_000, 0, 60_000)]);
    stream.take(T);
    expect(stream.receive(device("brk-d1-103"), offFor(device("brk-d1-103")), T).outcome).toBe("obeyed");
  });

  it("an ignoring device says nothing and keeps drawing", () => {
    const ids = ["brk-d1-103", "plug-d1-101-a", "brk-t1-201-light"];
    const stream = streamOf(ids, ids.map((id) => mode(id, "ignore")));
    stream.take(T);
    for (const id of ids) expect(stream.receive(device(id), offFor(device(id)), T).outcome).toBe("ignored");
    const after = messagesOf(stream.take(T + 30_000));
    const answers = after.filter((m) => m.topic.endsWith("/events") || m.topic.startsWith("stat/") || m.topic.startsWith("campus-power/"));
    expect(answers).toEqual([]);
    // Gen2's periodic NotifyStatus goes on, never with a changed output.
    const notified = after.filter((m) => m.topic === "shellypro1pm-t1201/events/rpc").map((m) => (m.body as { params: Record<string, object> }).params["switch:0"]);
    expect(notified.length).toBeGreaterThan(0);
    for (const change of notified) expect(change).not.toHaveProperty("output");
    expect(after.find((m) => m.topic === "campus/devices/brk-d1-103/telemetry")?.body).toMatchObject({ switch_on: true });
    expect(after.find((m) => m.topic === "tele/tasmota_d1101a/STATE")?.body).toMatchObject({ POWER: "ON" });
  });

  it("a refusing device refuses in its format where it can (native fault event, Tasmota's kept state, Gen2 RPC error) and keeps its state", () => {
    const ids = ["brk-d1-103", "plug-d1-101-a", "plug-d1-102-a", "brk-t1-201-light", "brk-l1-fridge"];
    const stream = streamOf(ids, ids.map((id) => mode(id, "refuse")));
    stream.take(T);
    for (const id of ids) expect(stream.receive(device(id), offFor(device(id)), T).outcome).toBe("refused");
    const answers = messagesOf(stream.take(T)).filter((m) => m.at === T);
    expect(answers.map((m) => [m.topic, m.body])).toEqual([
      ["campus/devices/brk-d1-103/events", { ts: new Date(T).toISOString(), type: "fault", reason: "command refused", detail: "cmd-9: set to refuse commands" }],
      ["stat/tasmota_d1101a/RESULT", { POWER: "ON" }],
      ["stat/tasmota_d1101a/POWER", "ON"],
      ["campus-power/brk-t1-201-light/rpc", { id: 9, src: "shellypro1pm-t1201", dst: "campus-power/brk-t1-201-light", error: { code: -103, message: "set to refuse commands" } }],
    ]);
    const later = messagesOf(stream.take(T + 30_000));
    expect(later.find((m) => m.topic === "shellies/shellyplug-s-d1102a/relay/0")?.body).toBe("on");
    expect(later.find((m) => m.topic === "zigbee2mqtt/lab_fridge_breaker")?.body).toMatchObject({ state: "ON" });
  });

  it("a native device ignores a command past its expiry", () => {
    const stream = streamOf(["brk-d1-103"]);
    stream.take(T);
    expect(stream.receive(device("brk-d1-103"), offFor(device("brk-d1-103")), T + 30_001).outcome).toBe("expired");
    expect(messagesOf(stream.take(T + 40_000)).every((m) => (m.body as { switch_on?: boolean }).switch_on === true)).toBe(true);
  });
});
