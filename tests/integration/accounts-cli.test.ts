// `campus-power user add|passwd|remove|list` run as a user would: the real command in a child process, a
// temporary DATA_DIR, the bundled demo district as CAMPUS_CONFIG, the password piped (--password-stdin) or
// typed on a real pseudo-terminal (util-linux `script`), never echoed. Then the person signs in over HTTP
// to a real `campus-power up` and to a `campus-power api` running alone beside it.
import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseUsersFile, verifyPassword } from "../../domain/accounts.js";
import { freePort } from "../../infra/free-port.js";
import { CLI, type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const DISTRICT = fileURLToPath(new URL("../../config/demo-district.yaml", import.meta.url));
const PASSWORD = "correct horse battery staple";
let dataDir: string;

const environment = () => ({ PATH: process.env.PATH, DATA_DIR: dataDir, CAMPUS_CONFIG: DISTRICT });
function user(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, "user", ...args], { env: environment(), input: input ?? "", encoding: "utf8", timeout: 30_000 });
}
const usersFile = () => join(dataDir, "users.json");
const accounts = () => {
  const parsed = parseUsersFile(readFileSync(usersFile(), "utf8"));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.file.users;
};

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "accounts-cli-"));
});

describe("campus-power user", () => {
  it("adds, lists, changes the password of and removes an account", async () => {
    const added = user(["add", "wang.li", "--role", "operator", "--site", "meicun-primary", "--site", "sunflower-kindergarten", "--password-stdin"], `${PASSWORD}\n`);
    expect(added.stderr).toContain("hashing the password");
    expect(added.stdout).toBe(`added wang.li: operator of meicun-primary, sunflower-kindergarten (${usersFile()})\n`);
    expect(added.status).toBe(0);
    expect(user(["add", "zhao", "--role", "viewer", "--password-stdin"], `${PASSWORD}\r\n`).status).toBe(0);

    expect(statSync(usersFile()).mode & 0o777).toBe(0o600);
    expect(readFileSync(usersFile(), "utf8")).not.toContain(PASSWORD);
    const [wang, zhao] = accounts();
    expect(wang).toMatchObject({ name: "wang.li", role: "operator", sites: ["meicun-primary", "sunflower-kindergarten"] });
    expect(zhao).toMatchObject({ name: "zhao", role: "viewer", sites: null });
    expect(await verifyPassword(PASSWORD, zhao!.password_hash)).toBe(true); // "\r\n" ends the line, it is not in the password

    const listed = user(["list"]);
    expect(listed.status).toBe(0);
    expect(listed.stdout.split("\n")).toEqual([
      "NAME     ROLE      SITES",
      "wang.li  operator  meicun-primary, sunflower-kindergarten",
      "zhao     viewer    the whole district",
      "",
    ]);
    expect(listed.stdout).not.toContain("$scrypt");

    const changed = user(["passwd", "wang.li", "--password-stdin"], "a brand new passphrase\nignored second line\n");
    expect(changed.status).toBe(0);
    expect(changed.stdout).toMatch(/^changed the password of wang\.li; their sessions end/);
    const renewed = accounts()[0]!;
    expect(await verifyPassword("a brand new passphrase", renewed.password_hash)).toBe(true);
    expect(await verifyPassword(PASSWORD, renewed.password_hash)).toBe(false);
    expect(renewed.created_at).toBe(wang!.created_at);

    const removed = user(["remove", "zhao"]);
    expect(removed.status).toBe(0);
    expect(removed.stdout).toMatch(/^removed zhao; their sessions end/);
    expect(accounts().map((a) => a.name)).toEqual(["wang.li"]);
  }, 90_000); // six processes, three of them hashing (about 0.6 s each): well past the default on a busy machine

  it("says there are no users yet on an empty DATA_DIR", () => {
    const listed = user(["list"]);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(`no users in ${usersFile()} yet`);
  });

  it.each([
    [["add", "Wang", "--role", "viewer", "--password-stdin"], /"Wang" is not a valid user name/],
    [["add", "wang", "--password-stdin"], /user add needs --role viewer\|operator\|admin/],
    [["add", "wang", "--role", "boss", "--site", "atlantis", "--password-stdin"], /cannot add user "wang"\n {2}--role: "boss" is not a role: one of viewer, operator, admin\n {2}--site: no site "atlantis" in the campus file \(sites: xinwu-exp, meicun-primary, sunflower-kindergarten\)/],
    [["add", "wang", "--role", "viewer"], /no terminal to ask for the password on; pipe it with --password-stdin/],
    [["remove", "wang", "--role", "admin"], /user remove takes no --role/],
    [["passwd", "nobody", "--password-stdin"], /no user "nobody" in /],
    [["remove", "nobody"], /no user "nobody" in /],
    [["rename", "wang"], /user needs one of add, passwd, remove, list/],
    [["list", "wang"], /user list takes no NAME/],
  ])("exits 1 with a clear message, changing nothing: user %j", (args, message) => {
    const result = user(args, `${PASSWORD}\n`);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(1);
    expect(() => statSync(usersFile())).toThrow(/ENOENT/);
  });

  it("refuses an existing name, and a short password, keeping the file as it was", () => {
    expect(user(["add", "zhao", "--role", "viewer", "--password-stdin"], `${PASSWORD}\n`).status).toBe(0);
    const before = readFileSync(usersFile(), "utf8");
    const again = user(["add", "zhao", "--role", "admin", "--password-stdin"], `${PASSWORD}\n`);
    expect(again.stderr).toContain('user "zhao" already exists (campus-power user passwd zhao changes the password)');
    expect(again.status).toBe(1);
    const short = user(["passwd", "zhao", "--password-stdin"], "too short\n");
    expect(short.stderr).toContain("the password must have at least 15 characters (it has 9)");
    expect(short.status).toBe(1);
    const empty = user(["add", "li", "--role", "viewer", "--password-stdin"], "");
    expect(empty.stderr).toContain("--password-stdin read no password");
    expect(empty.status).toBe(1);
    expect(readFileSync(usersFile(), "utf8")).toBe(before);
  });

  it("prints its usage for --help, on the command and on each action", () => {
    for (const args of [["--help"], ["add", "--help"], ["passwd", "-h"]]) {
      const help = user(args);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain("campus-power user add NAME --role viewer|operator|admin [--site ID]... [--password-stdin]");
      expect(help.stdout).toContain("--password-stdin");
    }
  });
});

const hasScript = spawnSync("script", ["--version"]).status === 0;

describe.skipIf(!hasScript)("campus-power user on a terminal", () => {
  /** Runs the command on a pseudo-terminal, typing each answer once its prompt has shown. */
  async function typed(args: string[], answers: { after: RegExp; keys: string }[]) {
    const command = [process.execPath, CLI, "user", ...args].join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: environment(), stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    child.stdout.on("data", (chunk: Buffer) => (screen += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (screen += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    for (const answer of answers) {
      await waitFor(() => answer.after.test(screen), 20_000, { what: `prompt ${answer.after}` });
      child.stdin.write(answer.keys);
    }
    return { code: await exited, screen };
  }

  it("asks twice without echo, erasing with Backspace", async () => {
    const { code, screen } = await typed(["add", "tty.user", "--role", "viewer"], [
      { after: /New password for tty\.user: /, keys: `${PASSWORD}\r` },
      { after: /The same again: /, keys: `${PASSWORD.slice(0, -1)}x\u007f${PASSWORD.slice(-1)}\r` },
    ]);
    expect(screen).toContain("added tty.user: viewer of the whole district");
    expect(code).toBe(0);
    expect(screen).not.toContain("horse");
    expect(await verifyPassword(PASSWORD, accounts()[0]!.password_hash)).toBe(true);
  });

  it("changes nothing when the two passwords differ", async () => {
    const { code, screen } = await typed(["add", "tty.user", "--role", "viewer"], [
      { after: /New password/, keys: `${PASSWORD}\r` },
      { after: /The same again/, keys: `${PASSWORD}!\r` },
    ]);
    expect(screen).toContain("the two passwords differ; nothing changed");
    expect(code).toBe(1);
    expect(() => statSync(usersFile())).toThrow(/ENOENT/);
  });
});

describe("a person added with campus-power user, signing in to the running product", () => {
  const ADMIN = "admin-token-for-the-accounts-test-0123";
  const running: CliProcess[] = [];
  let env: NodeJS.ProcessEnv;
  let upUrl: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "accounts-up-")); // the file's beforeEach gives later tests another: env keeps this one
    expect(user(["add", "wang.li", "--role", "operator", "--site", "meicun-primary", "--password-stdin"], `${PASSWORD}\n`).status).toBe(0);
    const [mqtt, ws, http] = [await freePort(), await freePort(), await freePort()];
    upUrl = `http://127.0.0.1:${http}`;
    env = {
      ...environment(), MQTT_PORT: String(mqtt), MQTT_WS_PORT: String(ws), HTTP_PORT: String(http), INFLUX_URL: influxUrl(), INFLUX_DB: `accounts_${process.pid}`,
      DEVICE_GROUP_KEY: "accounts-test-fleet-key-0123456789", SERVICE_PASSWORD: "accounts-test-service-password", API_TOKENS: `admin:${ADMIN}`, LOG_LEVEL: "warn",
    };
    const up = startCli(["up"], env);
    running.push(up);
    await up.waitForOutput(/campus-power is up/, 60_000);
  }, 90_000);
  afterAll(async () => {
    for (const process of running) await process.stop();
  });

  /** Signs in, asks for the sites, signs out, and asks again: the answers' statuses and the sites seen. */
  async function signInAndOut(url: string) {
    const call = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
      fetch(`${url}${path}`, {
        method: init.method ?? "GET",
        headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.body ? { "content-type": "application/json" } : {}) },
        ...(init.body ? { body: JSON.stringify(init.body) } : {}),
      });
    const login = await call("/api/login", { method: "POST", body: { username: "wang.li", password: PASSWORD } });
    const { token, user: person } = (await login.json()) as { token: string; user: unknown };
    const sites = await call("/api/sites", { token });
    const listed = (await sites.json()) as { id: string }[] | { error: unknown };
    const seen = Array.isArray(listed) ? listed.map((site) => site.id) : listed;
    const logout = await call("/api/logout", { method: "POST", token });
    const after = await call("/api/sites", { token });
    return { statuses: [login.status, sites.status, logout.status, after.status], person, seen };
  }

  it("signs in to `up`, sees only its school, signs out, and its token is then refused", async () => {
    expect(await signInAndOut(upUrl)).toEqual({ statuses: [200, 200, 204, 401], person: { name: "wang.li", role: "operator", sites: ["meicun-primary"] }, seen: ["meicun-primary"] });
  }, 30_000);

  it("signs in the same way to `campus-power api` running alone (its own DATA_DIR for sessions, the same USERS_FILE)", async () => {
    const http = await freePort();
    const api = startCli(["api"], { ...env, DATA_DIR: mkdtempSync(join(tmpdir(), "accounts-api-alone-")), USERS_FILE: join(env.DATA_DIR!, "users.json"), MQTT_URL: `mqtt://127.0.0.1:${env.MQTT_PORT}`, HTTP_PORT: String(http), LOG_LEVEL: "info" });
    running.push(api);
    await api.waitForOutput(/api listening/, 30_000);
    expect(await signInAndOut(`http://127.0.0.1:${http}`)).toEqual({ statuses: [200, 200, 204, 401], person: { name: "wang.li", role: "operator", sites: ["meicun-primary"] }, seen: ["meicun-primary"] });
  }, 60_000);
});
