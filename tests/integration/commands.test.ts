// Remote switching through the real stack (CONTRACT §10): HTTP → API → MQTT → alerts service → the real
// broker → a real native device (mqtt.js, its own credentials) → the real ingest → confirmation; the
// audit in the real influxd, GET /api/commands, and the live stream. Issue 11 "Bad input" at the end.
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../../domain/command.js";
import { rows } from "../../infra/influx.js";
import { waitFor } from "../helpers/wait.js";
import { CommandStack, type NativeDevice, TOKENS } from "./commands-stack.js";

const SELECT_MS = 3_000;
const TIMEOUT_MS = 2_000;
const stack = new CommandStack({ selectTimeoutMs: SELECT_MS, commandTimeoutMs: TIMEOUT_MS });
let obedient: NativeDevice;
let silent: NativeDevice;

beforeAll(async () => {
  await stack.start();
  obedient = await stack.device("brk-101", true);
  silent = await stack.device("brk-102", false);
  // brk-104 was online and went offline (its status, as the broker's last will would say).
  const offline = await stack.device("brk-104", false);
  await offline.client.publishAsync("campus/devices/brk-104/status", "offline", { qos: 1, retain: true });
  await waitFor(() => stack.api.state.device("brk-104").lastSeen !== null && !stack.api.state.device("brk-104").online, 5_000, { what: "brk-104 offline" });
  await waitFor(() => stack.api.state.device("brk-101").online, 5_000, { what: "brk-101 online" });
});
afterAll(async () => stack.stop());

const select = (device: string, action = "switch_off", token = TOKENS.alice, reason = "heater in the room") => stack.http("POST", "/api/commands", token, { device, action, reason });
const operate = (id: string, token = TOKENS.alice) => stack.http("POST", `/api/commands/${id}/operate`, token);
async function finalState(id: string, timeoutMs = 10_000): Promise<Command> {
  const ended = await waitFor(async () => {
    const command = await stack.command(id);
    return ["confirmed", "failed", "timeout", "expired", "cancelled"].includes(command.state) ? command : null;
  }, timeoutMs, { what: `command ${id} to end` });
  return ended!;
}
/** The device's own words: its answer naming the command, or its reading with the commanded `switch_on`, whichever the ingest passed on first. */
const confirmedBy = (device: string, on: boolean) => new RegExp(`^${device} (answered the command without an error|reported its relay ${on ? "on" : "off"})$`);

describe("select → operate → confirmed by the device", () => {
  it("selects without sending, operates, and is confirmed by the device's own report", async () => {
    const selected = await select("brk-101");
    expect(selected.status).toBe(201);
    const command = selected.json as Command;
    expect(command).toMatchObject({ device: "brk-101", site: "test-school", building: "dorm-1", action: "switch_off", reason: "heater in the room", state: "selected" });
    expect(command.issued_by).toMatch(/^operator:[0-9a-f]{8}$/);
    expect(Date.parse(command.expires_at) - Date.parse(command.selected_at)).toBe(SELECT_MS);
    expect(obedient.received).toEqual([]);

    const operated = await operate(command.id);
    expect(operated.status).toBe(202);
    expect(operated.json).toMatchObject({ id: command.id, state: "sent" });
    const ended = await finalState(command.id);
    expect(ended).toMatchObject({ state: "confirmed", detail: expect.stringMatching(confirmedBy("brk-101", false)) });
    expect(Date.parse(ended.confirmed_at!)).toBeGreaterThanOrEqual(Date.parse(ended.sent_at!));
    // The device got the command once, on its own topic, never retained (CONTRACT §10).
    expect(obedient.received).toEqual([{ payload: { id: command.id, action: "switch_off", issued_by: command.issued_by, expires_at: command.expires_at }, retained: false }]);
  });

  it("ends `timeout` when the device never answers, with the reason in detail", async () => {
    const selected = await select("brk-102");
    await operate(selected.json.id);
    const ended = await finalState(selected.json.id);
    expect(ended).toMatchObject({ state: "timeout", detail: `brk-102 did not report the commanded state within ${TIMEOUT_MS / 1000} s` });
    expect(silent.received).toHaveLength(1);
  });

  it("expires a selection nobody operated, and refuses its operate with 409 EXPIRED", async () => {
    const selected = await select("brk-101", "switch_on");
    const ended = await finalState(selected.json.id, SELECT_MS + 5_000);
    expect(ended.state).toBe("expired");
    const late = await operate(selected.json.id);
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe("EXPIRED");
  });
});

describe("the device's word in its own format (issue 11's confirmation table)", () => {
  it("fails a Tasmota command when the device answers with the state it kept", async () => {
    // A Tasmota answers every POWER command with its state on stat/<topic>/POWER; this one keeps its relay on.
    const received = await stack.foreignDevice("plug-105", "cmnd/tasmota_105/POWER", () => [["stat/tasmota_105/POWER", "ON"]]);
    const selected = await select("plug-105");
    await operate(selected.json.id);
    expect(await finalState(selected.json.id)).toMatchObject({ state: "failed", detail: "plug-105 answered that its relay stayed on" });
    expect(received).toEqual(["OFF"]);
  });

  it("confirms a Shelly Gen2 command by its RPC reply with the request's id", async () => {
    const received = await stack.foreignDevice("shelly-106", "shellyplus-106/rpc", (_topic, payload) => {
      const request = JSON.parse(payload) as { id: number; src: string };
      return [[`${request.src}/rpc`, JSON.stringify({ id: request.id, src: "shellyplus-106", dst: request.src, result: { was_on: false } })]];
    });
    const selected = await select("shelly-106", "switch_on");
    await operate(selected.json.id);
    expect(await finalState(selected.json.id)).toMatchObject({ state: "confirmed", detail: "shelly-106 answered the command without an error" });
    expect(JSON.parse(received[0]!)).toMatchObject({ src: "campus-power/shelly-106", method: "Switch.Set", params: { id: 0, on: true } });
  });
});

describe("refusals over HTTP (CONTRACT §10 and §6)", () => {
  it("answers 404 for an unknown device, 409 PROTECTED for a protected device and its feeder, 409 NOT_SWITCHABLE for a meter, 409 DEVICE_OFFLINE", async () => {
    const cases: [string, number, string, RegExp][] = [
      ["brk-nowhere", 404, "DEVICE_NOT_FOUND", /no device "brk-nowhere"/],
      ["brk-pump", 409, "PROTECTED", /brk-pump is protected/],
      ["brk-main", 409, "PROTECTED", /brk-main feeds protected brk-pump/],
      ["meter-1", 409, "NOT_SWITCHABLE", /no relay/],
      ["brk-104", 409, "DEVICE_OFFLINE", /brk-104 is offline/],
    ];
    for (const [device, status, code, message] of cases) {
      const answer = await select(device);
      expect({ device, status: answer.status, code: answer.json.error.code }).toEqual({ device, status, code });
      expect(answer.json.error.message).toMatch(message);
      // PROTECTED names the protected devices in the way, so a client can say it in its own language.
      if (code === "PROTECTED") expect(answer.json.error.devices).toEqual(["brk-pump"]);
    }
  });

  it("refuses viewers with 403, and another principal's operate or cancel with 409 NOT_SELECTOR; a second command with 409 BUSY", async () => {
    expect((await select("brk-103", "switch_off", TOKENS.viewer)).status).toBe(403);
    const selected = await select("brk-103");
    const busy = await select("brk-103", "switch_on", TOKENS.bob);
    expect([busy.status, busy.json.error.code]).toEqual([409, "BUSY"]);
    for (const answer of [await operate(selected.json.id, TOKENS.bob), await stack.http("DELETE", `/api/commands/${selected.json.id}`, TOKENS.bob)]) {
      expect([answer.status, answer.json.error.code]).toEqual([409, "NOT_SELECTOR"]);
    }
    expect((await operate(selected.json.id, TOKENS.viewer)).status).toBe(403);
    const cancelled = await stack.http("DELETE", `/api/commands/${selected.json.id}`, TOKENS.alice);
    expect([cancelled.status, cancelled.json.state]).toEqual([200, "cancelled"]);
    const again = await operate(selected.json.id);
    expect([again.status, again.json.error.code]).toEqual([409, "EXPIRED"]);
    expect((await operate("brk-103.switch_off.1.999")).json.error.code).toBe("COMMAND_NOT_FOUND");
    expect(stack.devices.get("brk-103")).toBeUndefined(); // nothing could have been sent: it is not even connected
  });

  it("answers 400 to a missing or blank reason, an unknown action and a body of the wrong type", async () => {
    const bodies: unknown[] = [
      { device: "brk-101", action: "switch_off" },
      { device: "brk-101", action: "switch_off", reason: "" },
      { device: "brk-101", action: "switch_off", reason: "   " },
      { device: "brk-101", action: "explode", reason: "why not" },
      { device: { id: "brk-101" }, action: "switch_off", reason: "an object for an id" },
      { device: "brk-101", action: "switch_off", reason: { text: "an object for a reason" } },
      ["brk-101", "switch_off"],
      42,
      "not json at all",
    ];
    for (const body of bodies) {
      const answer = await stack.http("POST", "/api/commands", TOKENS.alice, body);
      expect({ body, status: answer.status, code: answer.json.error.code }).toEqual({ body, status: 400, code: "VALIDATION_FAILED" });
    }
    const none = await (await fetch(`${stack.api.url}/api/commands?device=brk-101&state=selected`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).json();
    expect(none).toEqual([]);
  });
});

describe("audit", () => {
  it("writes every change to the `command` measurement with the contract's tags and fields", async () => {
    const selected = await select("brk-101", "switch_on", TOKENS.bob, "room back in use");
    await operate(selected.json.id, TOKENS.bob);
    await finalState(selected.json.id);
    const points = (await waitFor(async () => {
      const found = rows(await stack.influx.query(`SELECT * FROM "command" WHERE "command_id" = '${selected.json.id}'`));
      return found.length === 3 ? found : null;
    }, 10_000, { what: "three command points" }))!;
    expect(points.map((p) => p.state)).toEqual(["selected", "sent", "confirmed"]);
    for (const point of points) {
      expect(point).toMatchObject({ device: "brk-101", building: "dorm-1", site: "test-school", action: "switch_on", command_id: selected.json.id, issued_by: selected.json.issued_by, reason: "room back in use" });
    }
    expect(points[2]!.detail).toMatch(confirmedBy("brk-101", true));
  });

  it("lists commands newest first with filters, and pages through them with a cursor", async () => {
    const all = (await stack.http("GET", "/api/commands", TOKENS.viewer)).json as Command[];
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(all.map((c) => c.selected_at)).toEqual([...all.map((c) => c.selected_at)].sort().reverse());
    const confirmed = (await stack.http("GET", "/api/commands?device=brk-101&state=confirmed", TOKENS.viewer)).json as Command[];
    expect(confirmed.length).toBe(2);
    expect(confirmed.every((c) => c.device === "brk-101" && c.state === "confirmed")).toBe(true);
    expect((await stack.http("GET", "/api/commands?site=another-school", TOKENS.viewer)).json).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { items: Command[]; next: string | null } } = await stack.http("GET", `/api/commands?limit=2${cursor ? `&cursor=${cursor}` : ""}`, TOKENS.viewer);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items.map((c) => c.id));
      cursor = page.json.next;
    } while (cursor !== null);
    expect(seen).toEqual(all.map((c) => c.id));
    expect((await stack.http("GET", "/api/commands?cursor=garbage", TOKENS.viewer)).status).toBe(400);
    expect((await stack.http("GET", "/api/commands/no.such.command", TOKENS.viewer)).status).toBe(404);
  });

  it("sends every change on the live stream, filtered by the client's subscription", async () => {
    const { socket, frames } = await stack.live();
    try {
      await waitFor(() => frames.some((f) => f.type === "snapshot"), 5_000, { what: "snapshot" });
      socket.send(JSON.stringify({ type: "subscribe", devices: ["brk-101"] }));
      await waitFor(() => frames.filter((f) => f.type === "snapshot").length === 2, 5_000, { what: "second snapshot" });
      const other = await select("brk-102"); // not subscribed: must not arrive
      await stack.http("DELETE", `/api/commands/${other.json.id}`, TOKENS.alice);
      const mine = await select("brk-101");
      await operate(mine.json.id);
      const messages = (await waitFor(() => {
        const found = frames.filter((f) => f.type === "command" && f.command.id === mine.json.id);
        return found.some((f) => f.command.state === "confirmed") ? found : null;
      }, 10_000, { what: "the confirmed command on the live stream" }))!;
      expect(messages.map((f) => f.command.state)).toEqual(["selected", "sent", "confirmed"]);
      expect(messages.every((f, i) => i === 0 || f.seq > messages[i - 1]!.seq)).toBe(true);
      // The marker is brk-101's command, announced after brk-102's: nothing of brk-102 came before it.
      expect(frames.filter((f) => f.type === "command" && f.command.device === "brk-102")).toEqual([]);
    } finally {
      socket.close();
    }
    expect(socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED).toBe(true);
  });
});

describe("the OpenAPI document", () => {
  it("documents every command route with the command object's schema", async () => {
    const docs = (await stack.http("GET", "/api/docs/json", TOKENS.viewer)).json;
    expect(Object.keys(docs.paths).filter((path: string) => path.startsWith("/api/commands")).sort()).toEqual(["/api/commands", "/api/commands/{id}", "/api/commands/{id}/operate"]);
    const select = docs.paths["/api/commands"].post;
    expect(Object.keys(select.responses).sort()).toEqual(["201", "400", "401", "403", "404", "409", "503"]);
    expect(select.requestBody.content["application/json"].schema.required).toEqual(["device", "action", "reason"]);
    const command = docs.paths["/api/commands/{id}"].get.responses["200"].content["application/json"].schema;
    expect(command.required).toEqual(expect.arrayContaining(["id", "device", "site", "action", "reason", "issued_by", "state", "selected_at", "expires_at"]));
  });
});

describe("bad input (issue 11)", () => {
  it("counts a confirmation for a command that does not exist, a relay report of garbage and an unknown Shelly RPC id, and harms no command", async () => {
    const unknownBefore = await stack.metric("campus_power_command_reports_ignored_total", { reason: "unknown-command" });
    const invalidBefore = await stack.metric("campus_power_command_messages_invalid_total", { kind: "relay" });
    await obedient.event({ type: "switch", reason: "remote", detail: "brk-101.switch_off.1700000000000.42" });
    await obedient.client.publishAsync("campus/devices/brk-101/events", "{garbage", { qos: 1 }); // the ingest refuses it
    await stack.watcher.publishAsync("campus/internal/relay/brk-101", JSON.stringify({ device: "brk-101", on: "maybe" }), { qos: 1 });
    await waitFor(async () => (await stack.metric("campus_power_command_reports_ignored_total", { reason: "unknown-command" })) === unknownBefore + 1, 5_000, { what: "the unknown command counted" });
    await waitFor(async () => (await stack.metric("campus_power_command_messages_invalid_total", { kind: "relay" })) === invalidBefore + 1, 5_000, { what: "the garbage relay report counted" });

    // A command in flight is not touched by any of it, nor by a reply naming an RPC id nobody sent.
    const selected = await select("brk-102", "switch_on");
    await operate(selected.json.id);
    await stack.watcher.publishAsync("campus/internal/relay/brk-102", JSON.stringify({ device: "brk-102", ts: Date.now(), on: true, explicit: true, rpc_id: 987654 }), { qos: 1 });
    await waitFor(async () => (await stack.metric("campus_power_command_reports_ignored_total", { reason: "unknown-rpc-id" })) === 1, 5_000, { what: "the unknown RPC id counted" });
    expect((await stack.command(selected.json.id)).state).toBe("sent");
    expect((await finalState(selected.json.id)).state).toBe("timeout");

    // And the next command still goes through.
    const next = await select("brk-101");
    await operate(next.json.id);
    expect((await finalState(next.json.id)).state).toBe("confirmed");
  });
});
