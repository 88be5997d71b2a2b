// Where a webhook message goes (CONTRACT §5, §9), pure: a school's alerts to its own route(s) of the district
// file (`notify: [{site, url, secret_env}]`), every other alert to the global ALERT_WEBHOOK_URL, every
// escalation to ALERT_WEBHOOK_ESCALATION_URL. Each target has its own queue in the outbox (./webhook.ts).
// A route's secret stays in the environment, in the variable the route names: one not set refuses the start,
// naming the variable (never a value).
import type { NotifyRoute } from "../../domain/district/schema.js";
import { ALERT_WEBHOOK_VARIABLES, type AlertWebhookEnv } from "../../domain/env-alerts.js";
import { type FieldsOf, readTable } from "../../domain/env/variable.js";
import { CampusError, ErrorCodes, type Problem } from "../../domain/errors.js";
import type { Message } from "./planner.js";
import type { WebhookTarget } from "./webhook.js";

/** The process environment, as the composition root hands it over (secrets are read from it by name). */
export type Environment = Readonly<Record<string, string | undefined>>;

export const PRIMARY = "primary";
export const SECONDARY = "secondary";

/**
 * A route's target key, saved with each of its outbox entries: `site:{id}`, then `site:{id}#2`… for a
 * site's further routes, so a restart finds each school's undelivered messages again.
 */
export const routeTarget = (site: string, nth: number) => (nth === 0 ? `site:${site}` : `site:${site}#${nth + 1}`);

export interface Targets {
  /** Every target, by key (the sender's). */
  byKey: Readonly<Record<string, WebhookTarget>>;
  /** site → its routes' keys (sites without a route are absent). */
  bySite: ReadonlyMap<string, readonly string[]>;
}

/**
 * The targets of the global webhook (null: ALERT_WEBHOOK_URL unset) and of the routes, with their secrets.
 * Throws a CampusError listing every route whose `secret_env` is unset or empty (CONTRACT §1: empty = unset).
 */
export function webhookTargets(global: AlertWebhookEnv | null, routes: readonly NotifyRoute[], environment: Environment): Targets {
  const byKey: Record<string, WebhookTarget> = {};
  const bySite = new Map<string, string[]>();
  if (global) byKey[PRIMARY] = { url: global.url, secret: global.secret };
  if (global?.escalationUrl) byKey[SECONDARY] = { url: global.escalationUrl, secret: global.escalationSecret };
  const problems: Problem[] = [];
  routes.forEach((route, i) => {
    const secret = environment[route.secret_env];
    if (secret === undefined || secret === "") {
      problems.push({ path: route.secret_env, message: `is not set: notify[${i}] (site ${route.site}) signs its webhook messages with it` });
      return;
    }
    const keys = bySite.get(route.site) ?? [];
    const key = routeTarget(route.site, keys.length);
    bySite.set(route.site, [...keys, key]);
    byKey[key] = { url: route.url, secret };
  });
  if (problems.length > 0) throw new CampusError(ErrorCodes.ENV_INVALID, "a notification route's secret is missing from the environment", problems);
  return { byKey, bySite };
}

/** The targets a message goes to: its site's routes, else the global webhook; none when neither exists. */
export function targetsOf(message: Pick<Message, "target" | "site">, targets: Targets): readonly string[] {
  if (message.target === "secondary") return SECONDARY in targets.byKey ? [SECONDARY] : [];
  return targets.bySite.get(message.site) ?? (PRIMARY in targets.byKey ? [PRIMARY] : []);
}

/** The ALERT_WEBHOOK_* variables that time messages (the others name a target). */
const { ALERT_WEBHOOK_URL: _url, ALERT_WEBHOOK_SECRET: _secret, ALERT_WEBHOOK_ESCALATION_URL: _escalation, ALERT_WEBHOOK_ESCALATION_SECRET: _escalationSecret, ...TIMING_VARIABLES } = ALERT_WEBHOOK_VARIABLES;
export type WebhookTimings = FieldsOf<typeof TIMING_VARIABLES>;

/**
 * Grouping, reminders, escalation, retries and expiry: the ALERT_WEBHOOK_* variables, read with
 * ALERT_WEBHOOK_URL; with school routes alone, their defaults.
 */
export function webhookTimings(global: AlertWebhookEnv | null): WebhookTimings {
  if (global) return global;
  const problems: Problem[] = [];
  const defaults = readTable(TIMING_VARIABLES, {}, problems, {});
  if (problems.length > 0) throw new Error(`the defaults of ALERT_WEBHOOK_* do not parse: ${JSON.stringify(problems)}`);
  return defaults;
}
