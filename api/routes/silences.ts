// Maintenance windows ("silences", domain/silence.ts): listed from the alerts service's retained
// list, created and ended by operators through a request/answer over MQTT, like acknowledgements.
// Scope (CONTRACT §9, ./scope.ts): a silence naming anything of another site is, to a site-scoped
// principal, an unknown one; one naming nothing covers the whole district, which only a principal of the
// whole district may create or end (a site-scoped one's silence covers its own sites' buildings instead).
import { randomUUID } from "node:crypto";
import { Type as T } from "@sinclair/typebox";
import type { FastifyRequest } from "fastify";
import { type Silence, type SilenceRequest, type SilenceScope, SilenceSchema, SilenceScopeSchema } from "../../domain/silence.js";
import { askAlertsService } from "../alerts-request.js";
import { apiError, ErrorBodySchema } from "../errors.js";
import { routePlugin } from "../route-plugin.js";
import type { Scope } from "../scope.js";
import { IdParamsSchema, SiteFilter } from "../schemas.js";
import { parseInstant } from "../time.js";

const CreateSilenceSchema = T.Object(
  {
    scope: SilenceScopeSchema,
    starts_at: T.Optional(T.String({ description: "ISO 8601 with an offset or epoch ms; default now" })),
    ends_at: T.String({ description: "ISO 8601 with an offset or epoch ms" }),
    reason: T.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

const SilencesQuerySchema = T.Object({ ...SiteFilter, state: T.Optional(T.Union([T.Literal("active"), T.Literal("all")], { default: "active", description: "active: in force now; all: as the alerts service lists them (scheduled ones included; ended and expired ones are dropped by it)" })) });

/** An ISO 8601 string of a query time, or a VALIDATION_FAILED error naming the field. */
function isoOf(raw: string, name: string): string {
  const ms = parseInstant(raw);
  if (ms === null) throw apiError("BAD_TIME", `"${name}" must be ISO 8601 with an offset or epoch milliseconds`);
  return new Date(ms).toISOString();
}

export const isActive = (s: Silence, now: number) => s.ended_at === undefined && Date.parse(s.starts_at) <= now && Date.parse(s.ends_at) > now;

const namesNothing = (scope: SilenceScope) => (scope.devices ?? []).length === 0 && (scope.buildings ?? []).length === 0;

/**
 * The silence scope a principal may create: every id it names in view (another site's is refused in the
 * alerts service's words for an unknown id); naming none, a site-scoped principal's covers its own buildings.
 */
export function scopedSilence(scope: Scope, wanted: SilenceScope): SilenceScope {
  if (scope.sites === null) return wanted;
  const unknownDevice = (wanted.devices ?? []).find((id) => scope.device(id) === undefined);
  if (unknownDevice !== undefined) throw apiError("SILENCE_INVALID", `scope.devices: unknown id "${unknownDevice}"`);
  const unknownBuilding = (wanted.buildings ?? []).find((id) => scope.building(id) === undefined);
  if (unknownBuilding !== undefined) throw apiError("SILENCE_INVALID", `scope.buildings: unknown id "${unknownBuilding}"`);
  return namesNothing(wanted) ? { ...wanted, buildings: scope.buildings().map((b) => b.id) } : wanted;
}

export const silenceRoutes = routePlugin("campus-power-silences", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema };

  async function ask(request: SilenceRequest): Promise<Silence> {
    const send = deps.silence;
    if (!send) throw apiError("ALERTS_UNAVAILABLE", "no alerts service to manage silences");
    const { silence } = await askAlertsService(() => send(request), { NOT_FOUND: "SILENCE_NOT_FOUND", READ_ONLY: "SILENCE_READ_ONLY", otherwise: "SILENCE_INVALID" });
    return silence;
  }

  app.get(
    "/api/silences",
    { schema: { summary: "Maintenance windows, soonest ending first", tags: ["alerts"], querystring: SilencesQuerySchema, response: { 200: T.Array(SilenceSchema), ...errors } } },
    async (request) => {
      const at = now();
      const scope = request.scope!.narrow(request.query.site);
      const list = deps.state.silences().filter((s) => scope.seesSilence(s) && (request.query.state === "all" || isActive(s, at)));
      return list.sort((a, b) => a.ends_at.localeCompare(b.ends_at));
    },
  );

  app.post(
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
        silence: { scope: scopedSilence(request.scope!, b.scope), ends_at: endsAt, reason: b.reason, ...(startsAt ? { starts_at: startsAt } : {}) },
      });
      return reply.code(201).send(silence);
    },
  );

  const end = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const { id } = request.params;
    const scope = request.scope!;
    const known = deps.state.silences().find((s) => s.id === id);
    if (known !== undefined && !scope.seesSilence(known)) throw apiError("SILENCE_NOT_FOUND", `no current silence with id "${id}"`);
    if (known !== undefined && scope.sites !== null && namesNothing(known.scope)) throw apiError("FORBIDDEN", "this silence covers the whole district: only a principal of the whole district may end it");
    return ask({ request_id: randomUUID(), action: "end", by: request.principal!.name, silence_id: id });
  };
  const ending = (summary: string) => ({
    config: { role: "operator" as const },
    schema: { summary, tags: ["alerts"], params: IdParamsSchema, response: { 200: SilenceSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, ...errors } },
  });
  app.delete("/api/silences/:id", ending("End a maintenance window now (operator)"), end);
  app.post("/api/silences/:id/end", ending("End a maintenance window now (operator; same as DELETE)"), end);
});
