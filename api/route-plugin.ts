// How every route plugin is made (fastify's plugin model; STYLE.md "fastify"): named, so a reader and
// fastify's errors can tell them apart; encapsulated, so what one adds stays its own; typed by the
// TypeBox provider, so handlers get their params, querystring, body and reply types from the route's
// schemas; and registered only after what it needs: the auth plugin (roles, `request.principal`) and
// @fastify/swagger (which documents only the routes registered after it). A wrong order fails at
// start, naming both plugins.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import fp from "fastify-plugin";
import { AUTH_PLUGIN } from "./auth.js";
import type { RouteDeps } from "./deps.js";

export const routePlugin = (name: string, routes: FastifyPluginAsyncTypebox<RouteDeps>) =>
  fp(routes, { name, dependencies: [AUTH_PLUGIN, "@fastify/swagger"], encapsulate: true });
