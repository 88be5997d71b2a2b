// Maintenance windows ("silences", domain/silence.ts): listed from the alerts service's retained
// list, created and ended by operators through a request/answer over MQTT, like acknowledgements.
import { randomUUID } from "node:crypto";
import { type Static, Type as T } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Silence, SilenceRequest } from "../../domain/silence.js";
import { AckTimeoutError, type RouteDeps } from "../deps.js";
import { apiError, ErrorBodySchema } from "../errors.js";
import { IdParamsSchema } from "../schemas.js";
import { parseInstant } from "../time.js";

const ids = (description: string) => T.Optional(T.Array(T.String({ maxLength: 200 }), { maxItems: 1000, description }));
const ScopeSchema = T.Object(
  { devices: ids("device ids"), buildings: ids("building ids"), rules: ids("rule ids") },
  { additionalProperties: false, description: "an alert is silenced when every given list contains its value; empty = any" },
);

export const SilenceSchema = T.Object(
  {
    id: T.String(),
    scope: ScopeSchema,
    starts_at: T.String({ description: "ISO 8601" }),
    ends_at: T.String({ description: "ISO 8601: it expires on its own then" }),
    reason: T.String(),
    created_by: T.String(),
    source: T.String({ description: "api or campus-file (read-only)" }),
    ended_at: T.Optional(T.String({ description: "set when an operator ended it early" })),
  },
  { $id: "Silence", additionalProperties: true, description: "A maintenance window: matching alerts still open and show, but are not notified. Fire-related latched alerts are never muted." },
);

const CreateSilenceSchema = T.Object(
  {
    scope: ScopeSchema,
    starts_at: T.Optional(T.String({ description: "ISO 8601 with an offset or epoch ms; default now" })),
    ends_at: T.String({ description: "ISO 8601 with an offset or epoch ms" }),
    reason: T.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
type CreateSilence = Static<typeof CreateSilenceSchema>;

const SilencesQuerySchema = T.Object({ state: T.Optional(T.Union([T.Literal("active"), T.Literal("all")], { default: "active", description: "active: in force now; all: as the alerts service lists them (scheduled ones included; ended and expired ones are dropped by it)" })) });

/** An ISO 8601 string of a query time, or a VALIDATION_FAILED error naming the field. */
function isoOf(raw: string, name: string): string {
  const ms = parseInstant(raw);
  if (ms === null) throw apiError("BAD_TIME", `"${name}" must be ISO 8601 with an offset or epoch milliseconds`);
  return new Date(ms).toISOString();
}

export const isActive = (s: Silence, now: number) => s.ended_at === undefined && Date.parse(s.starts_at) <= now && Date.parse(s.ends_at) > now;

export async function silenceRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema };

  async function ask(request: SilenceRequest): Promise<Silence> {
    if (!deps.silence) throw apiError("ALERTS_UNAVAILABLE", "no alerts service to manage silences");
    let result;
    try {
      result = await deps.silence(request);
    } catch (error) {
      if (error instanceof AckTimeoutError) throw apiError("ALERTS_UNAVAILABLE", error.message);
      throw error;
    }
    if (result.ok) return result.silence;
    if (result.code === "NOT_FOUND") throw apiError("SILENCE_NOT_FOUND", result.message);
    if (result.code === "READ_ONLY") throw apiError("SILENCE_READ_ONLY", result.message);
    throw apiError("SILENCE_INVALID", result.message);
  }

  app.get<{ Querystring: { state?: "active" | "all" } }>(
    "/api/silences",
    { schema: { summary: "Maintenance windows, soonest ending first", tags: ["alerts"], querystring: SilencesQuerySchema, response: { 200: T.Array(SilenceSchema), ...errors } } },
    async (request) => {
      const at = now();
      const list = request.query.state === "all" ? deps.state.silences() : deps.state.silences().filter((s) => isActive(s, at));
      return [...list].sort((a, b) => a.ends_at.localeCompare(b.ends_at));
    },
  );

  app.post<{ Body: CreateSilence }>(
    "/api/silences",
    {
      config: { role: "operator" },
      schema: { summary: "Create a maintenance window (operator)", tags: ["alerts"], body: CreateSilenceSchema, response: { 201: SilenceSchema, 409: ErrorBodySchema, ...errors } },
    },
    async (request, reply) => {
      const b = request.body;
      const endsAt = isoOf(b.ends_at, "ends_at");
      const startsAt = b.starts_at === undefined ? undefined : isoOf(b.starts_at, "starts_at");
      if (Date.parse(endsAt) <= Math.max(now(), startsAt ? Date.parse(startsAt) : 0)) throw apiError("BAD_TIME", `"ends_at" must be in the future and after "starts_at"`);
      const silence = await ask({
        request_id: randomUUID(),
        action: "create",
        by: request.principal!.name,
        silence: { scope: b.scope, ends_at: endsAt, reason: b.reason, ...(startsAt ? { starts_at: startsAt } : {}) },
      });
      reply.code(201);
      return silence;
    },
  );

  const end = async (request: { params: { id: string }; principal: { name: string } | null }) =>
    ask({ request_id: randomUUID(), action: "end", by: request.principal!.name, silence_id: request.params.id });
  const endSchema = (summary: string) => ({
    config: { role: "operator" as const },
    schema: { summary, tags: ["alerts"], params: IdParamsSchema, response: { 200: SilenceSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, ...errors } },
  });
  app.delete<{ Params: { id: string } }>("/api/silences/:id", endSchema("End a maintenance window now (operator)"), end);
  app.post<{ Params: { id: string } }>("/api/silences/:id/end", endSchema("End a maintenance window now (operator; same as DELETE)"), end);
}
