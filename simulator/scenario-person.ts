// A person at the dashboard, for a scenario: selects a command through the API and operates it at once
// (CONTRACT §10 select-before-operate: `POST /api/commands`, then `POST /api/commands/{id}/operate` by the
// same principal), with an operator's token. What the device then does is watched like any command.
import { Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { CommandSchema } from "../domain/command.js";
import type { PersonResult } from "./scenario-command-check.js";
import type { PersonCommand } from "./scenario-commands.js";

/** The API's error body (CONTRACT §6): `{"error": {"code", "message"}}`. */
const ErrorBodySchema = T.Object({ error: T.Object({ code: T.String(), message: T.String() }) });

/** How long one API request may take, ms: the API itself gives up on the alerts service after 5 s (503). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface PersonAtTheScreen {
  /** Selects and operates `command`; the API's answer, or its refusal with the code it gave. */
  give(command: PersonCommand): Promise<PersonResult>;
}

export function personAtTheScreen(apiUrl: string, token: string): PersonAtTheScreen {
  const base = apiUrl.replace(/\/+$/, "");
  async function post(step: "select" | "operate", path: string, body?: object): Promise<{ ok: true; id: string } | Extract<PersonResult, { ok: false }>> {
    const refused = (code: string, message: string) => ({ ok: false as const, step, code, message });
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      return refused("UNREACHABLE", `${base}: ${(error as Error).message}`);
    }
    const answer: unknown = await response.json().catch(() => null);
    if (response.ok && Value.Check(CommandSchema, answer)) return { ok: true, id: answer.id };
    if (Value.Check(ErrorBodySchema, answer)) return refused(answer.error.code, answer.error.message);
    return refused(`HTTP_${response.status}`, `${path} answered ${response.status} without a command or an error body`);
  }
  return {
    async give({ device, action, reason }) {
      const selected = await post("select", "/api/commands", { device, action, reason });
      if (!selected.ok) return selected;
      const operated = await post("operate", `/api/commands/${encodeURIComponent(selected.id)}/operate`);
      return operated.ok ? { ok: true, commandId: operated.id } : operated;
    },
  };
}
