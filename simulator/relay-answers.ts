// What a simulated device says after a command, the way a real device of its format does (CONTRACT §10
// and the confirmation table of issue 11): native — a `switch` event naming the command and a reading
// with `switch_on`, or a `fault` event "command refused"; Tasmota — `stat/…/RESULT` and `stat/…/POWER`
// with the relay's state (also when it kept it); Shelly Gen1 — `relay/0` (and its power) on change;
// Shelly Gen2 — the RPC reply on `<src>/rpc` with the request's id, then a NotifyStatus when the output
// changed; Zigbee2MQTT — its whole state. Gen1 and Zigbee2MQTT have no way to refuse: they say nothing.
// Pure: built from the model's state at its current event time.
import type { Device } from "../domain/campus.js";
import { COMMAND_REFUSED } from "../domain/formats/native.js";
import { deviceTopic } from "../domain/topics.js";
import { shellyGen2Notify } from "./foreign-payloads.js";
import { type OutMessage, reportMessages, sourceOf } from "./messages.js";
import type { CampusModel } from "./model.js";
import { relayWord } from "./payloads.js";
import { RPC_REFUSED, type RelayRequest, type RpcAddress, type RpcError } from "./relay-commands.js";

export type Answer =
  /** The command was carried out (or only asked the state); `wasOn` is the relay before it. */
  | { kind: "switched"; request: RelayRequest; wasOn: boolean }
  | { kind: "refused"; request: RelayRequest; why: string }
  | { kind: "rejected"; error: RpcError };

/** The messages `device` publishes to answer, at the model's current time; `skewMs` is its clock's error. */
export function answerMessages(model: CampusModel, device: Device, answer: Answer, skewMs = 0): OutMessage[] {
  const state = model.byId.get(device.id);
  if (!state) throw new Error(`unknown simulated device "${device.id}"`);
  const on = state.relayOn;
  const source = sourceOf(device);
  const ts = new Date(model.nowMs + skewMs).toISOString();
  switch (device.format) {
    case "native": {
      const id = answer.kind === "rejected" ? "" : (answer.request.commandId ?? "");
      if (answer.kind === "refused") {
        return [{ topic: deviceTopic.events(device.id), payload: JSON.stringify({ ts, type: "fault", reason: COMMAND_REFUSED, detail: `${id}: ${answer.why}` }) }];
      }
      const event = { topic: deviceTopic.events(device.id), payload: JSON.stringify({ ts, type: "switch", reason: "remote", detail: id }) };
      return [event, ...reportMessages(model, device, skewMs)];
    }
    case "tasmota":
      // Tasmota answers every POWER command with the state it is in, whether it switched or not.
      return [
        { topic: `stat/${source}/RESULT`, payload: JSON.stringify({ POWER: relayWord(on) }) },
        { topic: `stat/${source}/POWER`, payload: relayWord(on) },
      ];
    case "shelly-gen1":
      if (answer.kind !== "switched" || answer.wasOn === on) return [];
      return reportMessages(model, device, skewMs).filter((m) => m.topic === `shellies/${source}/relay/0` || m.topic === `shellies/${source}/relay/0/power`);
    case "shelly-gen2":
      return gen2Answer(model, device, answer, on, skewMs);
    case "zigbee2mqtt":
      return answer.kind === "switched" ? reportMessages(model, device, skewMs) : [];
  }
}

function gen2Answer(model: CampusModel, device: Device, answer: Answer, on: boolean, skewMs: number): OutMessage[] {
  const source = sourceOf(device);
  const reply = (rpc: RpcAddress, body: object): OutMessage => ({ topic: `${rpc.src}/rpc`, payload: JSON.stringify({ id: rpc.id, src: source, dst: rpc.src, ...body }) });
  if (answer.kind === "rejected") return [reply(answer.error.rpc, { error: { code: answer.error.code, message: answer.error.message } })];
  const rpc = answer.request.rpc;
  if (rpc === undefined) return [];
  if (answer.kind === "refused") return [reply(rpc, { error: { code: RPC_REFUSED, message: answer.why } })];
  const replied = reply(rpc, { result: { was_on: answer.wasOn } });
  // A NotifyStatus follows only when the output changed; "MQTT": the channel the command came by.
  return answer.wasOn === on ? [replied] : [replied, shellyGen2Notify(model, device.id, source, skewMs, "MQTT")];
}
