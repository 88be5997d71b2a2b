// The demo's people (CONTRACT §9 named accounts): a newcomer signs in to the dashboard by name and password,
// as a school's staff will. `up --demo` makes them once in USERS_FILE when they are missing: a viewer of the
// whole district (the bureau) and an operator of each school, with generated passwords kept beside the
// other demo secrets (DATA_DIR/demo-accounts.json, mode 0600) so a restart prints the same ones. Accounts a
// person made are never touched (an account of a demo name that the demo did not make is not printed); a
// demo account someone removed is made again, with a new password, at the next demo start.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Role } from "../domain/env.js";
import type { Campus } from "../domain/campus.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { readUsersFile } from "../infra/users-file.js";
import { addAccount } from "./user.js";

export interface DemoAccount {
  name: string;
  role: Role;
  /** null: the whole district. */
  sites: string[] | null;
  password: string;
}

/** Who the demo signs in as: the bureau's viewer, and each school's operator. */
function wanted(campus: Campus): Omit<DemoAccount, "password">[] {
  const bureau = { name: campus.sites.length > 1 ? "bureau" : "viewer", role: "viewer" as const, sites: null };
  const operators = campus.sites.map((site) => ({ name: campus.sites.length > 1 ? `${site.site.id}-operator` : "operator", role: "operator" as const, sites: [site.site.id] }));
  return [bureau, ...operators];
}

/** Makes the missing demo accounts; returns every demo account whose password the demo still knows. */
export async function ensureDemoAccounts(campus: Campus, usersFile: string, dataDir: string): Promise<DemoAccount[]> {
  const file = join(dataDir, "demo-accounts.json");
  const known: DemoAccount[] = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as DemoAccount[]) : [];
  const existing = new Set(readUsersFile(usersFile).users.map((u) => u.name));
  const accounts: DemoAccount[] = [];
  for (const account of wanted(campus)) {
    const remembered = known.find((k) => k.name === account.name);
    if (existing.has(account.name)) {
      // Someone's own account of that name, or the demo's from an earlier start: print it only if it is the demo's.
      if (remembered) accounts.push(remembered);
      continue;
    }
    const password = randomBytes(15).toString("base64url"); // 20 characters, 120 bits
    await addAccount(usersFile, account.name, account.role, account.sites, password);
    accounts.push({ ...account, password });
  }
  await writeFileAtomic(file, JSON.stringify(accounts, null, 2));
  return accounts;
}
