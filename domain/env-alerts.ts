// The alert webhook's environment (CONTRACT §5 ALERT_WEBHOOK_URL / ALERT_WEBHOOK_SECRET, plus the
// extensions in docs/alerts.md): part of the one environment schema (./env/variables.ts), read by
// readEnv (./env.ts) only when ALERT_WEBHOOK_URL is set.
import type { Problem } from "./errors.js";
import { type FieldsOf, readTable, variable } from "./env/variable.js";
import { duration, durationsPerSeverity, httpUrl, LONGEST_CLOCK_SPAN_MS, LONGEST_TIMER_MS, optionalHttpUrl, optionalMailbox, optionalSmtpUrl, secret } from "./env/values.js";


export const SEVERITY_NAMES = ["critical", "major", "minor", "warning", "info"] as const;
export type SeverityName = (typeof SEVERITY_NAMES)[number];

const READ_BY = ["up", "alerts"] as const;
/** A delay handed to a timer (the grouping window, a retry, one attempt's timeout). */
const TIMER_LIMIT = { ms: LONGEST_TIMER_MS, why: "Node's longest timer (about 24.8 days)" };
/** A span added to the clock (message expiry, reminders, escalation). */
const CLOCK_LIMIT = { ms: LONGEST_CLOCK_SPAN_MS, why: "the longest span a JavaScript date can hold" };

export const ALERT_WEBHOOK_VARIABLES = {
  ALERT_WEBHOOK_URL: variable({
    field: "url",
    value: httpUrl(),
    default: "",
    shownDefault: "unset",
    meaning: "webhook target: every change of an alert is POSTed to it (CONTRACT §5); the other `ALERT_WEBHOOK_*` variables are read only when it is set",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_SECRET: variable({
    field: "secret",
    value: secret(),
    default: "",
    shownDefault: "unset; required with `ALERT_WEBHOOK_URL`",
    meaning: "HMAC-SHA256 key of the body's `X-Campus-Signature`",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_ESCALATION_URL: variable({
    field: "escalationUrl",
    value: optionalHttpUrl(),
    default: "",
    shownDefault: "unset",
    meaning: "second target, told once when an alert stays unacknowledged (`ALERT_WEBHOOK_ESCALATE_AFTER`)",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_ESCALATION_SECRET: variable({
    field: "escalationSecret",
    value: secret(),
    default: (earlier) => String(earlier.ALERT_WEBHOOK_SECRET),
    shownDefault: "`ALERT_WEBHOOK_SECRET`",
    meaning: "HMAC key for the second target",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_GROUP: variable({
    field: "groupWindowMs",
    value: duration({ zero: "allowed", max: TIMER_LIMIT }),
    default: "3s",
    meaning: "per-building grouping window (Alertmanager's group_wait); 0 = none",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_REPEAT: variable({
    field: "repeatMs",
    // Alertmanager's repeat_interval idea, shorter for higher severity (domain.md §5 "ReAlarmTime").
    value: durationsPerSeverity(SEVERITY_NAMES, { zero: "refused", max: CLOCK_LIMIT, leftOut: "a severity left out gets no reminders" }),
    default: "critical:15m,major:30m,minor:4h,warning:4h",
    meaning: "reminder interval per severity while unacknowledged (a severity left out: none)",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_ESCALATE_AFTER: variable({
    field: "escalateMs",
    // domain.md §8 severity table: P1 escalates after 5 min without acknowledgement, P2 after 30 min.
    value: durationsPerSeverity(SEVERITY_NAMES, { zero: "refused", max: CLOCK_LIMIT, leftOut: "a severity left out is never escalated" }),
    default: "critical:5m,major:30m",
    meaning: "time without acknowledgement before the second target is told, per severity",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_EXPIRE: variable({
    field: "expireMs",
    value: duration({ zero: "refused", max: CLOCK_LIMIT }),
    default: "24h",
    meaning: "an undelivered message is dropped (and counted) after this",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_RETRY: variable({
    field: "retryMs",
    value: duration({ zero: "refused", max: TIMER_LIMIT }),
    default: "1s",
    meaning: "first retry delay; doubles per attempt, at most 5 min",
    readBy: READ_BY,
  }),
  ALERT_WEBHOOK_TIMEOUT: variable({
    field: "timeoutMs",
    value: duration({ zero: "refused", max: TIMER_LIMIT }),
    default: "5s",
    meaning: "one delivery attempt's timeout",
    readBy: READ_BY,
  }),
};

/** The webhook's settings (durations in ms), as `ALERT_WEBHOOK_VARIABLES` reads them. */
export type AlertWebhookEnv = FieldsOf<typeof ALERT_WEBHOOK_VARIABLES>;

/**
 * CONTRACT §14: where the dashboard is, for the link in every notification. Read from the environment the
 * alerts service is handed (like the routes' secrets), whether or not ALERT_WEBHOOK_URL is set.
 */
export const NOTIFY_VARIABLES = {
  PUBLIC_URL: variable({
    field: "publicUrl",
    value: optionalHttpUrl(),
    default: "",
    shownDefault: "`http://localhost:${HTTP_PORT}`",
    meaning: "the dashboard's address as people reach it: notifications link to the alert there (CONTRACT §14)",
    readBy: READ_BY,
  }),
  SMTP_URL: variable({
    field: "smtpUrl",
    value: optionalSmtpUrl(),
    default: "",
    shownDefault: "unset; required with an `email` route",
    meaning: "the SMTP server of `email` routes (CONTRACT §14): `smtps://user:password@host:465` (implicit TLS) or `smtp://…:587` (STARTTLS when offered); user and password percent-encoded",
    readBy: READ_BY,
  }),
  SMTP_FROM: variable({
    field: "smtpFrom",
    value: optionalMailbox(),
    default: "",
    shownDefault: "unset; required with an `email` route",
    meaning: "the sender of `email` routes' mail: `alerts@school.example` or `校园用电 <alerts@school.example>`",
    readBy: READ_BY,
  }),
};

type Environment = Readonly<Record<string, string | undefined>>;

/** Where `email` routes send from. */
export interface SmtpSettings {
  url: string;
  from: string;
}

const readNotifyVariables = (environment: Environment, problems: Problem[]) =>
  readTable(NOTIFY_VARIABLES, { PUBLIC_URL: environment.PUBLIC_URL, SMTP_URL: environment.SMTP_URL, SMTP_FROM: environment.SMTP_FROM }, problems, {});

/**
 * SMTP_URL and SMTP_FROM when some route is an `email` one (`emailRoutes`: their places in `notify:`, for the
 * messages), else null; each one missing or malformed is a problem naming the variable, never its value.
 */
export function smtpSettingsOf(environment: Environment, emailRoutes: readonly number[], problems: Problem[]): SmtpSettings | null {
  if (emailRoutes.length === 0) return null;
  const found: Problem[] = [];
  const { smtpUrl, smtpFrom } = readNotifyVariables(environment, found);
  const smtp = found.filter((p) => p.path.startsWith("SMTP_"));
  const routes = emailRoutes.map((i) => `notify[${i}]`).join(", ");
  if (smtpUrl === null && smtp.every((p) => p.path !== "SMTP_URL")) smtp.push({ path: "SMTP_URL", message: `is not set: ${routes} (email) sends through it` });
  if (smtpFrom === null && smtp.every((p) => p.path !== "SMTP_FROM")) smtp.push({ path: "SMTP_FROM", message: `is not set: ${routes} (email) sends from it` });
  problems.push(...smtp);
  return smtp.length === 0 ? { url: smtpUrl!, from: smtpFrom! } : null;
}

/** PUBLIC_URL without a trailing slash, or `http://localhost:${httpPort}`; a malformed one is a problem named PUBLIC_URL. */
export function publicUrlOf(environment: Environment, httpPort: number, problems: Problem[]): string {
  const found: Problem[] = [];
  const { publicUrl } = readNotifyVariables(environment, found);
  problems.push(...found.filter((p) => p.path === "PUBLIC_URL"));
  return (publicUrl ?? `http://localhost:${httpPort}`).replace(/\/+$/, "");
}
