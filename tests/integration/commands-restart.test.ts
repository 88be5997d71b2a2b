// A command in flight when the alerts service restarts ends in a final state after the restart, never
// stays `sent` (CONTRACT §10, issue 11 "Audit"); and a request the service could not answer is never
// acted on later. Real stack (./commands-stack.ts); the alerts service is stopped and started again on
// the same data directory and MQTT session.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../../domain/command.js";
import { waitFor } from "../helpers/wait.js";
import { CommandStack, type NativeDevice, TOKENS } from "./commands-stack.js";

const TIMEOUT_MS = 6_000;
const stack = new CommandStack({ selectTimeoutMs: 30_000, commandTimeoutMs: TIMEOUT_MS, ackTimeoutMs: 1_000 });
let silent: NativeDevice;
let manual: NativeDevice;

beforeAll(async () => {
  await stack.start();
  silent = await stack.device("brk-102", false);
  manual = await stack.device("brk-103", false);
  await waitFor(() => stack.api.state.device("brk-103").online, 5_000, { what: "brk-103 online" });
});
afterAll(async () => stack.stop());

async function sent(device: string): Promise<Command> {
  const selected = await stack.http("POST", "/api/commands", TOKENS.alice, { device, action: "switch_off", reason: "restart drill" });
  const operated = await stack.http("POST", `/api/commands/${selected.json.id}/operate`, TOKENS.alice);
  expect(operated.json.state).toBe("sent");
  return operated.json as Command;
}

const stateOf = async (id: string) => (await stack.command(id)).state;

describe("a restart of the alerts service", () => {
  it("ends a command whose time ran out while the service was down as `timeout`, saying the service restarted", async () => {
    const command = await sent("brk-102");
    await waitFor(() => silent.received.length === 1, 5_000, { what: "the command at the device" });
    await stack.stopAlerts();
    expect(await stateOf(command.id)).toBe("sent");
    // Down for longer than COMMAND_TIMEOUT_S after sent_at.
    await waitFor(() => Date.now() > Date.parse(command.sent_at!) + TIMEOUT_MS + 200, TIMEOUT_MS + 2_000, { intervalMs: 100 });
    await stack.startAlerts();
    const ended = await waitFor(async () => ((await stateOf(command.id)) === "timeout" ? stack.command(command.id) : null), 5_000, { what: "the timeout after the restart" });
    expect(ended!.detail).toBe(`brk-102 did not report the commanded state within ${TIMEOUT_MS / 1000} s; the alerts service was restarting meanwhile`);
  });

  it("confirms a command from the device's answer sent while the service was down (its persistent session kept it)", async () => {
    const command = await sent("brk-103");
    await waitFor(() => manual.received.length === 1, 5_000, { what: "the command at the device" });
    await stack.stopAlerts();
    await manual.event({ type: "switch", reason: "remote", detail: command.id });
    await stack.startAlerts();
    const ended = await waitFor(async () => ((await stateOf(command.id)) === "confirmed" ? stack.command(command.id) : null), TIMEOUT_MS, { what: "the confirmation after the restart" });
    expect(ended!.detail).toBe("brk-103 answered the command without an error");
  });

  it("answers 503 while the service is down, and never acts on that request once it is back", async () => {
    const receivedBefore = manual.received.length;
    await stack.stopAlerts();
    const unanswered = await stack.http("POST", "/api/commands", TOKENS.alice, { device: "brk-103", action: "switch_on", reason: "nobody answers" });
    expect([unanswered.status, unanswered.json.error.code]).toEqual([503, "ALERTS_UNAVAILABLE"]);
    await stack.startAlerts();
    // Were the request selected after the restart, this would be BUSY.
    const fresh = await stack.http("POST", "/api/commands", TOKENS.bob, { device: "brk-103", action: "switch_on", reason: "after the restart" });
    expect([fresh.status, fresh.json.state]).toEqual([201, "selected"]);
    const listed = (await stack.http("GET", "/api/commands?device=brk-103", TOKENS.viewer)).json as Command[];
    expect(listed.filter((c) => c.reason === "nobody answers")).toEqual([]);
    expect(manual.received).toHaveLength(receivedBefore);
  });
});
