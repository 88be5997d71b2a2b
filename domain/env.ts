// 12-factor configuration (CONTRACT §1): every variable has a default, is read once, and every problem is
// listed. The variables, their defaults, meanings and readers are one schema: ./env/variables.ts (and the
// webhook's, ./env-alerts.ts); this module reads the environment through it.
import { ALERT_WEBHOOK_VARIABLES, type AlertWebhookEnv } from "./env-alerts.js";
import { type Command, readTable, type FieldsOf, textOf } from "./env/variable.js";
import { transportProblems } from "./env/transport.js";
import { ENV_VARIABLES } from "./env/variables.js";
import { CampusError, ErrorCodes, type Problem } from "./errors.js";

export { type ApiToken, formatApiTokens, parseApiTokens, type Role, ROLES } from "./env/api-tokens.js";
export { DEMO_CAMPUS_FILE } from "./env/variables.js";

/** The secrets a starting command may require; outside `up --demo` they have no default. */
export const SECRET_VARIABLES = ["DEVICE_GROUP_KEY", "API_TOKENS", "SERVICE_PASSWORD"] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

export type Env = FieldsOf<typeof ENV_VARIABLES> & {
  /** Alert webhook (CONTRACT §5, docs/alerts.md); null when ALERT_WEBHOOK_URL is unset. */
  readonly alertWebhook: AlertWebhookEnv | null;
};

/** The secrets `command` cannot start without (outside `up --demo`), from the schema's `requiredBy`. */
export function requiredFor(command: Command): SecretVariable[] {
  return SECRET_VARIABLES.filter((name) => (ENV_VARIABLES[name].requiredBy ?? []).includes(command));
}

const isUnset = (value: unknown) => value === "" || (Array.isArray(value) && value.length === 0);

/**
 * Reads the environment. `required` lists the secrets the starting command cannot run without;
 * a missing one is a problem (the demo fills them in before calling this).
 */
export function readEnv(source: NodeJS.ProcessEnv, required: readonly SecretVariable[] = []): Env {
  const problems: Problem[] = [];
  const byName: Record<string, unknown> = {};
  const fields = readTable(ENV_VARIABLES, source, problems, byName);
  problems.push(...transportProblems(fields));
  const webhookWanted = textOf(source, "ALERT_WEBHOOK_URL", ALERT_WEBHOOK_VARIABLES.ALERT_WEBHOOK_URL, byName) !== "";
  const alertWebhook = webhookWanted ? readTable(ALERT_WEBHOOK_VARIABLES, source, problems, byName) : null;
  if (alertWebhook?.secret === "") problems.push({ path: "ALERT_WEBHOOK_SECRET", message: "is required with ALERT_WEBHOOK_URL (the body is signed with it)" });
  for (const name of required) {
    // A secret given but refused is already listed with what is wrong with it.
    const refused = problems.some((p) => p.path === name || p.path.startsWith(`${name}[`));
    if (isUnset(byName[name]) && !refused) problems.push({ path: name, message: "is required (it has no default outside --demo)" });
  }
  if (problems.length > 0) throw new CampusError(ErrorCodes.ENV_INVALID, "the environment is invalid", problems);
  return Object.freeze({ ...fields, alertWebhook: alertWebhook && Object.freeze(alertWebhook) });
}
