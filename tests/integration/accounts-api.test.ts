// POST /api/login and /api/logout over real HTTP (CONTRACT §9), against a real users file and sessions file
// in a temporary DATA_DIR, with the session store's clock injected. Clients connect from several loopback
// addresses (127.0.0.x) so the per-address and per-name limits can be told apart.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fastifySwagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AuthLimits, FailedAuthLimiter } from "../../api/auth-limiter.js";
import { bearerToken } from "../../api/auth.js";
import { toErrorResponse } from "../../api/errors.js";
import { sessionRoutes } from "../../api/routes/session.js";
import { MAX_SESSIONS_PER_ACCOUNT, SESSION_IDLE_MS, SessionStore } from "../../api/sessions.js";
import { type Account, hashPassword, SALT_BYTES, type ScryptParams } from "../../domain/accounts.js";
import { sha256Hex } from "../../domain/credentials.js";
import { createLogger } from "../../infra/logger.js";
import { updateUsersFile } from "../../infra/users-file.js";

/** 2^14: about 40 ms a hash here, enough to dominate a request's time, far less than the defaults' 0.6 s. */
const TEST_PARAMS: ScryptParams = { logN: 14, r: 8, p: 1 };
const PASSWORD = "correct horse battery staple";
const HOUR = 3_600_000;
const START = Date.parse("2026-12-07T08:00:00+08:00");

let dir: string;
let usersFile: string;
const running: { app: FastifyInstance; sessions: SessionStore }[] = [];

async function account(name: string, role: Account["role"], sites: string[] | null, password = PASSWORD, params = TEST_PARAMS): Promise<Account> {
  const at = new Date(START).toISOString();
  return { name, role, sites, password_hash: await hashPassword(password, randomBytes(SALT_BYTES), params), created_at: at, password_changed_at: at };
}
const setAccounts = (accounts: Account[]) => updateUsersFile(usersFile, () => ({ version: 1, users: accounts }));

interface Options {
  nameLimits?: Partial<AuthLimits>;
  addressLimits?: Partial<AuthLimits>;
  maxWaitingLogins?: number;
}

/**
 * The session routes as app.ts registers them, and GET /probe standing in for the auth hook: it answers the
 * principal the store gives for the bearer token (what api/auth.ts asks it on every request), else 401.
 */
async function startSessionServer(options: Options = {}) {
  const clock = { now: START };
  const addressLimiter = new FailedAuthLimiter({ maxFailures: 1_000, windowMs: 60_000, maxAddresses: 1_000, ...options.addressLimits });
  const sessions = new SessionStore({ usersFile, sessionsFile: join(dir, "sessions.json"), log: createLogger("silent"), ...(options.maxWaitingLogins !== undefined ? { maxWaitingLogins: options.maxWaitingLogins } : {}) }, clock.now);
  const app = Fastify({ forceCloseConnections: true }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((error, _request, reply) => {
    const { status, body } = toErrorResponse(error);
    reply.code(status).send(body);
  });
  await app.register(fastifySwagger, { openapi: { info: { title: "accounts test", version: "0" } } });
  await app.register(sessionRoutes, { sessions, addressLimiter, nameLimits: { maxFailures: 1_000, ...options.nameLimits }, now: () => clock.now });
  app.get("/probe", async (request, reply) => {
    const token = bearerToken(request.headers.authorization);
    const principal = token === null ? null : sessions.principalOf(token, clock.now);
    return principal ?? reply.code(401).send({ error: { code: "UNAUTHORIZED", message: "no session" } });
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  running.push({ app, sessions });
  const port = (app.server.address() as { port: number }).port;
  return { clock, sessions, addressLimiter, port, call: (method: string, path: string, options: CallOptions = {}) => call(port, method, path, options) };
}

interface CallOptions {
  body?: unknown;
  token?: string;
  /** The client's loopback address (the server sees it as request.ip). */
  from?: string;
}
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
  ms: number;
}

function call(port: number, method: string, path: string, { body, token, from = "127.0.0.1" }: CallOptions): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { ...(payload ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers, localAddress: from }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text, json: text ? JSON.parse(text) : null, ms: performance.now() - started }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const login = (api: Awaited<ReturnType<typeof startSessionServer>>, username: string, password: string, from?: string) =>
  api.call("POST", "/api/login", { body: { username, password }, ...(from ? { from } : {}) });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "accounts-api-"));
  usersFile = join(dir, "users.json");
  await setAccounts([await account("wang.li", "operator", ["xinwu-exp"]), await account("zhao", "viewer", null)]);
});

afterEach(async () => {
  for (const { app, sessions } of running.splice(0)) {
    await app.close();
    await sessions.close();
  }
});

describe("signing in", () => {
  it("gives an opaque 256-bit token, expiring 12 h ahead, with the person's name, role and sites, never cached", async () => {
    const api = await startSessionServer();
    const answer = await login(api, "wang.li", PASSWORD);
    expect(answer.status).toBe(200);
    expect(Buffer.from(answer.json.token, "base64url")).toHaveLength(32);
    expect(answer.json).toEqual({ token: answer.json.token, expires_at: new Date(START + 12 * HOUR).toISOString(), user: { name: "wang.li", role: "operator", sites: ["xinwu-exp"] } });
    expect(answer.headers["cache-control"]).toBe("no-store");
    const probe = await api.call("GET", "/probe", { token: answer.json.token });
    expect(probe.json).toEqual({ role: "operator", name: "wang.li", sites: ["xinwu-exp"] });
    // The whole district: sites null. A name as a phone keyboard types it is the same account.
    expect((await login(api, " Zhao", PASSWORD)).json.user).toEqual({ name: "zhao", role: "viewer", sites: null });
  });

  it("answers a wrong password and an unknown name with the same 401, taking about the same time", async () => {
    const api = await startSessionServer();
    const wrongPassword: Answer[] = [];
    const unknownName: Answer[] = [];
    for (let round = 0; round < 9; round++) {
      wrongPassword.push(await login(api, "wang.li", `${PASSWORD}!`));
      unknownName.push(await login(api, "nobody.here", PASSWORD));
    }
    for (const answer of [...wrongPassword, ...unknownName]) {
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: { code: "UNAUTHORIZED", message: "wrong user name or password" } });
    }
    // Loose on purpose (a shared 2-core machine): without the stand-in hash an unknown name answers ~40× sooner.
    const ratio = median(unknownName.map((a) => a.ms)) / median(wrongPassword.map((a) => a.ms));
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });

  it("refuses a body without a password, or with one too long for any account, as a bad request echoing no secret", async () => {
    const api = await startSessionServer();
    expect((await api.call("POST", "/api/login", { body: { username: "wang.li" } })).status).toBe(400);
    const tooLong = await api.call("POST", "/api/login", { body: { username: "wang.li", password: "hunter2 ".repeat(300) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.code).toBe("VALIDATION_FAILED");
    expect(tooLong.text).not.toContain("hunter2");
  });

  it("lets an account added while the API runs sign in at once", async () => {
    const api = await startSessionServer();
    expect((await login(api, "li.na", PASSWORD)).status).toBe(401);
    const added = await account("li.na", "admin", null);
    await updateUsersFile(usersFile, (current) => ({ ...current, users: [...current.users, added] }));
    expect((await login(api, "li.na", PASSWORD)).status).toBe(200);
  });
});

describe("sessions", () => {
  it("stay alive while used (12 h sliding) and end 12 h after the last use", async () => {
    const api = await startSessionServer();
    const { token } = (await login(api, "zhao", PASSWORD)).json;
    for (const hoursLater of [11, 22, 33]) {
      api.clock.now = START + hoursLater * HOUR;
      expect((await api.call("GET", "/probe", { token })).status).toBe(200);
    }
    api.clock.now = START + 33 * HOUR + SESSION_IDLE_MS;
    expect((await api.call("GET", "/probe", { token })).status).toBe(401);
    api.clock.now -= 1; // it stays ended: no sliding back to life
    expect((await api.call("GET", "/probe", { token })).status).toBe(401);
  });

  it("are forgotten once expired, and at most 50 per account are kept (the least recently used ends)", async () => {
    const api = await startSessionServer();
    await login(api, "wang.li", PASSWORD);
    await login(api, "zhao", PASSWORD);
    api.clock.now += SESSION_IDLE_MS;
    const tokens: string[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_ACCOUNT + 1; i++) tokens.push((await login(api, "zhao", PASSWORD)).json.token);
    expect(api.sessions.size).toBe(MAX_SESSIONS_PER_ACCOUNT);
    expect((await api.call("GET", "/probe", { token: tokens[0] })).status).toBe(401);
    expect((await api.call("GET", "/probe", { token: tokens.at(-1) })).status).toBe(200);
  });

  it("end at logout (204); logging out again, or with no session, is 204 too", async () => {
    const api = await startSessionServer();
    const { token } = (await login(api, "zhao", PASSWORD)).json;
    const other = (await login(api, "zhao", PASSWORD)).json.token;
    expect((await api.call("POST", "/api/logout", { token })).status).toBe(204);
    expect((await api.call("GET", "/probe", { token })).status).toBe(401);
    expect((await api.call("GET", "/probe", { token: other })).status).toBe(200);
    expect((await api.call("POST", "/api/logout", { token })).status).toBe(204);
    expect((await api.call("POST", "/api/logout")).status).toBe(204);
  });

  it("end when the account is removed or its password changes; the new password signs in", async () => {
    const api = await startSessionServer();
    const wang = (await login(api, "wang.li", PASSWORD)).json.token;
    const zhao = (await login(api, "zhao", PASSWORD)).json.token;
    const renewed = await account("wang.li", "operator", ["xinwu-exp"], "a brand new passphrase");
    await setAccounts([renewed]); // wang.li's password changed, zhao removed
    api.clock.now += 1_000; // the users file is looked at once a second
    expect((await api.call("GET", "/probe", { token: wang })).status).toBe(401);
    expect((await api.call("GET", "/probe", { token: zhao })).status).toBe(401);
    expect((await login(api, "wang.li", PASSWORD)).status).toBe(401);
    expect((await login(api, "wang.li", "a brand new passphrase")).status).toBe(200);
  });

  it("outlive a restart with only the tokens' SHA-256 on disk (mode 0600), and so does a logout", async () => {
    const first = await startSessionServer();
    const kept = (await login(first, "zhao", PASSWORD)).json.token;
    const ended = (await login(first, "zhao", PASSWORD)).json.token;
    await first.call("POST", "/api/logout", { token: ended });
    const saved = readFileSync(join(dir, "sessions.json"), "utf8");
    expect(saved).not.toContain(kept);
    expect(saved).toContain(sha256Hex(kept));
    expect(saved).not.toContain(sha256Hex(ended));
    expect(statSync(join(dir, "sessions.json")).mode & 0o777).toBe(0o600);
    for (const { app, sessions } of running.splice(0)) {
      await app.close();
      await sessions.close();
    }
    const second = await startSessionServer();
    expect((await second.call("GET", "/probe", { token: kept })).json.name).toBe("zhao");
    expect((await second.call("GET", "/probe", { token: ended })).status).toBe(401);
  });
});

describe("failed sign-ins are limited", () => {
  it("per name, whatever the address: 429 with retry-after, the right password too, other names untouched", async () => {
    const api = await startSessionServer({ nameLimits: { maxFailures: 3, windowMs: 10 * 60_000 } });
    for (const from of ["127.0.0.2", "127.0.0.3", "127.0.0.4"]) expect((await login(api, "wang.li", "guess number one!", from)).status).toBe(401);
    const blocked = await login(api, "wang.li", PASSWORD, "127.0.0.5");
    expect(blocked.status).toBe(429);
    expect(blocked.headers["retry-after"]).toBe("600");
    expect(blocked.json.error.code).toBe("RATE_LIMITED");
    expect((await login(api, "zhao", PASSWORD, "127.0.0.5")).status).toBe(200);
    // A name that does not exist is limited the same way, so a 429 does not tell which names exist.
    for (let i = 0; i < 3; i++) await login(api, "nobody.here", "guess number one!", "127.0.0.6");
    expect((await login(api, "nobody.here", "guess number one!", "127.0.0.7")).status).toBe(429);
    api.clock.now += 10 * 60_000;
    expect((await login(api, "wang.li", PASSWORD, "127.0.0.5")).status).toBe(200);
  });

  it("per address, whatever the name, counted in the app's limiter that wrong bearer tokens also count in", async () => {
    const api = await startSessionServer({ addressLimits: { maxFailures: 4, windowMs: 60_000 } });
    for (const name of ["a.one", "b.two", "c.three", "d.four"]) expect((await login(api, name, "guess number one!", "127.0.0.8")).status).toBe(401);
    const blocked = await login(api, "zhao", PASSWORD, "127.0.0.8");
    expect(blocked.status).toBe(429);
    expect(blocked.headers["retry-after"]).toBe("60");
    expect(api.addressLimiter.blockedForMs("127.0.0.8", api.clock.now)).toBe(60_000);
    expect((await login(api, "zhao", PASSWORD, "127.0.0.9")).status).toBe(200);
  });

  it("turns away sign-ins beyond the ones waiting for the hash with 429 and retry-after 1", async () => {
    await setAccounts([await account("zhao", "viewer", null, PASSWORD, { logN: 16, r: 8, p: 1 })]);
    const api = await startSessionServer({ maxWaitingLogins: 1 });
    const answers = await Promise.all([1, 2, 3, 4].map(() => login(api, "zhao", PASSWORD)));
    const turnedAway = answers.filter((a) => a.status === 429);
    expect(turnedAway.length).toBeGreaterThanOrEqual(1);
    expect(turnedAway[0]!.headers["retry-after"]).toBe("1");
    expect(turnedAway[0]!.json.error.message).toMatch(/at once/);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(2);
  });
});
