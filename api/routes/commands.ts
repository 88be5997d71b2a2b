// Remote switching (CONTRACT §10): select, operate and cancel forwarded to the alerts service (which owns
// every command) over MQTT, like acknowledgements; the audit from InfluxDB and what the API saw announced.
// A command of another site than the caller's is, to it, an unknown one (CONTRACT §9): 404, never sent on.
import { randomUUID } from "node:crypto";
import { Type as T } from "@sinclair/typebox";
import { ID_PATTERN } from "../../domain/campus/schema.js";
import { type Command, COMMAND_ACTIONS, COMMAND_STATES, type CommandRequest, CommandSchema } from "../../domain/command.js";
import { literalUnion } from "../../domain/schema.js";
import { askAlertsService, type RefusalErrors } from "../alerts-request.js";
import { commandOrder, findCommand, listCommands } from "../command-history.js";
import { ApiError, apiError, ErrorBodySchema } from "../errors.js";
import { paginate } from "../paging.js";
import { routePlugin } from "../route-plugin.js";
import type { Scope } from "../scope.js";
import { resolveRange } from "../time.js";

const TIME_DESCRIPTION = "ISO 8601 with an offset or epoch milliseconds";

const SelectBodySchema = T.Object(
  {
    device: T.String({ minLength: 1, maxLength: 64, description: "the device to switch (its id)" }),
    action: literalUnion(COMMAND_ACTIONS),
    // A reason of spaces only is no reason: the audit must say why.
    reason: T.String({ minLength: 1, maxLength: 500, pattern: "\\S", description: "why, for the audit (required, not blank)" }),
  },
  { additionalProperties: false },
);

/** CommandSchema without its `$id`, for a list: a response that holds one `$id` twice cannot be compiled (fast-json-stringify). */
const CommandItemSchema = T.Object(CommandSchema.properties, { additionalProperties: true, title: "Command" });

const CommandParamsSchema = T.Object({ id: T.String({ pattern: "^[A-Za-z0-9_.-]{1,200}$", description: "the command's id" }) });

const CommandsQuerySchema = T.Object({
  device: T.Optional(T.String({ pattern: ID_PATTERN })),
  site: T.Optional(T.String({ pattern: ID_PATTERN, description: "only this site's commands; a site outside your scope, like an unknown one, gives an empty list" })),
  state: T.Optional(literalUnion(COMMAND_STATES, { description: "the command's latest state" })),
  from: T.Optional(T.String({ description: `${TIME_DESCRIPTION}: commands selected from then; default 24 h before \`to\`` })),
  to: T.Optional(T.String({ description: `${TIME_DESCRIPTION}; default: now` })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000, description: "page size; with limit or cursor the answer is {items, next}" })),
  cursor: T.Optional(T.String({ maxLength: 500, description: "`next` of the previous page" })),
});

/** The API error of each refusal of the alerts service (domain/command.ts COMMAND_REFUSALS), by name. */
const REFUSALS: RefusalErrors = {
  PROTECTED: "PROTECTED",
  NOT_SWITCHABLE: "NOT_SWITCHABLE",
  DEVICE_OFFLINE: "DEVICE_OFFLINE",
  BUSY: "BUSY",
  EXPIRED: "EXPIRED",
  NOT_SELECTOR: "NOT_SELECTOR",
  INVALID: "VALIDATION_FAILED",
  otherwise: "ALERTS_UNAVAILABLE",
};

export const commandRoutes = routePlugin("campus-power-commands", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema };
  const refused = { 404: ErrorBodySchema, 409: ErrorBodySchema, ...errors };

  async function ask(request: CommandRequest, notFound: "DEVICE_NOT_FOUND" | "COMMAND_NOT_FOUND"): Promise<Command> {
    const send = deps.command;
    if (!send) throw apiError("ALERTS_UNAVAILABLE", "no alerts service to handle commands");
    const { command } = await askAlertsService(() => send(request), { ...REFUSALS, NOT_FOUND: notFound });
    return command;
  }

  /**
   * Answers 404 for a command of a device outside the caller's scope, as the alerts service answers for an
   * unknown id, before anything is sent. The device is the command's as known here, or the one its id names
   * (`{device}.{action}.{ms}.{n}`), so a command selected a moment ago elsewhere is refused too.
   */
  async function refuseOutOfScope(scope: Scope, id: string): Promise<void> {
    if (scope.sites === null) return;
    const known = deps.state.commands.get(id) ?? (await findCommand(deps.influx, deps.state.commands, id).catch(() => null));
    const devices = [known?.device, id.split(".")[0]].filter((d): d is string => d !== undefined && deps.campus.deviceById.has(d));
    if (devices.some((d) => scope.device(d) === undefined)) throw apiError("COMMAND_NOT_FOUND", `no command "${id}"`);
  }

  /** Operate or cancel: the alerts service forgets ended commands after a while; the API still knows them. */
  async function step(stepName: "operate" | "cancel", id: string, by: string, scope: Scope): Promise<Command> {
    await refuseOutOfScope(scope, id);
    try {
      return await ask({ request_id: randomUUID(), step: stepName, by, command_id: id }, "COMMAND_NOT_FOUND");
    } catch (error) {
      const forgotten = error instanceof ApiError && error.code === "COMMAND_NOT_FOUND";
      const known = forgotten ? await findCommand(deps.influx, deps.state.commands, id).catch(() => null) : null;
      if (known === null) throw error;
      if (known.issued_by !== by) throw apiError("NOT_SELECTOR", `command ${id} was selected by ${known.issued_by}: only they may ${stepName} it`);
      throw apiError("EXPIRED", `command ${id} already ended ${known.state}`);
    }
  }

  /** The options of a route only operators (and admins) may call. */
  const forOperators = <Schema extends object>(summary: string, schema: Schema) => ({ config: { role: "operator" as const }, schema: { summary, tags: ["commands"], ...schema } });

  app.post(
    "/api/commands",
    forOperators("Select a switching command (operator): nothing is sent until it is operated within 30 s", { body: SelectBodySchema, response: { 201: CommandSchema, ...refused } }),
    async (request, reply) => {
      const { device, action, reason } = request.body;
      const scope = request.scope!;
      if (scope.device(device) === undefined) throw apiError("DEVICE_NOT_FOUND", `no device "${device}"`);
      const command = await ask({ request_id: randomUUID(), step: "select", by: request.principal!.name, device, action, reason }, "DEVICE_NOT_FOUND");
      return reply.code(201).send(scope.withSite(command));
    },
  );

  app.post(
    "/api/commands/:id/operate",
    forOperators("Operate a selected command (the principal that selected it, before expires_at): the device's command is sent", { params: CommandParamsSchema, response: { 202: CommandSchema, ...refused } }),
    async (request, reply) => reply.code(202).send(request.scope!.withSite(await step("operate", request.params.id, request.principal!.name, request.scope!))),
  );

  app.delete(
    "/api/commands/:id",
    forOperators("Cancel a selected command (the principal that selected it)", { params: CommandParamsSchema, response: { 200: CommandSchema, ...refused } }),
    async (request) => request.scope!.withSite(await step("cancel", request.params.id, request.principal!.name, request.scope!)),
  );

  app.get(
    "/api/commands",
    {
      schema: {
        summary: "The command audit, newest selection first, each command in its latest state",
        tags: ["commands"],
        querystring: CommandsQuerySchema,
        response: {
          200: T.Union([T.Array(CommandItemSchema), T.Object({ items: T.Array(CommandItemSchema), next: T.Union([T.String(), T.Null()]) })], {
            description: "an array; {items, next} when `limit` or `cursor` is given",
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const scope = request.scope!.narrow(q.site);
      const { fromMs, toMs } = resolveRange(q, now());
      // The site is judged by each command's device (./scope.ts), not by the `site` its points carry.
      const all = await listCommands(deps.influx, deps.state.commands, { fromMs, toMs, ...(q.device ? { device: q.device } : {}), ...(q.state ? { state: q.state } : {}) });
      const list = all.filter((c) => scope.seesAbout(c)).map((c) => scope.withSite(c));
      return q.limit !== undefined || q.cursor !== undefined ? paginate(list, q.limit ?? 100, q.cursor, commandOrder) : list;
    },
  );

  app.get(
    "/api/commands/:id",
    { schema: { summary: "One command in its latest state", tags: ["commands"], params: CommandParamsSchema, response: { 200: CommandSchema, 404: ErrorBodySchema, ...errors } } },
    async (request) => {
      const command = await findCommand(deps.influx, deps.state.commands, request.params.id);
      if (command === null || !request.scope!.seesAbout(command)) throw apiError("COMMAND_NOT_FOUND", `no command "${request.params.id}"`);
      return request.scope!.withSite(command);
    },
  );
});
