// CONTRACT §9, the pure parts: scoped API_TOKENS entries, principals of tokens and of named accounts'
// sessions, what a scope sees, and each school's own occupied hours for the energy split.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { authenticate, type Principal } from "../../../api/auth.js";
import { schedulesByKey } from "../../../api/energy-math.js";
import { Scope } from "../../../api/scope.js";
import { scopedSilence } from "../../../api/routes/silences.js";
import { SessionStore } from "../../../api/sessions.js";
import { hashPassword, SALT_BYTES } from "../../../domain/accounts.js";
import type { Alert } from "../../../domain/alert.js";
import { formatApiTokens, parseApiTokens, tokenSiteProblems } from "../../../domain/env/api-tokens.js";
import type { Problem } from "../../../domain/errors.js";
import type { Silence } from "../../../domain/silence.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { createLogger } from "../../../infra/logger.js";
import { updateUsersFile } from "../../../infra/users-file.js";

const campus = loadCampus("tests/fixtures/district/district.yaml");
const A = "aaaaaaaaaaaaaaaa";
const B = "bbbbbbbbbbbbbbbb";
const C = "cccccccccccccccc";

describe("API_TOKENS entries scoped to sites", () => {
  it("reads role@site:token and role@site1+site2:token; an entry without @ sees the whole district", () => {
    expect(parseApiTokens(`viewer@north-middle:${A}, operator@north-middle+south-primary:${B},admin:${C}`)).toEqual([
      { role: "viewer", token: A, sites: ["north-middle"] },
      { role: "operator", token: B, sites: ["north-middle", "south-primary"] },
      { role: "admin", token: C, sites: null },
    ]);
  });

  it("writes them back as it reads them", () => {
    const raw = `viewer@north-middle:${A},operator@north-middle+south-primary:${B},admin:${C}`;
    expect(formatApiTokens(parseApiTokens(raw))).toBe(raw);
  });

  it("names each bad entry by its position, never by its token", () => {
    const problems: Problem[] = [];
    parseApiTokens(`viewer@:${A},viewer@North School:${B},boss@north-middle:${C},operator:${A}`, problems);
    expect(problems.map((p) => p.path)).toEqual(["API_TOKENS[0]", "API_TOKENS[1]", "API_TOKENS[2]"]);
    const again: Problem[] = [];
    parseApiTokens(`viewer:${A},operator@north-middle:${A}`, again);
    expect(again).toEqual([{ path: "API_TOKENS[1]", message: "repeats the token of API_TOKENS[0]: give each role and scope its own token" }]);
    expect(JSON.stringify([...problems, ...again])).not.toMatch(/a{16}|b{16}|c{16}/);
  });

  it("finds a token scoped to a site the district lacks, by position, without the token", () => {
    const tokens = parseApiTokens(`admin:${A},viewer@north-middle+nowhere:${B},operator@west-kindergarten:${C}`);
    const problems = tokenSiteProblems(tokens, new Set(campus.sites.map((s) => s.site.id)));
    expect(problems).toEqual([{ path: "API_TOKENS[1]", message: expect.stringContaining('scoped to "nowhere", not a site of the district') }]);
    expect(problems[0]!.message).not.toContain(B);
  });
});

describe("principals", () => {
  const tokens = parseApiTokens(`viewer@north-middle:${A},admin:${B}`);

  it("carries a scoped token's sites and says its scope in its name", () => {
    expect(authenticate(tokens, A)).toEqual({ role: "viewer", name: expect.stringMatching(/^viewer@north-middle:[0-9a-f]{8}$/), sites: ["north-middle"] });
    expect(authenticate(tokens, B)).toMatchObject({ role: "admin", sites: null, name: expect.stringMatching(/^admin:[0-9a-f]{8}$/) });
  });

  it("asks the named accounts' session store about any other token, at the time given", async () => {
    // A real store over a real users file (scrypt N = 2^10, the least a hash may ask for: a test's cost).
    const usersFile = join(mkdtempSync(join(tmpdir(), "scope-principals-")), "users.json");
    const at = new Date(0).toISOString();
    const password_hash = await hashPassword("correct horse battery staple", randomBytes(SALT_BYTES), { logN: 10, r: 8, p: 1 });
    await updateUsersFile(usersFile, () => ({ version: 1, users: [{ name: "li.wei", role: "operator", sites: ["south-primary"], password_hash, created_at: at, password_changed_at: at }] }));
    const sessions = new SessionStore({ usersFile, sessionsFile: null, log: createLogger("silent"), idleMs: 1_000 }, 0);
    const login = await sessions.login("li.wei", "correct horse battery staple", 0);
    if (!login.ok) throw new Error("li.wei could not sign in");
    const person: Principal = { role: "operator", name: "li.wei", sites: ["south-primary"] };
    expect(authenticate(tokens, login.token, sessions, 999)).toEqual(person);
    expect(authenticate(tokens, login.token)).toBeNull();
    expect(authenticate(tokens, "", sessions, 999)).toBeNull();
    expect(authenticate(tokens, login.token, sessions, 999 + 1_000)).toBeNull(); // idle for idleMs: ended
    await sessions.close();
  });
});

describe("a scope", () => {
  const north = Scope.of(campus, ["north-middle"]);
  const district = Scope.of(campus, null);
  const silence = (scope: Silence["scope"]): Silence => ({ id: "s", scope, starts_at: "", ends_at: "", reason: "", created_by: "", source: "api" });

  it("narrows to nothing for a site outside it, as for an unknown site", () => {
    expect(north.narrow("south-primary").devices()).toEqual([]);
    expect(north.narrow("nowhere").devices()).toEqual([]);
    expect(district.narrow("south-primary").devices().map((d) => d.id)).toEqual(["south-meter", "south-brk-1"]);
    expect(district.narrow("nowhere").siteCampuses()).toEqual([]);
  });

  it("places an alert by its device's site, whatever the alert says", () => {
    const alert = { id: "x", device: "south-meter", site: "north-middle" } as Alert;
    expect(north.seesAbout(alert)).toBe(false);
    expect(district.withSite(alert).site).toBe("south-primary");
  });

  it("sees a silence naming only its own ids or none; one naming another site's id is not there", () => {
    expect(north.seesSilence(silence({ devices: ["north-feeder"], buildings: ["north-dorm"] }))).toBe(true);
    expect(north.seesSilence(silence({ rules: ["offline"] }))).toBe(true);
    expect(north.seesSilence(silence({ devices: ["north-feeder", "south-meter"] }))).toBe(false);
    expect(north.seesSilence(silence({ buildings: ["south-class"] }))).toBe(false);
  });

  it("makes a scoped principal's silence cover its own buildings when it names none, and refuses another site's id as unknown", () => {
    expect(scopedSilence(north, { rules: ["offline"] })).toEqual({ rules: ["offline"], buildings: ["north-dorm", "north-class"] });
    expect(scopedSilence(district, { rules: ["offline"] })).toEqual({ rules: ["offline"] });
    expect(() => scopedSilence(north, { devices: ["south-meter"] })).toThrow('scope.devices: unknown id "south-meter"');
  });
});

describe("occupied hours in a district", () => {
  it("judges each building by its own school's hours, not the first school's", () => {
    const byBuilding = schedulesByKey(campus, "building");
    // The south school's file makes its classrooms occupied all week; the north school's use the default.
    expect(byBuilding("south-class").periods).toEqual([{ days: [1, 2, 3, 4, 5, 6, 0], fromMin: 0, toMin: 1440 }]);
    expect(byBuilding("north-class")).not.toEqual(byBuilding("south-class"));
    expect(schedulesByKey(campus, "device")("south-brk-1")).toEqual(byBuilding("south-class"));
  });
});
