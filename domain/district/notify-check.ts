// Every problem of a `notify:` list (CONTRACT §14), in words a deployer can act on, path by path: an unknown
// type, a robot without its url, an e-mail route without `to` or with one that is not an address, a mention
// that is not a mobile number, a route to an unknown site, a bad min_severity / rule id / lang / digest time.
// Any route may carry a digest, a webhook's included (CONTRACT §14). Pure; the campus and the district file
// share it (./parse.ts). The schema (./schema.ts) gives the type; this gives the messages,
// and the rules between fields that a schema cannot say. A `secret_env` not set is the start's to refuse
// (alerts/notify/routes.ts): a file is checked without the environment it will run in. The environment an
// e-mail route needs (SMTP_URL, SMTP_FROM) is `emailEnvironmentProblems`'s, which check-config adds.
import { RULE_IDS, SEVERITIES } from "../alert.js";
import { ID_PATTERN } from "../campus/device-schema.js";
import type { Problem } from "../errors.js";
import { isJsonObject } from "../json-object.js";
import { smtpSettingsOf } from "../env-alerts.js";
import { DIGEST_TIME_PATTERN, MOBILE_PATTERN, type NotifyRoute, NotifyRouteSchema, ROUTE_LANGUAGES, ROUTE_TYPES } from "./schema.js";

const KEYS = new Set(Object.keys(NotifyRouteSchema.properties));
const oneOf = (words: readonly string[]) => words.map((w) => JSON.stringify(w)).join(", ");

/** What is wrong with one field's value, or null. */
type FieldCheck = (value: unknown) => string | null;
const matching = (pattern: string, what: string): FieldCheck => (v) => (typeof v === "string" && new RegExp(pattern).test(v) ? null : `${JSON.stringify(v)} ${what}`);
const among = (words: readonly string[], what: string): FieldCheck => (v) => (typeof v === "string" && words.includes(v) ? null : `unknown ${what} ${JSON.stringify(v)}: one of ${oneOf(words)}`);

const FIELD_CHECKS: Record<string, FieldCheck> = {
  type: among(ROUTE_TYPES, "type"),
  name: matching(ID_PATTERN, "is not a name: lowercase letters, digits and \"-\""),
  url: matching("^https?://[^/]", "is not an http:// or https:// address"),
  secret_env: matching("^[A-Za-z_][A-Za-z0-9_]*$", "is not an environment variable's name (the secret itself never goes in the file)"),
  site: matching(ID_PATTERN, "is not a site id"),
  min_severity: among(SEVERITIES, "severity"),
  lang: among(ROUTE_LANGUAGES, "language"),
  digest: matching(DIGEST_TIME_PATTERN, "is not a time of day \"HH:MM\" (24-hour)"),
};
/** Lists: each item checked, problems at `field[j]`. */
const ITEM_CHECKS: Record<string, FieldCheck> = {
  to: matching("^[^@\\s]+@[^@\\s]+$", "is not an e-mail address"),
  rules: among(RULE_IDS, "rule id"),
  mention_mobiles: matching(MOBILE_PATTERN, "is not a mobile number (11 digits starting with 1)"),
};

/**
 * The problems of `raw` (the file's `notify`, anything), paths `notify[i].field`. `sites`: the file's site
 * ids (a campus file: its own), so a route to another is named.
 */
export function checkNotifyRoutes(raw: unknown, sites: ReadonlySet<string>): Problem[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return [{ path: "notify", message: "must be a list of routes" }];
  const problems: Problem[] = [];
  const names = new Map<string, number>();
  raw.forEach((route: unknown, i) => {
    const at = (field: string, message: string) => problems.push({ path: `notify[${i}]${field ? `.${field}` : ""}`, message });
    if (!isJsonObject(route)) return at("", "must be a route: {type, url, ...}");
    for (const key of Object.keys(route)) if (!KEYS.has(key)) at(key, "unknown key");
    for (const [field, check] of Object.entries(FIELD_CHECKS)) {
      const problem = route[field] === undefined ? null : check(route[field]);
      if (problem) at(field, problem);
    }
    for (const [field, check] of Object.entries(ITEM_CHECKS)) {
      const list = route[field];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0) at(field, "must be a non-empty list");
      else list.forEach((item: unknown, j) => {
        const problem = check(item);
        if (problem) at(`${field}[${j}]`, problem);
      });
    }
    const type = route.type ?? "webhook";
    if (type !== "email" && route.url === undefined) at("url", `is required for a ${String(type)} route`);
    if (type === "email" && route.to === undefined) at("to", "is required for an email route (the addresses to write to)");
    if (type !== "email" && route.to !== undefined) at("to", `is for email routes only (a ${String(type)} route sends to its url)`);
    // CONTRACT §5: a webhook body is always signed (X-Campus-Signature); the robots' signing is optional.
    if (type === "webhook" && route.secret_env === undefined) at("secret_env", "is required for a webhook route (its messages are signed with that secret)");
    if (typeof route.site === "string" && !sites.has(route.site)) at("site", `unknown site "${route.site}"`);
    if (typeof route.name === "string") {
      const first = names.get(route.name);
      if (first !== undefined) at("name", `"${route.name}" is already the name of notify[${first}]`);
      else names.set(route.name, i);
    }
  });
  return problems;
}

/**
 * SMTP_URL and SMTP_FROM missing or malformed while `routes` hold an `email` route, each named once (never
 * its value): what `check-config` lists besides the file's problems, and the start refuses.
 */
export function emailEnvironmentProblems(routes: readonly NotifyRoute[], environment: Readonly<Record<string, string | undefined>>): Problem[] {
  const problems: Problem[] = [];
  smtpSettingsOf(environment, routes.flatMap((route, i) => (route.type === "email" ? [i] : [])), problems);
  return problems;
}
