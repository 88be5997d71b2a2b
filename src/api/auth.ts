// Bearer-token auth (CONTRACT §6): tokens from API_TOKENS, roles ordered viewer < operator < admin.
// Tokens are compared in constant time and never logged (the logger redacts `authorization`).
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { safeEqual } from "../domain/credentials.js";
import { type ApiToken, ROLES, type Role } from "../domain/env.js";
import { apiError } from "./errors.js";

export interface Principal {
  role: Role;
  /** Who acted, for `acknowledged_by`: the role and a short fingerprint of the token, never the token. */
  name: string;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Lowest role that may call the route; absent = viewer under /api/, none elsewhere. */
    role?: Role;
  }
}

export const roleRank = (role: Role) => ROLES.indexOf(role);

/** The principal a token belongs to, or null. Every configured token is compared (no early exit). */
export function authenticate(tokens: readonly ApiToken[], presented: string | undefined | null): Principal | null {
  if (!presented) return null;
  let found: ApiToken | null = null;
  for (const candidate of tokens) {
    if (safeEqual(candidate.token, presented) && (found === null || roleRank(candidate.role) > roleRank(found.role))) found = candidate;
  }
  if (found === null) return null;
  const fingerprint = createHash("sha256").update(found.token).digest("hex").slice(0, 8);
  return { role: found.role, name: `${found.role}:${fingerprint}` };
}

export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value ?? "");
  return match ? match[1]! : null;
}

// Public under /api/: health, and the swagger-ui shell (its page then fetches /api/docs/json with
// the dashboard's token). The live stream authenticates itself (header, ?token= or first frame).
const PUBLIC_API = [/^\/api\/health$/, /^\/api\/docs\/?$/, /^\/api\/docs\/static\//, /^\/api\/live$/];

/** The role a path needs: the route's own, else viewer for anything under /api/ (unknown routes too). */
export function requiredRole(path: string, routeRole: Role | undefined): Role | undefined {
  if (routeRole !== undefined) return routeRole;
  if (!path.startsWith("/api/") && path !== "/api") return undefined;
  return PUBLIC_API.some((re) => re.test(path)) ? undefined : "viewer";
}

/** onRequest hook: enforces the route's `config.role`, answering 401/403 before anything else runs. */
export function authHook(tokens: readonly ApiToken[]) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    request.principal = null;
    const required = requiredRole(request.url.split("?")[0]!, request.routeOptions.config?.role);
    if (required === undefined) return;
    const principal = authenticate(tokens, bearerToken(request.headers.authorization));
    if (principal === null) throw apiError("UNAUTHORIZED");
    if (roleRank(principal.role) < roleRank(required)) throw apiError("FORBIDDEN", `this needs the ${required} role (yours: ${principal.role})`);
    request.principal = principal;
  };
}
