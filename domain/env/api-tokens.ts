// API_TOKENS (CONTRACT §1): `role:token` pairs, comma separated; roles viewer, operator, admin.
import type { Problem } from "../errors.js";
import type { ValueKind } from "./values.js";

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
export interface ApiToken {
  role: Role;
  token: string;
}

/** Tokens shorter than this are refused: 16 characters of base64url are 96 bits, beyond guessing online. */
const MIN_TOKEN_LENGTH = 16;

/** `role:token` pairs, comma separated; every bad pair is a problem at `API_TOKENS[index]`. */
export function parseApiTokens(raw: string, problems: Problem[] = []): ApiToken[] {
  if (raw.trim() === "") return [];
  const tokens: ApiToken[] = [];
  raw.split(",").forEach((pair, index) => {
    const separator = pair.indexOf(":");
    const role = pair.slice(0, separator).trim();
    const token = pair.slice(separator + 1).trim();
    if (separator < 0 || !ROLES.includes(role as Role)) {
      problems.push({ path: `API_TOKENS[${index}]`, message: `must be role:token with role one of ${ROLES.join(", ")}` });
    } else if (token.length < MIN_TOKEN_LENGTH) {
      problems.push({ path: `API_TOKENS[${index}]`, message: `token must be at least ${MIN_TOKEN_LENGTH} characters` });
    } else tokens.push({ role: role as Role, token });
  });
  return tokens;
}

export function formatApiTokens(tokens: readonly ApiToken[]): string {
  return tokens.map((t) => `${t.role}:${t.token}`).join(",");
}

export const apiTokens = (): ValueKind<readonly ApiToken[]> => ({
  parse(raw) {
    const problems: Problem[] = [];
    const tokens = parseApiTokens(raw, problems);
    return problems.length > 0 ? { ok: false, problems } : { ok: true, value: tokens };
  },
});
