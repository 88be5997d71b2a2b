// Per-test-file access to the shared real influxd: a fresh database each time.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { InfluxClient } from "../../infra/influx.js";

export function influxUrl(): string {
  return inject("influxUrl");
}

/** A client on a new, empty database of the shared test influxd. */
export async function freshDatabase(prefix = "test"): Promise<InfluxClient> {
  const client = new InfluxClient({ url: influxUrl(), db: `${prefix}_${randomBytes(4).toString("hex")}` });
  await client.ensureDatabase();
  return client;
}
