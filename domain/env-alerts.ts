// The alert webhook's environment (CONTRACT §5 ALERT_WEBHOOK_URL / ALERT_WEBHOOK_SECRET, plus the
// extensions documented in docs/alerts.md and the README), read by readEnv in env.ts.
import type { Problem } from "./errors.js";

export const SEVERITY_NAMES = ["critical", "major", "minor", "warning", "info"] as const;
export type SeverityName = (typeof SEVERITY_NAMES)[number];

export interface AlertWebhookEnv {
  url: string;
  secret: string;
  /** Second target for unacknowledged alerts (ALERT_WEBHOOK_ESCALATION_URL), or null. */
  escalationUrl: string | null;
  /** ALERT_WEBHOOK_ESCALATION_SECRET, default ALERT_WEBHOOK_SECRET. */
  escalationSecret: string;
  /** Per-building grouping window, ms (ALERT_WEBHOOK_GROUP, default 3s). */
  groupWindowMs: number;
  /** Reminder interval per severity while unacknowledged, ms (ALERT_WEBHOOK_REPEAT; absent = never). */
  repeatMs: Partial<Record<SeverityName, number>>;
  /** Time without acknowledgement before the second target is told, ms (ALERT_WEBHOOK_ESCALATE_AFTER). */
  escalateMs: Partial<Record<SeverityName, number>>;
  /** How long an undelivered message is kept, ms (ALERT_WEBHOOK_EXPIRE, default 24h). */
  expireMs: number;
  /** First retry delay, ms (ALERT_WEBHOOK_RETRY, default 1s; doubles per attempt up to 5 min). */
  retryMs: number;
  /** One delivery attempt's timeout, ms (ALERT_WEBHOOK_TIMEOUT, default 5s). */
  timeoutMs: number;
}

/** `1500`, `500ms`, `30s`, `15m`, `4h`, `1d` → ms; NaN when unreadable. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return NaN;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "ms") as "ms"];
  return Number(m[1]) * unit;
}

/** `critical:15m,major:30m` → per-severity ms. */
function parseSeverityDurations(name: string, raw: string, problems: Problem[]): Partial<Record<SeverityName, number>> {
  const out: Partial<Record<SeverityName, number>> = {};
  for (const pair of raw.split(",").filter((x) => x.trim() !== "")) {
    const [severity, value] = pair.split(":").map((x) => x.trim());
    const ms = parseDurationMs(value ?? "");
    if (!SEVERITY_NAMES.includes(severity as SeverityName) || Number.isNaN(ms)) problems.push({ path: name, message: `must be severity:duration pairs, e.g. critical:15m,major:30m (got "${pair}")` });
    else out[severity as SeverityName] = ms;
  }
  return out;
}

export function readAlertWebhook(text: (name: string, fallback: string) => string, problems: Problem[]): AlertWebhookEnv | null {
  const url = text("ALERT_WEBHOOK_URL", "");
  if (url === "") return null;
  const duration = (name: string, fallback: string) => {
    const ms = parseDurationMs(text(name, fallback));
    if (Number.isNaN(ms)) problems.push({ path: name, message: "must be a duration such as 500ms, 30s, 15m, 4h" });
    return Number.isNaN(ms) ? parseDurationMs(fallback) : ms;
  };
  for (const name of ["ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_ESCALATION_URL"]) {
    const value = text(name, "");
    if (value !== "" && !/^https?:\/\/[^/]/.test(value)) problems.push({ path: name, message: "must be an http(s) URL" });
  }
  const secret = text("ALERT_WEBHOOK_SECRET", "");
  if (secret === "") problems.push({ path: "ALERT_WEBHOOK_SECRET", message: "is required with ALERT_WEBHOOK_URL (the body is signed with it)" });
  const escalationUrl = text("ALERT_WEBHOOK_ESCALATION_URL", "");
  return {
    url,
    secret,
    escalationUrl: escalationUrl === "" ? null : escalationUrl,
    escalationSecret: text("ALERT_WEBHOOK_ESCALATION_SECRET", secret),
    groupWindowMs: duration("ALERT_WEBHOOK_GROUP", "3s"),
    // Reminders: Alertmanager's repeat_interval idea, shorter for higher severity (domain.md §5 "ReAlarmTime").
    repeatMs: parseSeverityDurations("ALERT_WEBHOOK_REPEAT", text("ALERT_WEBHOOK_REPEAT", "critical:15m,major:30m,minor:4h,warning:4h"), problems),
    // domain.md §8 severity table: P1 escalates after 5 min without acknowledgement, P2 after 30 min.
    escalateMs: parseSeverityDurations("ALERT_WEBHOOK_ESCALATE_AFTER", text("ALERT_WEBHOOK_ESCALATE_AFTER", "critical:5m,major:30m"), problems),
    expireMs: duration("ALERT_WEBHOOK_EXPIRE", "24h"),
    retryMs: duration("ALERT_WEBHOOK_RETRY", "1s"),
    timeoutMs: duration("ALERT_WEBHOOK_TIMEOUT", "5s"),
  };
}
