// Named accounts (CONTRACT §9 "People and their scope"): the users file's schema, what makes a name, a role,
// a set of sites and a password acceptable, and the password hash. Pure: the salt is the caller's (random
// bytes from infra or the CLI), and nothing here reads a file or a clock. docs/accounts.md explains the choices.
import { scrypt, timingSafeEqual } from "node:crypto";
import { type Static, Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type Role, ROLES } from "./env.js";
import type { Problem } from "./errors.js";
import { literalUnion } from "./schema.js";

/**
 * A person's sign-in name: lowercase ASCII letters and digits, with `.`, `_` or `-` inside, at most 64
 * characters. Lowercase only, so "Wang" and "wang" are never two accounts; no `:`, so an account's name
 * can never look like an API token's principal (`operator:1a2b3c4d`) in `acknowledged_by` or `issued_by`.
 */
export const ACCOUNT_NAME_PATTERN = "^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$";
const ACCOUNT_NAME = new RegExp(ACCOUNT_NAME_PATTERN);

/**
 * NIST SP 800-63B-4 (2024) §3.1.1.2: a password used as the only factor SHALL have at least 15 characters
 * (Rev. 3 of 2017 said 8), SHALL NOT need composition rules, and SHOULD be allowed at least 64; each
 * Unicode code point counts as one character. The upper bound only keeps a request body small.
 */
export const PASSWORD_MIN_CHARACTERS = 15;
export const PASSWORD_MAX_CHARACTERS = 1024;

/**
 * scrypt, OWASP Password Storage Cheat Sheet: N = 2^17, r = 8, p = 1 (128 MiB and about 0.6 s per hash on
 * the 2-core test machine: docs/accounts.md). Stored with every hash, so they can be raised later; a hash
 * made with older ones keeps verifying until `user passwd` replaces it.
 */
export interface ScryptParams {
  /** log2 of N, the CPU/memory cost. */
  logN: number;
  /** Block size; memory per hash is 128 × N × r bytes. */
  r: number;
  /** Parallelism (computed one after another by node). */
  p: number;
}
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { logN: 17, r: 8, p: 1 };
/** Salt and derived key, bytes: a 128-bit salt (NIST SP 800-132 §5.1 asks ≥ 128 bits), a 256-bit key. */
export const SALT_BYTES = 16;
export const KEY_BYTES = 32;
/** Bounds a stored hash's parameters must meet, so an edited users file cannot ask for gigabytes per login. */
const PARAM_BOUNDS = { logN: [10, 20], r: [1, 32], p: [1, 16] } as const;

export const AccountSchema = T.Object(
  {
    name: T.String({ pattern: ACCOUNT_NAME_PATTERN }),
    role: literalUnion(ROLES),
    /** The sites the person sees; null = the whole district (CONTRACT §9). */
    sites: T.Union([T.Array(T.String({ minLength: 1 })), T.Null()]),
    /** PHC string format: `$scrypt$ln=17,r=8,p=1$<salt>$<key>` (base64 without padding). */
    password_hash: T.String(),
    created_at: T.String({ description: "ISO 8601" }),
    password_changed_at: T.String({ description: "ISO 8601" }),
  },
  { additionalProperties: false },
);
export type Account = Static<typeof AccountSchema>;

export const UsersFileSchema = T.Object({ version: T.Literal(1), users: T.Array(AccountSchema) }, { additionalProperties: false });
export type UsersFile = Static<typeof UsersFileSchema>;
export const EMPTY_USERS_FILE: UsersFile = { version: 1, users: [] };

/** The users file's accounts, or every problem (path and message) found in its text. */
export function parseUsersFile(text: string): { ok: true; file: UsersFile } | { ok: false; problems: Problem[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [{ path: "(file)", message: `not JSON: ${(error as Error).message}` }] };
  }
  if (!Value.Check(UsersFileSchema, raw)) return { ok: false, problems: [...Value.Errors(UsersFileSchema, raw)].map((e) => ({ path: e.path || "(file)", message: e.message })) };
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const [index, account] of raw.users.entries()) {
    if (seen.has(account.name)) problems.push({ path: `/users/${index}/name`, message: `"${account.name}" appears twice` });
    seen.add(account.name);
    if (parsePasswordHash(account.password_hash) === null) problems.push({ path: `/users/${index}/password_hash`, message: "is not an scrypt hash this version can check" });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, file: raw };
}

/** A name as typed at sign-in, as the account would spell it (a phone keyboard capitalises the first letter). */
export const normaliseAccountName = (typed: string) => typed.trim().toLowerCase();

/** Why a name cannot be an account's, or null when it can. */
export function nameProblem(name: string): string | null {
  if (ACCOUNT_NAME.test(name)) return null;
  return `"${name}" is not a valid user name: 1 to 64 lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit`;
}

export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

/** Problems of a new account's role and sites, against the district's site ids. */
export function accountProblems(role: string, sites: readonly string[] | null, knownSites: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  if (!isRole(role)) problems.push({ path: "--role", message: `"${role}" is not a role: one of ${ROLES.join(", ")}` });
  for (const site of sites ?? []) {
    if (!knownSites.includes(site)) problems.push({ path: "--site", message: `no site "${site}" in the campus file (sites: ${knownSites.join(", ")})` });
  }
  return problems;
}

/** NIST SP 800-63B §3.1.1.2 (Rev. 4): normalise with NFKC before hashing, so the same typed text always matches. */
export const normalisePassword = (password: string) => password.normalize("NFKC");

/** Why a password cannot be chosen, or null. No composition rules (NIST: they SHALL NOT be imposed). */
export function passwordProblem(password: string, name: string): string | null {
  const normalised = normalisePassword(password);
  const characters = [...normalised].length;
  if (characters < PASSWORD_MIN_CHARACTERS) return `the password must have at least ${PASSWORD_MIN_CHARACTERS} characters (it has ${characters}); a few words make a good one`;
  if (characters > PASSWORD_MAX_CHARACTERS) return `the password may have at most ${PASSWORD_MAX_CHARACTERS} characters`;
  // NIST SP 800-63B-4 §3.1.1.2: refuse context-specific words (the user name, the service's name); a name of
  // one to three characters would refuse too much.
  const lower = normalised.toLowerCase();
  const words = [...(name.length >= 4 ? [name] : []), "campus-power", "campuspower"];
  if (words.some((word) => lower.includes(word))) return "the password must not contain the user name or the product's name";
  if (new Set(normalised).size === 1) return "the password must not be one character repeated";
  return null;
}

const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");
const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

/** A stored hash's parts, or null when it is not an scrypt PHC string within the bounds. */
export function parsePasswordHash(encoded: string): ParsedHash | null {
  const match = PHC.exec(encoded);
  if (!match) return null;
  const params: ScryptParams = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const inBounds = (Object.keys(PARAM_BOUNDS) as (keyof ScryptParams)[]).every((k) => params[k] >= PARAM_BOUNDS[k][0] && params[k] <= PARAM_BOUNDS[k][1]);
  const salt = Buffer.from(match[4]!, "base64");
  const key = Buffer.from(match[5]!, "base64");
  return inBounds && salt.length >= SALT_BYTES && key.length === KEY_BYTES ? { params, salt, key } : null;
}

/** scrypt of the normalised password; node's default maxmem (32 MiB) is below what N = 2^17 needs. */
function derive(password: string, salt: Buffer, { logN, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(normalisePassword(password), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** The PHC string of a derived key (the PHC string format, github.com/P-H-C/phc-string-format: B64 without padding). */
export const encodePasswordHash = ({ logN, r, p }: ScryptParams, salt: Buffer, key: Buffer) => `$scrypt$ln=${logN},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;

/** The PHC string of `password` with `salt` (SALT_BYTES random bytes) and `params`. */
export async function hashPassword(password: string, salt: Buffer, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  return encodePasswordHash(params, salt, await derive(password, salt, params));
}

/**
 * Whether `password` matches the stored hash: the key is derived with the hash's own parameters and
 * compared in constant time. A hash that does not parse never matches (and costs no scrypt).
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (parsed === null) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}
