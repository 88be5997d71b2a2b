// CONTRACT §9 "acknowledgements and commands record the person's name", through the real stack of the
// command tests (commands-stack.ts: broker, ingest, alerts service, API over HTTP, devices as real mqtt.js
// clients): a person made with the accounts code's own addAccount signs in with POST /api/login, and the
// alerts service, not the API, writes the name into the alert and the command.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../cli/user.js";
import type { Alert } from "../../domain/alert.js";
import type { Command } from "../../domain/command.js";
import { rows } from "../../infra/influx.js";
import { waitFor } from "../helpers/wait.js";
import { CommandStack, type NativeDevice, TOKENS } from "./commands-stack.js";

const PASSWORD = "correct horse battery staple";
const stack = new CommandStack({ selectTimeoutMs: 5_000, commandTimeoutMs: 5_000 });
let obedient: NativeDevice;
let tripping: NativeDevice;

/** A session of wang.li (each sign-in is another session: a laptop, a phone). */
async function signIn(): Promise<string> {
  const response = await fetch(`${stack.api.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "wang.li", password: PASSWORD }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

beforeAll(async () => {
  // USERS_FILE defaults to DATA_DIR/users.json; the API creates its SessionStore over it at start.
  await addAccount(join(stack.dataDir, "users.json"), "wang.li", "operator", null, PASSWORD);
  await stack.start();
  obedient = await stack.device("brk-101", true);
  tripping = await stack.device("brk-103", false);
  await waitFor(() => stack.api.state.device("brk-101").online, 5_000, { what: "brk-101 online" });
}, 60_000);
afterAll(async () => stack.stop());

describe("a person signed in with a name and password", () => {
  it("acknowledges an alert, and the alerts service records the person's name on it", async () => {
    const token = await signIn();
    await tripping.event({ type: "trip", reason: "overload" });
    const openTrip = async () => ((await stack.http("GET", "/api/alerts?state=open", token)).json as Alert[]).find((a) => a.device === "brk-103" && a.rule === "device-trip");
    const alert = await waitFor(openTrip, 10_000, { what: "the device-trip alert" });
    const acked = await stack.http("POST", `/api/alerts/${alert!.id}/ack`, token, { note: "reset the breaker" });
    expect(acked.status).toBe(200);
    expect(acked.json).toMatchObject({ id: alert!.id, state: "acknowledged", acknowledged_by: "wang.li", ack_note: "reset the breaker" });
    // The alerts service's own record, as every client sees it afterwards.
    const listed = await waitFor(async () => ((await stack.http("GET", "/api/alerts?state=all", TOKENS.viewer)).json as Alert[]).find((a) => a.id === alert!.id && a.acknowledged_by), 5_000, { what: "the acknowledged alert" });
    expect(listed!.acknowledged_by).toBe("wang.li");
  });

  it("selects and operates a command as the person (from any of their sessions), which another principal may not operate", async () => {
    const laptop = await signIn();
    const phone = await signIn();
    const selected = await stack.http("POST", "/api/commands", laptop, { device: "brk-101", action: "switch_off", reason: "heater in the room" });
    expect(selected.status).toBe(201);
    const command = selected.json as Command;
    expect(command.issued_by).toBe("wang.li");
    const byAnother = await stack.http("POST", `/api/commands/${command.id}/operate`, TOKENS.alice);
    expect([byAnother.status, byAnother.json.error.code]).toEqual([409, "NOT_SELECTOR"]);
    expect((await stack.http("POST", `/api/commands/${command.id}/operate`, phone)).status).toBe(202);
    const ended = await waitFor(async () => {
      const now = await stack.command(command.id);
      return now.state === "confirmed" ? now : null;
    }, 10_000, { what: "the confirmation" });
    expect(ended!.issued_by).toBe("wang.li");
    expect(obedient.received.map((r) => r.payload.issued_by)).toEqual(["wang.li"]);
    const audit = await waitFor(async () => {
      const found = rows(await stack.influx.query(`SELECT issued_by FROM command WHERE command_id = '${command.id}'`));
      return found.length > 0 ? found : null;
    }, 5_000, { what: "the audit" });
    expect(new Set(audit!.map((row) => row.issued_by))).toEqual(new Set(["wang.li"]));
  });
});
