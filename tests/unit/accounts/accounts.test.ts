// domain/accounts.ts: password hashing and verification (real scrypt), and what makes a name, role, site
// and password acceptable. No mocks: the hashes are computed.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  accountProblems,
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  nameProblem,
  normaliseAccountName,
  parsePasswordHash,
  parseUsersFile,
  PASSWORD_MIN_CHARACTERS,
  passwordProblem,
  SALT_BYTES,
  verifyPassword,
} from "../../../domain/accounts.js";

/** Cheap parameters for the tests that do not measure the defaults (2^10: about a millisecond). */
const CHEAP = { logN: 10, r: 8, p: 1 };
const salt = () => randomBytes(SALT_BYTES);
const PASSWORD = "correct horse battery staple";

describe("password hashes", () => {
  it("verifies the password it was made from, with the OWASP parameters written into the hash", async () => {
    const hash = await hashPassword(PASSWORD, salt());
    expect(hash).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(parsePasswordHash(hash)?.params).toEqual(DEFAULT_SCRYPT_PARAMS);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}.`, hash)).toBe(false);
  });

  it("salts every hash: the same password twice gives two different hashes, both verifying", async () => {
    const [first, second] = await Promise.all([hashPassword(PASSWORD, salt(), CHEAP), hashPassword(PASSWORD, salt(), CHEAP)]);
    expect(first).not.toBe(second);
    expect(await verifyPassword(PASSWORD, first)).toBe(true);
    expect(await verifyPassword(PASSWORD, second)).toBe(true);
  });

  it("checks a hash with the parameters stored in it, so older hashes keep working after the defaults are raised", async () => {
    const old = await hashPassword(PASSWORD, salt(), CHEAP);
    expect(old).toContain("$ln=10,r=8,p=1$");
    expect(await verifyPassword(PASSWORD, old)).toBe(true);
  });

  it("matches a password typed in another Unicode form (NFKC, NIST SP 800-63B)", async () => {
    // "ﬁ" (U+FB01, one ligature) is "fi" under NFKC; a full-width "Ａ" is "A".
    const hash = await hashPassword("office wifi password Ａ", salt(), CHEAP);
    expect(await verifyPassword("oﬃce wiﬁ password A", hash)).toBe(true);
  });

  it("never matches a hash it cannot read, nor one asking for more than the bounds allow", async () => {
    const good = await hashPassword(PASSWORD, salt(), CHEAP);
    const greedy = good.replace("ln=10", "ln=30");
    expect(parsePasswordHash(greedy)).toBeNull();
    expect(await verifyPassword(PASSWORD, greedy)).toBe(false);
    expect(await verifyPassword(PASSWORD, "$2b$10$notscrypt")).toBe(false);
    expect(await verifyPassword(PASSWORD, good.slice(0, -4))).toBe(false);
  });
});

describe("names, roles and sites", () => {
  it.each(["wang.li", "zhang_san", "t-01", "a", "x".repeat(64)])("accepts %s as a name", (name) => {
    expect(nameProblem(name)).toBeNull();
  });

  it.each(["Wang", "wang:li", "operator@north", ".wang", "wang-", "", "x".repeat(65), "王丽", "wang li"])("refuses %j as a name", (name) => {
    expect(nameProblem(name)).toMatch(/not a valid user name/);
  });

  it("reads a typed name as the account spells it", () => {
    expect(normaliseAccountName("  Wang.Li ")).toBe("wang.li");
  });

  it("lists every problem of a role and sites at once, naming the known sites", () => {
    expect(accountProblems("boss", ["north", "south"], ["north", "east"])).toEqual([
      { path: "--role", message: '"boss" is not a role: one of viewer, operator, admin' },
      { path: "--site", message: 'no site "south" in the campus file (sites: north, east)' },
    ]);
    expect(accountProblems("operator", null, ["north"])).toEqual([]);
  });
});

describe("password policy (NIST SP 800-63B-4: length, no composition rules)", () => {
  it(`refuses fewer than ${PASSWORD_MIN_CHARACTERS} characters and accepts exactly that many, whatever they are`, () => {
    expect(passwordProblem("a".repeat(7) + "b".repeat(7), "wang")).toMatch(/at least 15 characters \(it has 14\)/);
    expect(passwordProblem("lowercase only!", "wang")).toBeNull();
  });

  it("counts code points, not UTF-16 units: fifteen emoji are fifteen characters", () => {
    const plugs = "🔌🔋".repeat(7) + "💡";
    expect(plugs.length).toBe(30);
    expect(passwordProblem(plugs, "wang")).toBeNull();
    expect(passwordProblem("🔌🔋".repeat(7), "wang")).toMatch(/it has 14/);
  });

  it("accepts a long passphrase and refuses only what does not fit a request", () => {
    expect(passwordProblem("a long passphrase of many words ".repeat(20), "wang")).toBeNull();
    expect(passwordProblem("xy".repeat(600), "wang")).toMatch(/at most 1024/);
  });

  it("refuses the user name, the product's name and one repeated character", () => {
    expect(passwordProblem("my name is wang.li okay", "wang.li")).toMatch(/user name/);
    expect(passwordProblem("Campus-Power rocks 2026", "wang")).toMatch(/product's name/);
    expect(passwordProblem("z".repeat(20), "wang")).toMatch(/repeated/);
    // A name of three letters would refuse too many passwords: it is not looked for.
    expect(passwordProblem("the lid of the box", "lid")).toBeNull();
  });
});

describe("the users file", () => {
  const account = (name: string, password_hash: string) => ({ name, role: "viewer", sites: null, password_hash, created_at: "2026-12-06T00:00:00Z", password_changed_at: "2026-12-06T00:00:00Z" });

  it("reads a valid file", async () => {
    const hash = await hashPassword(PASSWORD, salt(), CHEAP);
    const parsed = parseUsersFile(JSON.stringify({ version: 1, users: [account("wang", hash)] }));
    expect(parsed.ok && parsed.file.users.map((u) => u.name)).toEqual(["wang"]);
  });

  it("lists a name twice and a hash it cannot check, with their paths", async () => {
    const hash = await hashPassword(PASSWORD, salt(), CHEAP);
    const parsed = parseUsersFile(JSON.stringify({ version: 1, users: [account("wang", hash), account("wang", hash), account("li", "plain text")] }));
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.path)).toEqual(["/users/1/name", "/users/2/password_hash"]);
  });

  it("refuses text that is not JSON, and a schema mismatch, naming where", () => {
    const notJson = parseUsersFile("{");
    expect(notJson.ok ? "" : notJson.problems[0]!.message).toMatch(/^not JSON/);
    const wrong = parseUsersFile(JSON.stringify({ version: 1, users: [{ ...account("wang", "x"), role: "root" }] }));
    expect(wrong.ok ? [] : wrong.problems.map((p) => p.path)).toContain("/users/0/role");
  });
});
