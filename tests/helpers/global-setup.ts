// Starts one real influxd (Debian package) on a free loopback port in a temp folder for the whole run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalInfluxd } from "../../infra/local-influxd.js";

declare module "vitest" {
  export interface ProvidedContext {
    influxUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "campus-power-influxd-"));
  const influxd = await startLocalInfluxd({ dir });
  project.provide("influxUrl", influxd.url);
  return async () => {
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
