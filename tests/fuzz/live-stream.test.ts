// Fuzz: the live stream (WebSocket /api/live, CONTRACT §6, docs/api.md) with real `ws` clients over TCP:
// generated frames before authentication (auth frames with odd tokens, sessions and sequence numbers,
// other JSON, text, binary, ill-formed UTF-8, frames above the 64 KiB limit) and after it (subscribe
// frames derived from its schema, valid and broken). Every connection ends clearly: unauthenticated ones
// are closed with 4401 (or 1007/1009 for a frame ws itself refuses); authenticated ones stay open and
// answer every frame they cannot use with an error frame of the catalogue. Every server frame is a JSON
// message of the protocol; a viewer scoped to one school never sees another's; the API stays up.
// Runtime: ~10 s (600 connections, capped at 30 s). Replay: FUZZ_SEED=<seed> npx vitest run tests/fuzz/live-stream.test.ts
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import { LIVE_FRAME_ERRORS, SubscribeFrameSchema } from "../../api/live/protocol.js";
import { parseApiTokens } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { type JsonSchema, invalidValue, nastyString, validValue } from "./schema-arbitrary.js";
import { fuzzParameters } from "./seed.js";

const campus = loadCampus("tests/fixtures/district/district.yaml");
const VIEWER = "live-viewer-token-0123456789";
const NORTH = "live-north-token-0123456789";
const MESSAGE_TYPES = ["snapshot", "reading", "status", "alert", "event", "command", "batch", "error"];
/** Close codes a client may see: 4401 unauthorized, 4429 rate-limited, 1007 ill-formed UTF-8 and 1009 too big (RFC 6455 §7.4.1). */
const CLEAR_CLOSES = [4401, 4429, 1007, 1009];
const MAX_FRAME_BYTES = 64 * 1024;

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = buildApp({
    campus,
    tokens: parseApiTokens(`viewer:${VIEWER},viewer@north-middle:${NORTH}`),
    state: new LiveState(campus),
    influx: await freshDatabase("fuzz_live"),
    ack: async () => ({ ok: false, code: "NOT_FOUND", message: "no such open alert" }),
    probes: { mqtt: () => true, influxdb: () => true },
    metrics: createRegistry(false),
    log: createLogger("silent"),
    authLimits: { maxFailures: 1_000_000 },
    live: { authTimeoutMs: 1_000 },
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app?.close();
});

type Frame = { data: string | Buffer; binary: boolean; breaks?: boolean };
const text = (value: unknown): Frame => ({ data: typeof value === "string" ? value : JSON.stringify(value) ?? "null", binary: false });
const subscribeSchema = SubscribeFrameSchema as unknown as JsonSchema;
const resolveNothing = () => ({});

/** A frame a client may send: JSON of many shapes, auth and subscribe attempts, text, binary, and the two ws refuses. */
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 3, arbitrary: validValue(subscribeSchema, resolveNothing, { buildings: campus.buildings.map((b) => b.id), devices: campus.devices.map((d) => d.id) }).map(text) },
  { weight: 2, arbitrary: invalidValue(subscribeSchema, resolveNothing).map(text) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("auth"), token: fc.oneof(nastyString, fc.constant(VIEWER)), session: fc.oneof(nastyString, fc.jsonValue()), last_seq: fc.oneof(fc.double(), fc.integer(), nastyString, fc.constant(1e308)) }, { requiredKeys: ["type"] }).map(text) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(text) },
  { weight: 1, arbitrary: nastyString.map(text) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ data: Buffer.from(b), binary: true })) },
  { weight: 1, arbitrary: fc.constant({ data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), binary: false, breaks: true }) },
  { weight: 1, arbitrary: fc.constant({ data: "x".repeat(MAX_FRAME_BYTES + 10), binary: false, breaks: true }) },
);
const AUTH_MODES = ["header", "query", "frame", "frame-north", "none", "bad-query"] as const;

function authenticates(first: Frame | undefined): boolean {
  if (first === undefined || first.binary || typeof first.data !== "string") return false;
  try {
    const parsed = JSON.parse(first.data) as { type?: unknown; token?: unknown };
    return parsed?.type === "auth" && parsed.token === VIEWER;
  } catch {
    return false;
  }
}

async function session(mode: (typeof AUTH_MODES)[number], frames: Frame[]) {
  const query = mode === "query" ? `?token=${VIEWER}` : mode === "bad-query" ? "?token=not-a-token&session=x&last_seq=1e308" : "";
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/live${query}`, mode === "header" ? { headers: { authorization: `Bearer ${VIEWER}` } } : {});
  const received: string[] = [];
  let closeCode: number | null = null;
  socket.on("message", (data) => received.push(data.toString()));
  socket.on("error", () => undefined);
  socket.on("close", (code) => (closeCode = code));
  await new Promise<void>((resolve) => (socket.once("open", resolve), socket.once("close", () => resolve())));
  // Without a token, a generated first frame may itself be a good auth frame.
  const authenticated = mode === "header" || mode === "query" || mode === "frame" || mode === "frame-north" || (mode === "none" && authenticates(frames[0]));
  if (mode === "frame" || mode === "frame-north") socket.send(JSON.stringify({ type: "auth", token: mode === "frame" ? VIEWER : NORTH }));
  for (const f of frames) if (socket.readyState === WebSocket.OPEN) socket.send(f.data, { binary: f.binary });
  // The marker: an unknown type, answered with an error frame once everything before it was read.
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "fuzz-marker" }));
  const answered = () => received.some((m) => m.includes("fuzz-marker"));
  await waitFor(() => closeCode !== null || answered(), 5_000, { what: "the marker answered or the socket closed", intervalMs: 10 });
  socket.terminate();
  return { received, closeCode: closeCode as number | null, authenticated, answered: answered() };
}

describe("fuzzing the live stream", () => {
  it("ends every connection clearly and answers only with protocol messages, before and after authentication", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...AUTH_MODES), fc.array(frame, { maxLength: 6 }), async (mode, frames) => {
        const { received, closeCode, authenticated, answered } = await session(mode, frames);
        const context = `${mode}: ${JSON.stringify(frames.map((f) => (typeof f.data === "string" ? f.data.slice(0, 80) : f.data.toString("hex")))).slice(0, 600)} → close ${closeCode}, ${received.length} frames`;
        for (const message of received) {
          const parsed = JSON.parse(message) as { type?: string; error?: { code?: string; message?: string } };
          expect(MESSAGE_TYPES, context).toContain(parsed.type);
          if (parsed.type === "error") expect(Object.keys(LIVE_FRAME_ERRORS), context).toContain(parsed.error?.code);
          if (mode === "frame-north") expect(message.includes("south"), context).toBe(false);
        }
        const brokeTheSocket = frames.some((f) => f.breaks);
        if (closeCode !== null) {
          expect(CLEAR_CLOSES, context).toContain(closeCode);
          // A client that authenticated is closed only for a frame ws refuses (ill-formed UTF-8, too big).
          if (authenticated && closeCode !== 4401) expect(brokeTheSocket, context).toBe(true);
        } else {
          expect(authenticated && answered, context).toBe(true);
        }
      }),
      fuzzParameters(600, 30_000),
    );
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(health.status).toBe(200);
  }, 60_000);
});
