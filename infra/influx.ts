// A small client for InfluxDB's v1 HTTP API (`/write` line protocol, `/query` InfluxQL), served by
// InfluxDB 1.x, 2.x (v1 compatibility) and 3.x. Plain fetch (undici keeps connections alive) instead
// of node-influx: we batch ourselves, need the exact status to tell "retry" from "bad data", and must
// not send node-influx's default root/root credentials.
import { CampusError, ErrorCodes } from "../domain/errors.js";

export interface InfluxConfig {
  url: string;
  db: string;
  username?: string;
  password?: string;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
}

/** A write InfluxDB refused. `retriable` is false when the data itself is bad (HTTP 400). */
export class InfluxWriteError extends CampusError {
  constructor(
    message: string,
    readonly status: number,
    readonly retriable: boolean,
  ) {
    super(retriable ? ErrorCodes.INFLUX_UNAVAILABLE : ErrorCodes.INFLUX_REJECTED, message);
  }
}

export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export class InfluxClient {
  private readonly headers: Record<string, string> = {};
  private readonly timeoutMs: number;
  readonly config: InfluxConfig;

  constructor(config: InfluxConfig) {
    this.timeoutMs = config.timeoutMs ?? 10_000;
    // fetch refuses URLs with credentials (and would echo them in its error): move them to the header.
    const url = new URL(config.url);
    const username = config.username || decodeURIComponent(url.username);
    const password = config.password || decodeURIComponent(url.password);
    url.username = "";
    url.password = "";
    this.config = { ...config, url: url.toString().replace(/\/+$/, ""), username, password };
    if (username || password) {
      // InfluxDB 3 takes a token as the Basic password; 1.x and 2.x v1-auth take user and password.
      const basic = Buffer.from(`${username}:${password}`).toString("base64");
      this.headers.authorization = `Basic ${basic}`;
    }
  }

  /** True when InfluxDB answers its health endpoint. */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    try {
      const response = await fetch(`${this.config.url}/ping`, { signal: AbortSignal.timeout(timeoutMs), headers: this.headers });
      await response.arrayBuffer();
      return response.status === 204 || response.status === 200;
    } catch {
      return false;
    }
  }

  async ensureDatabase(): Promise<void> {
    await this.rawQuery(`CREATE DATABASE ${quoteIdentifier(this.config.db)}`, false);
  }

  /** Writes line protocol (ms precision). Throws InfluxWriteError on any failure. */
  async write(lines: string, retentionPolicy?: string): Promise<void> {
    if (lines === "") return;
    const params = new URLSearchParams({ db: this.config.db, precision: "ms" });
    if (retentionPolicy) params.set("rp", retentionPolicy);
    let response: Response;
    try {
      response = await fetch(`${this.config.url}/write?${params}`, {
        method: "POST",
        headers: { ...this.headers, "content-type": "text/plain; charset=utf-8" },
        body: lines,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new InfluxWriteError(`InfluxDB unreachable: ${(error as Error).message}`, 0, true);
    }
    if (response.status === 204 || response.status === 200) {
      await response.arrayBuffer();
      return;
    }
    const body = await response.text().catch(() => "");
    // 400 = bad data (partial write, type conflict, parse error): retrying cannot help.
    // 404 (database missing), 401/403, 413, 429 and 5xx may heal: retry.
    throw new InfluxWriteError(`InfluxDB write failed (${response.status}): ${body.slice(0, 500)}`, response.status, response.status !== 400);
  }

  /** Runs InfluxQL in the configured database; returns the series of the first statement. */
  async query(influxQl: string): Promise<Series[]> {
    const results = await this.rawQuery(influxQl, true);
    return results[0]?.series ?? [];
  }

  private async rawQuery(influxQl: string, withDb: boolean): Promise<{ series?: Series[] }[]> {
    const params = new URLSearchParams({ q: influxQl, epoch: "ms" });
    if (withDb) params.set("db", this.config.db);
    let response: Response;
    try {
      response = await fetch(`${this.config.url}/query`, {
        method: "POST",
        headers: { ...this.headers, "content-type": "application/x-www-form-urlencoded" },
        body: params,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new CampusError(ErrorCodes.INFLUX_UNAVAILABLE, `InfluxDB unreachable: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (response.status !== 200) {
      throw new CampusError(ErrorCodes.INFLUX_UNAVAILABLE, `InfluxDB query failed (${response.status}): ${text.slice(0, 500)}`);
    }
    const parsed = JSON.parse(text) as { results?: { series?: Series[]; error?: string }[]; error?: string };
    const error = parsed.error ?? parsed.results?.find((r) => r.error)?.error;
    if (error) throw new CampusError(ErrorCodes.INFLUX_REJECTED, `InfluxDB query error: ${error}`);
    return parsed.results ?? [];
  }
}

export const quoteIdentifier = (name: string) => `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
export const quoteString = (value: string) => `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** Turns series rows into objects keyed by column name, with the series' tags merged in. */
export function rows(series: Series[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const s of series) {
    for (const values of s.values) {
      const row: Record<string, unknown> = { ...s.tags };
      s.columns.forEach((column, i) => (row[column] = values[i]));
      out.push(row);
    }
  }
  return out;
}

/** A URL fit for logs: any user name and password in it replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = parsed.username ? "redacted" : "";
      parsed.password = parsed.password ? "redacted" : "";
    }
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "(unparseable URL)";
  }
}
