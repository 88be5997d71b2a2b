// API_TOKENS (CONTRACT §1, §9): `role:token` entries, comma separated; roles viewer, operator, admin. An
// entry may be scoped to sites of the district: `role@site:token` or `role@site1+site2:token`; unscoped, it
// sees the whole district. Whether the sites exist needs the campus: `tokenSiteProblems`, at start.
import { ID_PATTERN } from "../campus/device-schema.js";
import type { Problem } from "../errors.js";
import type { ValueKind } from "./values.js";

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
export interface ApiToken {
  role: Role;
  token: string;
  /** The sites the token sees (CONTRACT §9); null = the whole district. */
  sites: readonly string[] | null;
}

/** Tokens shorter than this are refused: 16 characters of base64url are 96 bits, beyond guessing online. */
const MIN_TOKEN_LENGTH = 16;
const SITE_ID = new RegExp(ID_PATTERN);
const FORMAT = `must be role:token or role@site:token (sites joined by +), role one of ${ROLES.join(", ")}`;

/** One entry's role and sites (`role` or `role@a+b`), or null when it is not one. */
function roleAndSites(head: string): { role: Role; sites: string[] | null } | null {
  const at = head.indexOf("@");
  const role = (at < 0 ? head : head.slice(0, at)).trim();
  if (!ROLES.includes(role as Role)) return null;
  if (at < 0) return { role: role as Role, sites: null };
  const sites = head.slice(at + 1).split("+").map((site) => site.trim());
  return sites.every((site) => SITE_ID.test(site)) ? { role: role as Role, sites: [...new Set(sites)] } : null;
}

/**
 * `role[@sites]:token` entries, comma separated; every bad entry is a problem at `API_TOKENS[index]` (its
 * position, never the token). The same token twice is refused: which role and scope it carries would be a guess.
 */
export function parseApiTokens(raw: string, problems: Problem[] = []): ApiToken[] {
  if (raw.trim() === "") return [];
  const tokens: ApiToken[] = [];
  const positions = new Map<string, number>();
  for (const [index, entry] of raw.split(",").entries()) {
    const path = `API_TOKENS[${index}]`;
    const separator = entry.indexOf(":");
    const head = separator < 0 ? null : roleAndSites(entry.slice(0, separator));
    const token = entry.slice(separator + 1).trim();
    const earlier = positions.get(token);
    if (head === null) problems.push({ path, message: FORMAT });
    else if (token.length < MIN_TOKEN_LENGTH) problems.push({ path, message: `token must be at least ${MIN_TOKEN_LENGTH} characters` });
    else if (earlier !== undefined) problems.push({ path, message: `repeats the token of API_TOKENS[${earlier}]: give each role and scope its own token` });
    else {
      positions.set(token, index);
      tokens.push({ role: head.role, token, sites: head.sites });
    }
  }
  return tokens;
}

export function formatApiTokens(tokens: readonly ApiToken[]): string {
  return tokens.map((t) => `${t.role}${t.sites ? `@${t.sites.join("+")}` : ""}:${t.token}`).join(",");
}

/**
 * A token scoped to a site the district does not have, as a problem at its position (`API_TOKENS[2]`): the
 * token itself is never in the message. `tokens` are all of API_TOKENS in order (parsed without problems).
 */
export function tokenSiteProblems(tokens: readonly ApiToken[], siteIds: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  tokens.forEach((token, index) => {
    const unknown = (token.sites ?? []).filter((site) => !siteIds.has(site));
    if (unknown.length === 0) return;
    const names = unknown.map((site) => `"${site}"`).join(", ");
    problems.push({ path: `API_TOKENS[${index}]`, message: `is scoped to ${names}, not a site of the district (its sites: ${[...siteIds].join(", ")})` });
  });
  return problems;
}

export const apiTokens = (): ValueKind<readonly ApiToken[]> => ({
  parse(raw) {
    const problems: Problem[] = [];
    const tokens = parseApiTokens(raw, problems);
    return problems.length > 0 ? { ok: false, problems } : { ok: true, value: tokens };
  },
});
