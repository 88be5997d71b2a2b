// Starts one real influxd (Debian package) on a free loopback port in a temp folder for the whole run, and
// gives the run a temp folder of its own (TMPDIR for the test files and every process they start), removed at
// the end: a test's leftovers (data folders, influxd's and Redis's files) never pile up in the machine's /tmp.
// Port leases stay machine-wide (infra/free-port.ts), shared with whatever else runs here.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { LEASES } from "../../infra/free-port.js";
import { startLocalInfluxd } from "../../infra/local-influxd.js";

declare module "vitest" {
  export interface ProvidedContext {
    influxUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const run = mkdtempSync(join(tmpdir(), "campus-power-test-run-"));
  // The run's $TMPDIR/campus-power-ports is the machine's lease folder, so its ports are leased machine-wide.
  mkdirSync(LEASES, { recursive: true });
  symlinkSync(LEASES, join(run, "campus-power-ports"));
  const machineTmp = process.env.TMPDIR;
  process.env.TMPDIR = run;
  const dir = mkdtempSync(join(tmpdir(), "campus-power-influxd-"));
  const influxd = await startLocalInfluxd({ dir });
  project.provide("influxUrl", influxd.url);
  return async () => {
    await influxd.stop();
    rmSync(run, { recursive: true, force: true });
    // A watch-mode rerun sets up again in this process: from the machine's TMPDIR, not the folder just removed.
    if (machineTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = machineTmp;
  };
}
