// POST /api/login and POST /api/logout (CONTRACT §9): named accounts sign in for a session token. Both are
// public to the auth hook (api/auth.ts lists them): login is how one gets a token, and logout ends the token
// it is given, whatever state it is in. Wrong name and wrong password answer the same 401 after the same
// work (api/sessions.ts); failures are limited per client address (the app's limiter, shared with wrong
// bearer tokens) and per name, each answering 429 with retry-after, a right password included, or the
// limit would tell a guesser when they found it.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type as T } from "@sinclair/typebox";
import fp from "fastify-plugin";
import { literalUnion } from "../../domain/schema.js";
import { normaliseAccountName, PASSWORD_MAX_CHARACTERS } from "../../domain/accounts.js";
import { ROLES } from "../../domain/env.js";
import { type AuthLimits, FailedAuthLimiter } from "../auth-limiter.js";
import { bearerToken } from "../auth.js";
import { apiError, ErrorBodySchema } from "../errors.js";
import type { SessionStore } from "../sessions.js";

/**
 * Wrong passwords per name before that name's sign-ins wait 10 minutes: an online guesser gets about 60 tries
 * an hour on one account (NIST SP 800-63B-4 §3.2.2 asks verifiers to limit guessing), a person who mistypes a
 * few times is never stopped. A throttle, not a lock-out that anyone could trigger: docs/accounts.md.
 */
export const DEFAULT_NAME_LIMITS: AuthLimits = { maxFailures: 10, windowMs: 10 * 60_000, maxAddresses: 10_000 };

const LoginBodySchema = T.Object(
  {
    username: T.String({ minLength: 1, maxLength: 256 }),
    // In UTF-16 code units, so a password of PASSWORD_MAX_CHARACTERS code points always fits.
    password: T.String({ minLength: 1, maxLength: 2 * PASSWORD_MAX_CHARACTERS }),
  },
  { additionalProperties: false },
);

const SessionUserSchema = T.Object({
  name: T.String(),
  role: literalUnion(ROLES),
  sites: T.Union([T.Array(T.String()), T.Null()], { description: "the sites the person sees; null = the whole district" }),
});

const LoginReplySchema = T.Object({
  token: T.String({ description: "opaque bearer token (256 random bits) for Authorization: Bearer" }),
  expires_at: T.String({ description: "ISO 8601; moves 12 h past each use of the token (sliding expiry)" }),
  user: SessionUserSchema,
});

export interface SessionRouteOptions {
  sessions: SessionStore;
  /** Failed authentications per client address: the app's limiter, shared with wrong bearer tokens. */
  addressLimiter: FailedAuthLimiter;
  /** Failed sign-ins per name (default DEFAULT_NAME_LIMITS). */
  nameLimits?: Partial<AuthLimits>;
  /** Wall clock, epoch ms (default Date.now). */
  now?: () => number;
}

const routes: FastifyPluginAsyncTypebox<SessionRouteOptions> = async (app, { sessions, addressLimiter, nameLimits, now = Date.now }) => {
  const nameLimiter = new FailedAuthLimiter({ ...DEFAULT_NAME_LIMITS, ...nameLimits });
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 429: ErrorBodySchema };

  app.post(
    "/api/login",
    {
      schema: {
        summary: "Sign in with a name and password for a session token (CONTRACT §9); 401 for a wrong name or password alike",
        tags: ["session"],
        security: [],
        body: LoginBodySchema,
        response: { 200: LoginReplySchema, ...errors },
      },
    },
    async (request, reply) => {
      const name = normaliseAccountName(request.body.username);
      const at = now();
      const waitMs = Math.max(addressLimiter.blockedForMs(request.ip, at), nameLimiter.blockedForMs(name, at));
      if (waitMs > 0) {
        reply.header("retry-after", String(Math.ceil(waitMs / 1000)));
        throw apiError("RATE_LIMITED", "too many failed sign-ins; retry later");
      }
      const outcome = await sessions.login(name, request.body.password, at);
      if (!outcome.ok && outcome.reason === "busy") {
        reply.header("retry-after", "1");
        throw apiError("RATE_LIMITED", "too many sign-ins at once; retry in a second");
      }
      if (!outcome.ok) {
        addressLimiter.fail(request.ip, now());
        nameLimiter.fail(name, now());
        request.log.info({ user: name, ip: request.ip }, "failed sign-in");
        throw apiError("UNAUTHORIZED", "wrong user name or password");
      }
      request.log.info({ user: name, ip: request.ip }, "signed in");
      // RFC 6749 §5.1: a response carrying a token must not be cached.
      reply.header("cache-control", "no-store");
      return { token: outcome.token, expires_at: new Date(outcome.expiresAt).toISOString(), user: { ...outcome.principal, sites: outcome.principal.sites && [...outcome.principal.sites] } };
    },
  );

  app.post(
    "/api/logout",
    {
      schema: {
        summary: "End the session of the bearer token presented (204 whether or not it was one: logging out twice is fine)",
        tags: ["session"],
        response: { 204: T.Null({ description: "the session, if any, has ended" }) },
      },
    },
    async (request, reply) => {
      const token = bearerToken(request.headers.authorization);
      if (token !== null) await sessions.logout(token);
      return reply.code(204).send(null);
    },
  );
};

/** The route plugin: named, encapsulated, after @fastify/swagger (which documents the routes registered after it). */
export const sessionRoutes = fp(routes, { name: "campus-power-session", dependencies: ["@fastify/swagger"], encapsulate: true });
