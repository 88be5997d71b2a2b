// Where a message goes (CONTRACT §5, §9, §14), pure. `notify:` routes of the campus or district file, and
// the global ALERT_WEBHOOK_URL, a route of type webhook for everything:
// - a webhook route with a `site` takes that school's messages instead of ALERT_WEBHOOK_URL (§9: "the global
//   ALERT_WEBHOOK_URL receives everything else"); the other schools' go to ALERT_WEBHOOK_URL;
// - every other route (a robot, an e-mail route, a webhook without `site`) gets, besides, the messages of its site (no
//   `site`: of every site) at or above its `min_severity` and of its `rules`;
// - escalations go to ALERT_WEBHOOK_ESCALATION_URL;
// - a route with `digest`, of any type, also gets a daily digest (./digests.ts); ALERT_WEBHOOK_URL has none.
// Each target has its own queue in the outbox (./sender.ts). A route's secret stays in the environment, in
// the variable the route names: one named but not set refuses the start, naming the variable (never a value);
// so do SMTP_URL and SMTP_FROM, missing or malformed, when there is an `email` route.
import { SEVERITIES, type Alert, type Severity } from "../../domain/alert.js";
import { ROBOT_TYPES, type NotifyRoute, type RobotType } from "../../domain/district/schema.js";
import { ALERT_WEBHOOK_VARIABLES, type AlertWebhookEnv, smtpSettingsOf, type SmtpSettings } from "../../domain/env-alerts.js";
import { type FieldsOf, readTable } from "../../domain/env/variable.js";
import { CampusError, ErrorCodes, type Problem } from "../../domain/errors.js";
import type { EmailRoute } from "./email-channel.js";
import type { Message } from "./planner.js";
import type { RobotRoute } from "./robot-channel.js";
import type { WebhookTarget } from "./webhook.js";

/** The process environment, as the composition root hands it over (secrets are read from it by name). */
export type Environment = Readonly<Record<string, string | undefined>>;

export const PRIMARY = "primary";
export const SECONDARY = "secondary";

/**
 * A school's webhook route's target key, saved with each of its outbox entries: `site:{id}`, then
 * `site:{id}#2`… for a site's further webhook routes, so a restart finds each school's undelivered messages again.
 */
export const routeTarget = (site: string, nth: number) => (nth === 0 ? `site:${site}` : `site:${site}#${nth + 1}`);
/** Any other route's key: its `name`, else its type and place in `notify:` (`dingtalk@2`). */
export const otherRouteTarget = (route: NotifyRoute, index: number) => route.name ?? `${route.type ?? "webhook"}@${index}`;

/** Which alerts a route wants (CONTRACT §14 `site`, `min_severity`, `rules`). */
export interface RouteFilter {
  site?: string;
  min_severity?: Severity;
  rules?: readonly string[];
}

export interface Targets {
  /** Every webhook target, by key (the sender's). */
  byKey: Readonly<Record<string, WebhookTarget>>;
  /** Every robot target, by key. */
  robots: Readonly<Record<string, RobotRoute>>;
  /** Every e-mail target, by key, and the server they send through (null: there is none). */
  emails: Readonly<Record<string, EmailRoute>>;
  smtp: SmtpSettings | null;
  /** The routes with a daily digest: target key, "HH:MM", and what the route wants. */
  digests: readonly DigestRoute[];
  /** site → its webhook routes' keys (sites without one are absent). */
  bySite: ReadonlyMap<string, readonly string[]>;
  /** The routes told besides (robots, e-mail, webhooks without a site), with what each wants. */
  alongside: ReadonlyMap<string, RouteFilter>;
}

export interface DigestRoute {
  key: string;
  time: string;
  filter: RouteFilter;
}

const isRobot = (type: string): type is RobotType => (ROBOT_TYPES as readonly string[]).includes(type);
const rank = (severity: Severity) => SEVERITIES.indexOf(severity);

/** Whether a route wants this alert. */
export const wants = (filter: RouteFilter, alert: Pick<Alert, "site" | "severity" | "rule">) =>
  (filter.site === undefined || filter.site === alert.site) &&
  (filter.min_severity === undefined || rank(alert.severity) <= rank(filter.min_severity)) &&
  (filter.rules === undefined || filter.rules.includes(alert.rule));

/**
 * The targets of the global webhook (null: ALERT_WEBHOOK_URL unset) and of the routes, with their secrets.
 * Throws a CampusError listing every route whose `secret_env` is unset or empty (CONTRACT §1: empty = unset),
 * and SMTP_URL or SMTP_FROM missing or malformed when some route is an `email` one.
 */
export function webhookTargets(global: AlertWebhookEnv | null, routes: readonly NotifyRoute[], environment: Environment): Targets {
  const byKey: Record<string, WebhookTarget> = {};
  const robots: Record<string, RobotRoute> = {};
  const emails: Record<string, EmailRoute> = {};
  const digests: DigestRoute[] = [];
  const bySite = new Map<string, string[]>();
  const alongside = new Map<string, RouteFilter>();
  if (global) byKey[PRIMARY] = { url: global.url, secret: global.secret };
  if (global?.escalationUrl) byKey[SECONDARY] = { url: global.escalationUrl, secret: global.escalationSecret };
  const problems: Problem[] = [];
  const emailRoutes = routes.flatMap((route, i) => (route.type === "email" ? [i] : []));
  const smtp = smtpSettingsOf(environment, emailRoutes, problems);
  let missingSecret = false;
  routes.forEach((route, i) => {
    const type = route.type ?? "webhook";
    const where = route.site === undefined ? type : `site ${route.site}`;
    const secret = route.secret_env === undefined ? undefined : environment[route.secret_env];
    if (route.secret_env !== undefined && (secret === undefined || secret === "")) {
      missingSecret = true;
      problems.push({ path: route.secret_env, message: `is not set: notify[${i}] (${where}) signs its ${type === "webhook" ? "webhook " : ""}messages with it` });
      return;
    }
    const filter: RouteFilter = { ...(route.site ? { site: route.site } : {}), ...(route.min_severity ? { min_severity: route.min_severity } : {}), ...(route.rules ? { rules: route.rules } : {}) };
    // §9's school webhook (a site, no filter) is that school's instead of the global one; the rest are told besides.
    const school = type === "webhook" && route.min_severity === undefined && route.rules === undefined ? route.site : undefined;
    const key = school === undefined ? otherRouteTarget(route, i) : routeTarget(school, bySite.get(school)?.length ?? 0);
    // zh-CN by default for e-mail too: the people who read it are the robots' (docs/notifications.md).
    if (type === "email") emails[key] = { to: route.to!, lang: route.lang ?? "zh-CN" };
    else if (isRobot(type)) robots[key] = { type, url: route.url!, secret, lang: route.lang ?? "zh-CN", mentions: route.mention_mobiles ?? [] };
    else byKey[key] = { url: route.url!, secret: secret! };
    if (school === undefined) alongside.set(key, filter);
    else bySite.set(school, [...(bySite.get(school) ?? []), key]);
    // Any route may carry a digest (CONTRACT §14); a webhook's is JSON for its machine (./digest-webhook.ts).
    if (route.digest !== undefined) digests.push({ key, time: route.digest, filter });
  });
  if (problems.length > 0) {
    const message = missingSecret && problems.every((p) => !p.path.startsWith("notify[") && !p.path.startsWith("SMTP_")) ? "a notification route's secret is missing from the environment" : "notification routes cannot start";
    throw new CampusError(ErrorCodes.ENV_INVALID, message, problems);
  }
  return { byKey, robots, emails, smtp, digests, bySite, alongside };
}

/**
 * The targets a message goes to: its site's webhook routes, else the global webhook; and every route besides
 * for its site (which of the message's alerts each wants: `wants`, with `targets.alongside.get(key)`).
 */
export function targetsOf(message: Pick<Message, "target" | "site">, targets: Targets): readonly string[] {
  if (message.target === "secondary") return SECONDARY in targets.byKey ? [SECONDARY] : [];
  const webhooks = targets.bySite.get(message.site) ?? (PRIMARY in targets.byKey ? [PRIMARY] : []);
  const besides = [...targets.alongside].filter(([, filter]) => filter.site === undefined || filter.site === message.site).map(([key]) => key);
  return [...webhooks, ...besides];
}

/** The ALERT_WEBHOOK_* variables that time messages (the others name a target). */
const { ALERT_WEBHOOK_URL: _url, ALERT_WEBHOOK_SECRET: _secret, ALERT_WEBHOOK_ESCALATION_URL: _escalation, ALERT_WEBHOOK_ESCALATION_SECRET: _escalationSecret, ...TIMING_VARIABLES } = ALERT_WEBHOOK_VARIABLES;
export type WebhookTimings = FieldsOf<typeof TIMING_VARIABLES>;

/**
 * Grouping, reminders, escalation, retries and expiry: the ALERT_WEBHOOK_* variables, read with
 * ALERT_WEBHOOK_URL; with routes alone, their defaults.
 */
export function webhookTimings(global: AlertWebhookEnv | null): WebhookTimings {
  if (global) return global;
  const problems: Problem[] = [];
  const defaults = readTable(TIMING_VARIABLES, {}, problems, {});
  if (problems.length > 0) throw new Error(`the defaults of ALERT_WEBHOOK_* do not parse: ${JSON.stringify(problems)}`);
  return defaults;
}
