// Security headers on every answer (CONTRACT §13; docs/security.md "Headers"), set by @fastify/helmet 13:
// a Content-Security-Policy that allows no inline script, `X-Content-Type-Options: nosniff`, no framing
// (`frame-ancestors 'none'` and, for browsers without CSP 2, `X-Frame-Options: DENY`), `Referrer-Policy:
// no-referrer` (a dashboard URL may carry a token in its fragment or `?token=`).
// Two pages get their own policy: the printable report (its style sheet is inline, it has no script) and
// the swagger UI at /api/docs (see SWAGGER_UI_CSP).
import fastifyHelmet, { type FastifyHelmetOptions } from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

type Directives = Record<string, string[] | null>;

/**
 * The dashboard's policy (CSP Level 3, W3C). Scripts only from this origin, never inline (`script-src-attr
 * 'none'` forbids `onclick=`). Style sheets only from this origin, no `<style>` element (a style element
 * injected into the page could read attribute values out with selectors); `style="…"` attributes are
 * allowed (`style-src-attr 'unsafe-inline'`): the dashboard writes them into HTML it builds (a load bar's
 * width, a tree row's depth, a legend's colour), and an attribute can neither load nor select anything.
 * `connect-src 'self'` covers the live stream's ws:/wss: to this host (CSP 3 §6.7.2.6). Images: data: URIs
 * for uPlot's and the charts' inline SVG. No `upgrade-insecure-requests` (helmet's default): on a school
 * LAN the dashboard may be served over plain http, where it would send every request to an https port
 * that is not there.
 */
export const DASHBOARD_CSP: Directives = {
  "default-src": ["'self'"],
  "base-uri": ["'none'"],
  "object-src": ["'none'"],
  "script-src": ["'self'"],
  "script-src-attr": ["'none'"],
  "style-src": ["'self'"],
  "style-src-attr": ["'unsafe-inline'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  "connect-src": ["'self'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
  "upgrade-insecure-requests": null,
};

/** The printable report (`/reports/{site}/{month}`): no script at all, its one style sheet inline in `<style>`. */
export const REPORT_CSP: Directives = {
  ...DASHBOARD_CSP,
  "script-src": ["'none'"],
  "style-src": ["'unsafe-inline'"],
  "connect-src": ["'none'"],
  "form-action": ["'none'"],
};

/**
 * The swagger UI (@fastify/swagger-ui 6, /api/docs): its scripts are files, but Swagger UI's React sets
 * `<style>` elements and loads its icons as data: SVGs. It gets `style-src 'self' 'unsafe-inline'`; scripts
 * stay `'self'` only.
 */
export const SWAGGER_UI_CSP: Directives = {
  ...DASHBOARD_CSP,
  "style-src": ["'self'", "'unsafe-inline'"],
};

/** The header text of a policy, for a route that sets it itself (the swagger UI's `staticCSP`). */
export const cspHeader = (directives: Directives): string =>
  Object.entries(directives)
    .filter((entry): entry is [string, string[]] => entry[1] !== null)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");

const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: DASHBOARD_CSP },
  xFrameOptions: { action: "deny" },
  referrerPolicy: { policy: "no-referrer" },
  // HSTS pins https for a year: behind a real certificate the deployer's proxy may send it; with the
  // demo's self-signed pair (`up --demo --tls`) it would lock a browser out of the click-through.
  strictTransportSecurity: false,
};

const REPORT_PATH = "/reports/";

async function securityHeadersPlugin(app: FastifyInstance): Promise<void> {
  // A route's own helmet options (@fastify/helmet's onRoute hook, added after this one, takes them in);
  // this hook sees every route registered after it, so the plugin is registered before the routes.
  app.addHook("onRoute", (route) => {
    if (route.url.startsWith(REPORT_PATH)) route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: REPORT_CSP } };
  });
  await app.register(fastifyHelmet, HELMET_OPTIONS);
}

/** Registered before the routes; `global`, so JSON answers, errors and 404s carry the headers too. */
export const securityHeaders = fp(securityHeadersPlugin, { name: "campus-power-security-headers" });
