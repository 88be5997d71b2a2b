// The live stream under CONTRACT §9, with real `ws` clients over TCP: a principal scoped to the north school
// gets a snapshot of its school only and never a message about another (readings, statuses, alerts, events,
// commands). The negative check waits for a north marker sent after the south messages, never a fixed sleep;
// the district's principal, connected at the same time, does get the south messages, so they were sent.
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { LiveState } from "../../api/live-state.js";
import { ALERTS, as, COMMANDS, type DistrictApp, districtApp, NOW, PEOPLE, TOKENS } from "./api-district.js";
import { waitFor } from "../helpers/wait.js";

type Frame = Record<string, any>;

let district: DistrictApp;
let app: FastifyInstance;
let state: LiveState;
let port: number;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  // Every reading goes out at once (no per-device coalescing), so a marker follows what came before it.
  district = await districtApp({ coalesceMs: 0 });
  ({ app, state } = district);
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await app?.close();
});

async function connect(token: string, resume = ""): Promise<{ socket: WebSocket; frames: Frame[] }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/live?token=${token}${resume}`);
  sockets.push(socket);
  const frames: Frame[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(data.toString())));
  await waitFor(() => frames.length >= 1, 5_000, { what: "the snapshot" });
  return { socket, frames };
}

let marker = 0;
/** A north reading after everything before it; resolves when `frames` has it. */
async function markerReached(frames: Frame[]): Promise<void> {
  const value = 10_000 + ++marker;
  state.applyReading({ device: "north-feeder", ts: NOW + marker, values: { power_w: value } });
  await waitFor(() => frames.some((f) => f.type === "reading" && f.values.power_w === value), 5_000, { what: `marker ${value}` });
}

const mentionsSouth = (frames: Frame[]) => frames.filter((f) => JSON.stringify(f).toLowerCase().includes("south"));

/** One message of every kind about the south school. */
function southMessages(): void {
  state.applyReading({ device: "south-meter", ts: NOW + 1, values: { power_w: 4321 } });
  state.applyStatus({ device: "south-brk-1", ts: NOW + 1, online: false });
  state.applyAlert("south-meter", "overload", { ...ALERTS.south, id: "south-meter.overload.2", device: "south-meter", rule: "overload" }, NOW);
  state.applyEvent({ device: "south-brk-1", ts: NOW + 1, type: "trip" });
  state.applyCommand(JSON.stringify({ ...COMMANDS.south, id: "south-brk-1.switch_on.2.2", action: "switch_on", state: "sent" }));
}

describe("the live stream of a principal scoped to one school", () => {
  it("starts with a snapshot of its school only", async () => {
    const north = await connect(TOKENS.northViewer);
    const snapshot = north.frames[0]!;
    expect(snapshot.type).toBe("snapshot");
    expect(snapshot.devices.map((d: Frame) => [d.id, d.site])).toEqual([["north-feeder", "north-middle"], ["north-brk-101", "north-middle"], ["north-class-main", "north-middle"]]);
    expect(snapshot.alerts.map((a: Frame) => [a.id, a.site])).toEqual([[ALERTS.north.id, "north-middle"]]);
  });

  it("never gets a message about another school, while the district's principal does", async () => {
    const north = await connect(TOKENS.northViewer);
    const admin = await connect(TOKENS.admin);
    southMessages();
    await markerReached(north.frames);
    await markerReached(admin.frames);
    expect(mentionsSouth(north.frames)).toEqual([]);
    expect(mentionsSouth(admin.frames).map((f) => [f.type, f.site])).toEqual([
      ["snapshot", undefined],
      ["reading", "south-primary"],
      ["status", "south-primary"],
      ["alert", "south-primary"],
      ["event", "south-primary"],
      ["command", "south-primary"],
    ]);
  });

  it("says the site of every message about a device", async () => {
    const north = await connect(TOKENS.northViewer);
    state.applyStatus({ device: "north-class-main", ts: NOW + 2, online: false });
    state.applyAlert("north-feeder", "leakage", { ...ALERTS.north, id: "north-feeder.leakage.3", device: "north-feeder", rule: "leakage" }, NOW);
    state.applyEvent({ device: "north-brk-101", ts: NOW + 2, type: "trip" });
    state.applyCommand(JSON.stringify({ ...COMMANDS.north, id: "north-brk-101.switch_on.3.3", state: "selected" }));
    await markerReached(north.frames);
    const messages = north.frames.slice(1);
    expect(messages.map((f) => f.type)).toEqual(["status", "alert", "event", "command", "reading"]);
    expect(new Set(messages.map((f) => f.site))).toEqual(new Set(["north-middle"]));
    expect(messages.find((f) => f.type === "alert")!.alert.site).toBe("north-middle");
  });

  it("answers a subscription to another school's ids as one to unknown ids", async () => {
    const north = await connect(TOKENS.northViewer);
    const snapshotAfter = async (subscribe: Frame) => {
      const before = north.frames.length;
      north.socket.send(JSON.stringify({ type: "subscribe", ...subscribe }));
      await waitFor(() => north.frames.slice(before).some((f) => f.type === "snapshot"), 5_000, { what: "the new snapshot" });
      const { devices, alerts } = north.frames.slice(before).find((f) => f.type === "snapshot")!;
      return { devices, alerts };
    };
    expect(await snapshotAfter({ devices: ["south-meter"], buildings: ["south-class"] })).toEqual(await snapshotAfter({ devices: ["nowhere-meter"], buildings: ["nowhere-hall"] }));
    const both = await snapshotAfter({ devices: ["south-meter", "north-feeder"] });
    expect(both.devices.map((d: Frame) => d.id)).toEqual(["north-feeder"]);
    expect(mentionsSouth(both.alerts)).toEqual([]);
    southMessages();
    await markerReached(north.frames);
    expect(mentionsSouth(north.frames)).toEqual([]);
  });

  it("closes an open stream once its session ends (4401) or its sites change (4409); the reconnection sees the new scope", async () => {
    const movedToken = await district.login(PEOPLE.northOperator);
    const moved = await connect(movedToken);
    const southToken = await district.login(PEOPLE.southViewer);
    const loggedOut = await connect(southToken);
    const closes: number[] = [0, 0];
    moved.socket.once("close", (code) => (closes[0] = code));
    loggedOut.socket.once("close", (code) => (closes[1] = code));
    await district.setSites(PEOPLE.northOperator, ["south-primary"]);
    expect((await app.inject({ method: "POST", url: "/api/logout", headers: as(southToken) })).statusCode).toBe(204);
    await waitFor(() => closes.every((code) => code !== 0), 10_000, { what: "both streams closed" });
    expect(closes).toEqual([4409, 4401]);
    const again = await connect(movedToken);
    expect(again.frames[0]!.devices.map((d: Frame) => d.site)).toEqual(["south-primary", "south-primary"]);
  });

  it("serves a named account's session, and gives a fresh snapshot, not a resume, once its sites changed", async () => {
    const token = await district.login(PEOPLE.northViewer);
    const first = await connect(token);
    expect(first.frames[0]!.devices.every((d: Frame) => d.site === "north-middle")).toBe(true);
    const { session } = first.frames[0]!;
    const lastSeq = first.frames.at(-1)!.seq;
    first.socket.close();
    await waitFor(() => first.socket.readyState === WebSocket.CLOSED, 5_000, { what: "the close" });
    southMessages();
    // An admin moves the person to the south school in the users file; the store sees it within a second.
    await district.setSites(PEOPLE.northViewer, ["south-primary"]);
    const sitesNow = async () => (await app.inject({ url: "/api/me", headers: as(token) })).json().sites;
    await waitFor(async () => (await sitesNow())[0] === "south-primary", 5_000, { what: "the users file re-read" });
    const second = await connect(token, `&session=${session}&last_seq=${lastSeq}`);
    expect(second.frames[0]).toMatchObject({ type: "snapshot", seq: 1 });
    expect(second.frames[0]!.session).not.toBe(session);
    expect(second.frames[0]!.devices.map((d: Frame) => d.site)).toEqual(["south-primary", "south-primary"]);
  });
});
