// A filter the ACL refused must never deliver, not even later: aedes stores a persistent session's SUBSCRIBE
// with every filter of the packet, the refused ones included, queues what they match while the client is away
// and delivers that queue at its next CONNECT. The broker's authorizeForward checks every delivery against the
// ACL (found in review of issue 15's cluster, where the session lives in Redis on every node).
import { describe, expect, it } from "vitest";
import { deviceTopic } from "../../domain/topics.js";
import { connect, GROUP_KEY, inbox, service, useTestBroker, waitForClose } from "../helpers/broker.js";
import { devicePassword } from "../../domain/credentials.js";
import { waitFor } from "../helpers/wait.js";

useTestBroker();

describe("deliveries are checked against the ACL", () => {
  it("never delivers to a device's persistent session what a refused filter of its SUBSCRIBE matches", async () => {
    const id = "brk-d1-101";
    const login = { username: id, password: devicePassword(id, GROUP_KEY), clientId: id, clean: false };
    const first = await connect(login);
    // mqtt.js reports a refused filter as an error, with the SUBACK's codes beside it.
    const suback = await new Promise<unknown>((resolve) => first.subscribe([deviceTopic.commands(id), "campus/internal/#"], { qos: 1 }, (error) => resolve((error as { packet?: { granted?: number[] } } | null)?.packet?.granted)));
    expect(suback).toEqual([1, 128]);
    const gone = waitForClose(first);
    await first.endAsync();
    await gone;
    const admin = await service();
    await admin.publishAsync("campus/internal/status/brk-d1-102", JSON.stringify({ device: "brk-d1-102", ts: 1, online: true }), { qos: 1 });
    // The marker: a command for the device, which its session may receive; it arrives after the internal message would.
    await admin.publishAsync(deviceTopic.commands(id), JSON.stringify({ id: "marker" }), { qos: 1 });
    const again = await connect(login);
    const received = inbox(again);
    await waitFor(() => received.some((m) => m.topic === deviceTopic.commands(id)), 10_000, { what: "the command (the marker)" });
    expect(received.map((m) => m.topic)).toEqual([deviceTopic.commands(id)]);
  });
});
