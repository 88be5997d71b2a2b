// `campus-power user add|passwd|remove|list` (CONTRACT §9): named accounts in USERS_FILE. The password is
// asked twice on the terminal without echo, or read as one line from standard input (--password-stdin, for
// scripts); it is hashed here (scrypt, domain/accounts.ts) and never printed, logged or passed as an argument
// (an argument would show in `ps` and the shell's history). docs/accounts.md is the user's guide.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { type Account, accountProblems, DEFAULT_SCRYPT_PARAMS, hashPassword, nameProblem, passwordProblem, SALT_BYTES } from "../domain/accounts.js";
import { readEnv, type Role } from "../domain/env.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import { loadCampus } from "../infra/campus-file.js";
import { readUsersFile, updateUsersFile } from "../infra/users-file.js";
import { UsageError } from "./runtime.js";

export const USER_USAGE = `Usage: campus-power user add NAME --role viewer|operator|admin [--site ID]... [--password-stdin]
       campus-power user passwd NAME [--password-stdin]
       campus-power user remove NAME
       campus-power user list

Named accounts for the dashboard and POST /api/login, kept in USERS_FILE (default DATA_DIR/users.json,
mode 0600) as salted scrypt hashes. A running API sees a change within a second, without a restart.
  add NAME          a new account: NAME is 1 to 64 lowercase letters, digits, ".", "_" or "-"
    --role ROLE       viewer (sees), operator (also acknowledges and switches), admin (everything)
    --site ID         a site (school) of CAMPUS_CONFIG the person sees; repeat for several;
                      without --site the person sees the whole district
  passwd NAME       a new password; the account's sessions end
  remove NAME       deletes the account; its sessions end
  list              names, roles and sites (never the hashes)
  --password-stdin  read the password as one line from standard input instead of asking twice on
                    the terminal (for scripts: printf '%s\\n' "$PASSWORD" | campus-power user add ...)
A password has at least 15 characters (NIST SP 800-63B-4 for a password used alone); no other rules:
a few words make a good one. Exit 1, changing nothing, on a bad name, role or site, an existing (add)
or missing (passwd, remove) user, or a refused password.
`;

type Action = "add" | "passwd" | "remove" | "list";
const ACTIONS: readonly Action[] = ["add", "passwd", "remove", "list"];
/** Which options each action takes; any other is a usage error. */
const ACCEPTS: Record<Action, readonly string[]> = { add: ["role", "site", "password-stdin"], passwd: ["password-stdin"], remove: [], list: [] };

const say = (line: string) => process.stderr.write(`${line}\n`);
const sitesText = (sites: readonly string[] | null) => (sites === null ? "the whole district" : sites.join(", "));

export async function userCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const [action, name, ...extra] = positionals;
  if (!ACTIONS.includes(action as Action)) throw new UsageError(`user needs one of ${ACTIONS.join(", ")} (campus-power user --help)`);
  const unaccepted = Object.keys(values).filter((option) => !ACCEPTS[action as Action].includes(option));
  if (unaccepted.length > 0) throw new UsageError(`user ${action} takes no --${unaccepted.join(", --")}`);
  if (action === "list" ? name !== undefined : name === undefined || extra.length > 0) throw new UsageError(action === "list" ? "user list takes no NAME" : `user ${action} needs exactly one NAME`);

  const env = readEnv(process.env);
  const file = env.usersFile;
  if (action === "list") return list(file);
  const problem = nameProblem(name!);
  if (problem !== null) throw new UsageError(problem);
  if (action === "remove") return remove(file, name!);
  if (action === "passwd") return passwd(file, name!, values["password-stdin"] === true);
  const sites = values.site === undefined ? null : [...new Set(values.site)];
  return add(file, name!, values.role, sites, () => (sites === null ? [] : loadCampus(env.campusConfig).sites.map((site) => site.site.id)), values["password-stdin"] === true);
}

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, options: { role: { type: "string" }, site: { type: "string", multiple: true }, "password-stdin": { type: "boolean" } } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function add(file: string, name: string, role: string | undefined, sites: string[] | null, knownSites: () => string[], fromStdin: boolean): Promise<void> {
  if (role === undefined) throw new UsageError("user add needs --role viewer|operator|admin");
  const problems = accountProblems(role, sites, sites === null ? [] : knownSites());
  if (problems.length > 0) throw new CampusError(ErrorCodes.CONFIG_INVALID, `cannot add user "${name}"`, problems);
  if (findUser(file, name)) throw new UsageError(`user "${name}" already exists (campus-power user passwd ${name} changes the password)`);
  await addAccount(file, name, role as Role, sites, await readPassword(name, fromStdin));
  process.stdout.write(`added ${name}: ${role} of ${sitesText(sites)} (${file})\n`);
}

/**
 * Adds an account with a password already in hand: checked, hashed and saved under the users file's lock.
 * `user add` calls it after asking; `up --demo` may call it for its demo accounts. Sites are not checked here
 * against a campus (the caller knows its district).
 */
export async function addAccount(file: string, name: string, role: Role, sites: string[] | null, password: string): Promise<Account> {
  const problem = nameProblem(name);
  if (problem !== null) throw new UsageError(problem);
  const password_hash = await checkedHash(name, password);
  const at = new Date().toISOString();
  const account: Account = { name, role, sites, password_hash, created_at: at, password_changed_at: at };
  await updateUsersFile(file, (current) => {
    if (current.users.some((user) => user.name === name)) throw new UsageError(`user "${name}" already exists`);
    return { ...current, users: [...current.users, account] };
  });
  return account;
}

async function passwd(file: string, name: string, fromStdin: boolean): Promise<void> {
  if (!findUser(file, name)) throw new UsageError(`no user "${name}" in ${file}`);
  const password_hash = await checkedHash(name, await readPassword(name, fromStdin));
  await updateUsersFile(file, (current) => {
    if (!current.users.some((user) => user.name === name)) throw new UsageError(`user "${name}" was removed meanwhile by another command`);
    const changedAt = new Date().toISOString();
    return { ...current, users: current.users.map((user) => (user.name === name ? { ...user, password_hash, password_changed_at: changedAt } : user)) };
  });
  process.stdout.write(`changed the password of ${name}; their sessions end (a running API sees it within a second)\n`);
}

async function remove(file: string, name: string): Promise<void> {
  await updateUsersFile(file, (current) => {
    if (!current.users.some((user) => user.name === name)) throw new UsageError(`no user "${name}" in ${file}`);
    return { ...current, users: current.users.filter((user) => user.name !== name) };
  });
  process.stdout.write(`removed ${name}; their sessions end (a running API sees it within a second)\n`);
}

function list(file: string): void {
  const { users } = readUsersFile(file);
  if (users.length === 0) {
    process.stdout.write(`no users in ${file} yet (campus-power user add NAME --role viewer)\n`);
    return;
  }
  const rows = [["NAME", "ROLE", "SITES"], ...users.map((user) => [user.name, user.role, sitesText(user.sites)])];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  process.stdout.write(rows.map(([n, r, s]) => `${n!.padEnd(widths[0]!)}  ${r!.padEnd(widths[1]!)}  ${s}`).join("\n") + "\n");
}

const findUser = (file: string, name: string) => readUsersFile(file).users.some((user) => user.name === name);

const readPassword = (name: string, fromStdin: boolean) => (fromStdin ? passwordFromStdin() : passwordFromTerminal(name));

/** Checks and hashes a new password (about 0.6 s with the default parameters). */
async function checkedHash(name: string, password: string): Promise<string> {
  const problem = passwordProblem(password, name);
  if (problem !== null) throw new UsageError(`${problem}; nothing changed`);
  say(`hashing the password (scrypt, N = 2^${DEFAULT_SCRYPT_PARAMS.logN}: about a second)…`);
  return hashPassword(password, randomBytes(SALT_BYTES));
}

async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  if (line === "") throw new UsageError("--password-stdin read no password (one line on standard input)");
  return line;
}

async function passwordFromTerminal(name: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError("no terminal to ask for the password on; pipe it with --password-stdin");
  const first = await askHidden(`New password for ${name}: `);
  const second = await askHidden("The same again: ");
  if (first !== second) throw new UsageError("the two passwords differ; nothing changed");
  return first;
}

/**
 * Reads one line from the terminal without echo: raw mode (set before the prompt shows, so nothing typed
 * after it is echoed) handles each key: Enter ends, Backspace erases, Ctrl-C and Ctrl-D on an empty line cancel.
 */
function askHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = (error?: Error) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed.join(""));
    };
    const onData = (chunk: string) => {
      for (const key of chunk) {
        if (key === "\r" || key === "\n") return finish();
        if (key === "\u0003" || (key === "\u0004" && typed.length === 0)) return finish(new UsageError("cancelled; nothing changed"));
        if (key === "\u007f" || key === "\b") typed = typed.slice(0, -1);
        else if (key >= " ") typed.push(key);
      }
    };
    input.setRawMode(true);
    input.setEncoding("utf8");
    input.on("data", onData);
    input.resume();
    process.stderr.write(prompt);
  });
}
