// Per-school notification routes (CONTRACT §9), pure: a school's alerts go to its own route(s), every other
// alert to the global webhook, escalations to the escalation target; a route's secret comes from the
// variable it names, and one not set refuses the start, naming the variable and never a secret.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { due, emptyNotifyState, noteChange } from "../../../alerts/notify/planner.js";
import { targetsOf, webhookTargets, webhookTimings } from "../../../alerts/notify/routes.js";
import { createSender } from "../../../alerts/notify/sender.js";
import { webhookChannel } from "../../../alerts/notify/webhook.js";
import type { Alert } from "../../../domain/alert.js";
import { readEnv } from "../../../domain/env.js";
import { CampusError } from "../../../domain/errors.js";

const routes = [
  { site: "east", url: "https://east.example/hook", secret_env: "EAST_HOOK_SECRET" },
  { site: "west", url: "https://west.example/hook", secret_env: "WEST_HOOK_SECRET" },
  { site: "east", url: "https://east.example/duty", secret_env: "EAST_DUTY_SECRET" },
];
const secrets = { EAST_HOOK_SECRET: "east-secret", WEST_HOOK_SECRET: "west-secret", EAST_DUTY_SECRET: "duty-secret" };
const global = readEnv({ ALERT_WEBHOOK_URL: "https://bureau.example/hook", ALERT_WEBHOOK_SECRET: "bureau-secret", ALERT_WEBHOOK_ESCALATION_URL: "https://bureau.example/escalation" }).alertWebhook;

describe("notification targets", () => {
  it("gives each route its own target with the secret its variable holds, beside the global and escalation ones", () => {
    const targets = webhookTargets(global, routes, secrets);
    expect(targets.byKey).toEqual({
      primary: { url: "https://bureau.example/hook", secret: "bureau-secret" },
      secondary: { url: "https://bureau.example/escalation", secret: "bureau-secret" },
      "site:east": { url: "https://east.example/hook", secret: "east-secret" },
      "site:west": { url: "https://west.example/hook", secret: "west-secret" },
      "site:east#2": { url: "https://east.example/duty", secret: "duty-secret" },
    });
  });

  it("refuses routes whose secret variable is unset or empty, naming each variable and no secret", () => {
    let error: unknown;
    try {
      webhookTargets(null, routes, { EAST_HOOK_SECRET: "east-secret", EAST_DUTY_SECRET: "" });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(CampusError);
    const { problems, message } = error as CampusError;
    expect(problems).toEqual([
      { path: "WEST_HOOK_SECRET", message: "is not set: notify[1] (site west) signs its webhook messages with it" },
      { path: "EAST_DUTY_SECRET", message: "is not set: notify[2] (site east) signs its webhook messages with it" },
    ]);
    expect(JSON.stringify({ message, problems })).not.toContain("east-secret");
  });

  it("sends a school's messages to its routes, the others' to the global webhook, escalations to the escalation target", () => {
    const targets = webhookTargets(global, routes, secrets);
    expect(targetsOf({ target: "primary", site: "east" }, targets)).toEqual(["site:east", "site:east#2"]);
    expect(targetsOf({ target: "primary", site: "west" }, targets)).toEqual(["site:west"]);
    expect(targetsOf({ target: "primary", site: "north" }, targets)).toEqual(["primary"]);
    expect(targetsOf({ target: "secondary", site: "east" }, targets)).toEqual(["secondary"]);
  });

  it("has nowhere to send another school's messages without a global webhook, and no escalation", () => {
    const targets = webhookTargets(null, routes, secrets);
    expect(targetsOf({ target: "primary", site: "north" }, targets)).toEqual([]);
    expect(targetsOf({ target: "secondary", site: "east" }, targets)).toEqual([]);
    // The timings are then the ALERT_WEBHOOK_* defaults (docs/alerts.md).
    expect(webhookTimings(null)).toMatchObject({ groupWindowMs: 3_000, retryMs: 1_000, timeoutMs: 5_000, expireMs: 86_400_000 });
  });
});

describe("the planner's messages", () => {
  it("name the site of the alerts they are about", () => {
    const alert = (id: string, site: string, building: string): Alert => ({ id, rule: "arc-fault", device: id, building, site, severity: "critical", state: "firing", value: 1, threshold: 1, message: "arc", started_at: "", updated_at: "" });
    let state = emptyNotifyState();
    state = noteChange(state, "opened", alert("e1", "east", "east-dorm"), 0);
    state = noteChange(state, "opened", alert("w1", "west", "west-dorm"), 0);
    const { messages } = due(state, 0, { groupWindowMs: 0, repeatMs: {}, escalateMs: {}, secondary: false });
    expect(messages.map((m) => [m.site, (m.body.alert as Alert).id])).toEqual([["east", "e1"], ["west", "w1"]]);
  });
});

describe("the outbox at start", () => {
  it("keeps each configured target's messages and drops, logging it, those of a route taken out of the file", () => {
    const logs: { msg: string; target?: string }[] = [];
    const entry = (id: string, target: string) => ({ id, target, body: "{}", created_at: 0, attempts: 1, next_at: Number.MAX_SAFE_INTEGER, expires_at: Number.MAX_SAFE_INTEGER });
    const sender = createSender([entry("1", "site:east"), entry("2", "site:gone"), entry("3", "primary")], {
      channels: { "site:east": webhookChannel({ url: "http://127.0.0.1:9/east", secret: "s" }), primary: webhookChannel({ url: "http://127.0.0.1:9/global", secret: "s" }) },
      timeoutMs: 1_000, backoffMs: 1_000, maxBackoffMs: 1_000, now: () => 0,
      log: pino({ level: "error" }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
      onDelivered: () => undefined, onFailed: () => undefined, onExpired: () => undefined, onChange: () => undefined,
    });
    sender.close();
    expect(sender.pending().map((e) => e.id).sort()).toEqual(["1", "3"]);
    expect(logs).toEqual([expect.objectContaining({ msg: "webhook message dropped: its target is no longer configured", target: "site:gone" })]);
  });
});
