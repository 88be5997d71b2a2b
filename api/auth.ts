// Bearer-token auth (CONTRACT §6, §9): tokens from API_TOKENS, or a named account's login token (looked
// up by the accounts' session store, api/sessions.ts); roles ordered viewer < operator < admin; a principal
// sees the sites of its scope only (./scope.ts). Tokens are compared in constant time and never logged
// (the logger redacts `authorization`).
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { bearerToken, safeEqual } from "../domain/credentials.js";
import type { Campus } from "../domain/campus.js";
import { isJsonObject } from "../domain/json-object.js";
import { type ApiToken, ROLES, type Role } from "../domain/env.js";
import type { FailedAuthLimiter } from "./auth-limiter.js";
import { apiError } from "./errors.js";
import { Scope } from "./scope.js";

export interface Principal {
  role: Role;
  /**
   * Who acted, for `acknowledged_by` and `issued_by`: an account's name, or for an API_TOKENS token its role,
   * scope and a short fingerprint of the token (`operator@north:1a2b3c4d`), never the token.
   */
  name: string;
  /** The sites it sees (CONTRACT §9); null = the whole district. */
  sites: readonly string[] | null;
}

/** The named accounts' login tokens (api/sessions.ts): the principal a live token belongs to at `now`, or null. */
export interface SessionLookup {
  principalOf(token: string, now: number): Principal | null;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
    /** What the principal may see (CONTRACT §9); null on the public routes. */
    scope: Scope | null;
  }
  interface FastifyContextConfig {
    /** Lowest role that may call the route; absent = viewer under /api/ (bar the public routes in auth.ts), none elsewhere. */
    role?: Role;
    /**
     * The route also takes the token as `?token=` (a page opened or printed from a link, CONTRACT §11), when no
     * `Authorization` header is sent. Every other route refuses a query token: a URL ends up in browser history,
     * proxies' logs and `Referer` headers. Such a route answers with `Referrer-Policy: no-referrer` and
     * `Cache-Control: no-store`; the request log writes its URL through app.ts `redactUrl`.
     */
    tokenInQuery?: boolean;
  }
}

export const roleRank = (role: Role) => ROLES.indexOf(role);

/**
 * The principal a token belongs to, or null: an API_TOKENS token (every configured token is compared, no
 * early exit), else a named account's login token when a session lookup is given.
 */
export function authenticate(tokens: readonly ApiToken[], presented: string | undefined | null, sessions?: SessionLookup, now: number = Date.now()): Principal | null {
  if (!presented) return null;
  let found: ApiToken | null = null;
  for (const candidate of tokens) {
    if (safeEqual(candidate.token, presented) && (found === null || roleRank(candidate.role) > roleRank(found.role))) found = candidate;
  }
  if (found === null) return sessions?.principalOf(presented, now) ?? null;
  const fingerprint = createHash("sha256").update(found.token).digest("hex").slice(0, 8);
  const scope = found.sites === null ? "" : `@${found.sites.join("+")}`;
  return { role: found.role, name: `${found.role}${scope}:${fingerprint}`, sites: found.sites };
}

/** The `?token=` of a route that opts in (`config.tokenInQuery`), else null: fastify has parsed the query before onRequest. */
export function queryToken(query: unknown, optedIn: boolean | undefined): string | null {
  if (optedIn !== true || !isJsonObject(query)) return null;
  const token = query.token;
  return typeof token === "string" && token !== "" ? token : null;
}

/** The token of an `Authorization: Bearer …` header (domain/credentials.ts; /metrics reads it too). */
export { bearerToken };

// Public under /api/: health, and the swagger-ui shell (its page then fetches /api/docs/json with
// the dashboard's token). The live stream authenticates itself (header, ?token= or first frame); sign-in
// and sign-out of named accounts (routes/session.ts) are how one gets and ends a token.
// These match route PATTERNS as registered (e.g. `/api/docs/static/*`), never a request's URL.
const PUBLIC_API_ROUTES = [/^\/api\/health$/, /^\/api\/docs\/?$/, /^\/api\/docs\/static\//, /^\/api\/live$/, /^\/api\/log(in|out)$/];

/**
 * The role a request needs, decided by the route the router MATCHED (`request.routeOptions.url`), not
 * by the raw URL: the router decodes and normalises paths (`/%61pi/devices` is `/api/devices`), so a
 * check on the raw text can be sidestepped. Every route under /api/ needs viewer unless it names its
 * own role or is listed public, so a new route cannot forget its check. `route` is undefined when no
 * route matched; such a request gets a 404 anyway, and one that looks like /api answers 401 first.
 */
export function requiredRole(route: string | undefined, routeRole: Role | undefined, rawUrl: string): Role | undefined {
  if (routeRole !== undefined) return routeRole;
  if (route === undefined) return looksLikeApi(rawUrl) ? "viewer" : undefined;
  if (!route.startsWith("/api/") && route !== "/api") return undefined;
  return PUBLIC_API_ROUTES.some((re) => re.test(route)) ? undefined : "viewer";
}

/** Whether an unmatched URL is under /api, read leniently (any case, encoded, repeated slashes). */
function looksLikeApi(rawUrl: string): boolean {
  let path = rawUrl.split("?")[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    // Malformed escapes: judge the text as it is.
  }
  path = path.replace(/\/+/g, "/").toLowerCase();
  return path === "/api" || path.startsWith("/api/");
}

/**
 * onRequest hook: enforces the matched route's role, answering 401/403 before anything else runs,
 * and 429 to an address that presented too many wrong tokens (the limiter counts them); sets the
 * request's principal and scope.
 */
export function authHook({ campus, tokens, limiter, now = Date.now, sessions }: AuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    request.principal = null;
    request.scope = null;
    const required = requiredRole(request.routeOptions.url, request.routeOptions.config?.role, request.url);
    if (required === undefined) return;
    const waitMs = limiter.blockedForMs(request.ip, now());
    if (waitMs > 0) {
      reply.header("retry-after", String(Math.ceil(waitMs / 1000)));
      throw apiError("RATE_LIMITED");
    }
    const presented = bearerToken(request.headers.authorization) ?? queryToken(request.query, request.routeOptions.config?.tokenInQuery);
    const principal = authenticate(tokens, presented, sessions, now());
    if (principal === null) {
      if (presented !== null) limiter.fail(request.ip, now());
      throw apiError("UNAUTHORIZED");
    }
    if (roleRank(principal.role) < roleRank(required)) throw apiError("FORBIDDEN", `this needs the ${required} role (yours: ${principal.role})`);
    request.principal = principal;
    request.scope = Scope.of(campus, principal.sites);
  };
}

export const AUTH_PLUGIN = "campus-power-auth";

export interface AuthOptions {
  campus: Campus;
  tokens: readonly ApiToken[];
  limiter: FailedAuthLimiter;
  now?: () => number;
  sessions?: SessionLookup;
}

/**
 * Authentication for the whole app (not encapsulated): `request.principal` on every request, the matched
 * route's role checked before anything else runs. Route plugins declare it as a dependency.
 */
export const authentication = fp<AuthOptions>(
  async (app, options) => {
    app.decorateRequest("principal", null);
    app.decorateRequest("scope", null);
    app.addHook("onRequest", authHook(options));
  },
  { name: AUTH_PLUGIN },
);
