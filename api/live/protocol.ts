// The live stream's messages (CONTRACT §6, docs/api.md "Live stream"). Server → client: the
// LiveMessages, each numbered with a per-connection `seq`, and the error frame (not numbered: it answers
// one frame of this socket and is never replayed on resume). Client → server after authentication:
// `subscribe`, checked against its TypeBox schema. Pure.
import { type Static, Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Alert } from "../../domain/alert.js";
import type { Command } from "../../domain/command.js";
import type { DeviceEvent } from "../../domain/reading.js";
import type { LatestValues } from "../live-state.js";
import type { DeviceView } from "../views.js";

/** Every message about a device carries its `site` (CONTRACT §9); the snapshot holds the caller's sites only. */
export type LiveMessage =
  | { type: "snapshot"; session?: string; interval_ms?: number; devices: DeviceView[]; alerts: Alert[] }
  | { type: "reading"; site: string; device: string; ts: number; values: LatestValues }
  | { type: "status"; site: string; device: string; online: boolean }
  | { type: "alert"; site: string; alert: Alert }
  | { type: "event"; site: string; event: DeviceEvent }
  /** Every change of a remote-switching command (CONTRACT §10), the whole command object. */
  | { type: "command"; site: string; command: Command };

const ids = (description: string) => T.Optional(T.Array(T.String({ maxLength: 200 }), { maxItems: 10_000, description }));

export const SubscribeFrameSchema = T.Object({
  type: T.Literal("subscribe"),
  buildings: ids("building ids; both lists empty or absent = everything"),
  devices: ids("device ids"),
  interval_ms: T.Optional(T.Number({ description: "coalescing interval, ms: rounded to 100 and clamped to 100–60,000" })),
  batch: T.Optional(T.Boolean({ description: "each tick's messages as one batch frame" })),
});
export type SubscribeFrame = Static<typeof SubscribeFrameSchema>;
const subscribeFrame = TypeCompiler.Compile(SubscribeFrameSchema);

/** Why a client frame after authentication was not used: the `code` of the error frame answering it. */
export const LIVE_FRAME_ERRORS = {
  // RFC 6455 §5.6: text frames carry UTF-8; this protocol is JSON text only.
  BINARY_FRAME: "binary frames are not part of the live stream: send JSON as text frames",
  INVALID_FRAME: "a frame must be a JSON object",
  UNKNOWN_TYPE: 'after authentication the only client message is {"type":"subscribe",…}',
  INVALID_SUBSCRIBE: "a subscribe message has buildings and devices as arrays of ids, interval_ms as a number and batch as a boolean",
} as const;
export type LiveFrameErrorCode = keyof typeof LIVE_FRAME_ERRORS;

export type ClientFrame = { ok: true; subscribe: SubscribeFrame } | { ok: false; code: LiveFrameErrorCode; message: string };

const refused = (code: LiveFrameErrorCode, detail?: string): ClientFrame => ({ ok: false, code, message: detail === undefined ? LIVE_FRAME_ERRORS[code] : `${LIVE_FRAME_ERRORS[code]} (${detail})` });

/** A JSON object from a frame's text, or null. */
export function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** What an authenticated client sent: a subscribe message, or the error frame's code and message. */
export function readClientFrame(text: string, isBinary: boolean): ClientFrame {
  if (isBinary) return refused("BINARY_FRAME");
  const frame = jsonObject(text);
  if (frame === null) return refused("INVALID_FRAME");
  if (frame.type !== "subscribe") return refused("UNKNOWN_TYPE", typeof frame.type === "string" ? `got type ${JSON.stringify(frame.type.slice(0, 40))}` : "no type");
  if (subscribeFrame.Check(frame)) return { ok: true, subscribe: frame };
  const first = subscribeFrame.Errors(frame).First();
  return refused("INVALID_SUBSCRIBE", first ? `${first.path}: ${first.message}` : undefined);
}

/** The error frame answering a client frame that was not used: `{"type":"error","error":{code,message}}`. */
export const errorFrame = (code: LiveFrameErrorCode, message: string) => JSON.stringify({ type: "error", error: { code, message } });
