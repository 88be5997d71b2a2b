// The API's one catalogue of coded errors. Every error leaves the server as
// `{"error": {"code", "message"}}` (CONTRACT §6), whatever raised it: a route, a schema, auth, a 404.
import { Type as T } from "@sinclair/typebox";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { CampusError, ErrorCodes } from "../domain/errors.js";

export const ApiErrors = {
  UNAUTHORIZED: { status: 401, message: "a valid bearer token is required" },
  FORBIDDEN: { status: 403, message: "your role may not do this" },
  NOT_FOUND: { status: 404, message: "no such route" },
  DEVICE_NOT_FOUND: { status: 404, message: "no such device" },
  ALERT_NOT_FOUND: { status: 404, message: "no such open alert" },
  VALIDATION_FAILED: { status: 400, message: "the request is invalid" },
  BAD_TIME: { status: 400, message: "from/to must be ISO 8601 with an offset or epoch milliseconds" },
  NOT_SUPPORTED: { status: 400, message: "not supported yet" },
  TOO_MANY_POINTS: { status: 400, message: "the time range holds too many intervals; use a longer `every`" },
  ACK_REFUSED: { status: 409, message: "the alerts service refused the acknowledgement" },
  SILENCE_NOT_FOUND: { status: 404, message: "no such silence" },
  SILENCE_INVALID: { status: 400, message: "the alerts service refused the silence" },
  SILENCE_READ_ONLY: { status: 409, message: "this silence comes from the campus file and cannot be ended here" },
  // Remote switching (CONTRACT §10): the alerts service's refusals, under the same names.
  COMMAND_NOT_FOUND: { status: 404, message: "no such command" },
  PROTECTED: { status: 409, message: "the device, or a device it feeds, is protected and cannot be switched remotely" },
  NOT_SWITCHABLE: { status: 409, message: "the device has no relay to switch" },
  DEVICE_OFFLINE: { status: 409, message: "the device is offline" },
  BUSY: { status: 409, message: "another command for the device is selected or in flight" },
  EXPIRED: { status: 409, message: "the selection expired or the command already ended" },
  NOT_SELECTOR: { status: 409, message: "only the principal that selected the command may operate or cancel it" },
  RATE_LIMITED: { status: 429, message: "too many failed authentications from this address; retry later" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "the request body is too large" },
  ALERTS_UNAVAILABLE: { status: 503, message: "the alerts service did not answer in time" },
  HISTORY_UNAVAILABLE: { status: 503, message: "InfluxDB is not reachable" },
  NOT_READY: { status: 503, message: "a dependency is not reachable" },
  INTERNAL: { status: 500, message: "internal error" },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof ApiErrors;

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string = ApiErrors[code].message,
    /** PROTECTED: the protected devices in the way, so a client can name them in its own language. */
    readonly devices?: readonly string[],
  ) {
    super(message);
    this.name = "ApiError";
    this.statusCode = ApiErrors[code].status;
  }
}

export const apiError = (code: ApiErrorCode, message?: string, devices?: readonly string[]) => new ApiError(code, message, devices);

export const ErrorBodySchema = T.Object(
  { error: T.Object({ code: T.String(), message: T.String(), devices: T.Optional(T.Array(T.String(), { description: "PROTECTED: the protected devices in the way" })) }) },
  { $id: "ErrorBody", description: "Every error: a code from the API's catalogue and a human message." },
);

export function errorBody(code: string, message: string, devices?: readonly string[]) {
  return { error: { code, message, ...(devices ? { devices: [...devices] } : {}) } };
}

/** Maps whatever was thrown to a status and a catalogue code; internals never leak into the message. */
export function toErrorResponse(error: unknown): { status: number; body: ReturnType<typeof errorBody> } {
  if (error instanceof ApiError) return { status: error.statusCode, body: errorBody(error.code, error.message, error.devices) };
  const e = error as { validation?: unknown; statusCode?: number; code?: string; message?: string };
  if (e && e.validation) return { status: 400, body: errorBody("VALIDATION_FAILED", e.message ?? ApiErrors.VALIDATION_FAILED.message) };
  const status = typeof e?.statusCode === "number" ? e.statusCode : 500;
  if (status === 413) return { status, body: errorBody("PAYLOAD_TOO_LARGE", ApiErrors.PAYLOAD_TOO_LARGE.message) };
  if (status === 404) return { status, body: errorBody("NOT_FOUND", ApiErrors.NOT_FOUND.message) };
  // Fastify's own client errors (bad JSON body, unsupported media type...) keep their message.
  if (status >= 400 && status < 500) return { status, body: errorBody("VALIDATION_FAILED", e.message ?? ApiErrors.VALIDATION_FAILED.message) };
  return { status: 500, body: errorBody("INTERNAL", ApiErrors.INTERNAL.message) };
}

/** InfluxDB failures as API errors: unreachable → 503; a database not created yet is no data yet. */
export function historyError(error: unknown): [] {
  if (error instanceof CampusError && error.code === ErrorCodes.INFLUX_UNAVAILABLE) throw apiError("HISTORY_UNAVAILABLE");
  if (error instanceof CampusError && /database not found/i.test(error.message)) return [];
  throw error;
}

/**
 * Fastify's `frameworkErrors` option: the router's own refusals (a path parameter longer than
 * `maxParamLength`, 414; a path with broken percent-encoding, 400) otherwise leave with fastify's body
 * `{"error": "Bad Request", "code": "FST_ERR_…", "message": "'<the whole path>' …"}`, which is not the
 * documented shape and echoes the path back. Found by fuzzing (tests/fuzz/http-api.test.ts, seed 1447541330).
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode === 414 ? 414 : 400;
  const message = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? "a path parameter is too long" : "the URL is not valid";
  reply.code(status).type("application/json").send(errorBody("VALIDATION_FAILED", message));
}
