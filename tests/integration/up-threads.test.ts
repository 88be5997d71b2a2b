// `campus-power up` runs its alerts service on a thread of its own (cli/service-thread.ts) and stays one
// program: one /metrics with both threads' metrics (each metric once), one log, one SIGTERM that stops the
// thread with the rest, and a start failure on the thread that exits 1 naming the problem, as before.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/free-port.js";
import { type CliProcess, runCli, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";

const VIEWER = "viewer-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "campus-up-threads-"));

async function upEnv(name: string, campusConfig: string): Promise<NodeJS.ProcessEnv> {
  return {
    CAMPUS_CONFIG: campusConfig,
    MQTT_PORT: String(await freePort()),
    MQTT_WS_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    INFLUX_URL: influxUrl(),
    INFLUX_DB: `threads_${process.pid}`,
    DATA_DIR: join(dir, name),
    DEVICE_GROUP_KEY: "a-threads-fleet-key-0123456789",
    SERVICE_PASSWORD: "service-password-0123456789",
    API_TOKENS: `viewer:${VIEWER}`,
    LOG_LEVEL: "info",
  };
}

describe("campus-power up's alerts thread", () => {
  let up: CliProcess | null = null;
  afterAll(async () => {
    await up?.stop("SIGKILL");
  });

  it("serves the thread's metrics and the process's on one /metrics, each once, and stops with SIGTERM", { timeout: 90_000 }, async () => {
    const env = await upEnv("running", "tests/fixtures/test-campus.yaml");
    up = startCli(["up"], env);
    await up.waitForOutput(/campus-power is up/, 60_000);

    const response = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    // The alerts thread's (its engine evaluated the start once), the ingest's and the process's (main thread).
    expect(text).toMatch(/^campus_power_alerts_evaluations_total\{kind="start"\} 1$/m);
    expect(text).toMatch(/^# TYPE campus_power_ingest_messages_total counter$/m);
    expect(text).toMatch(/^campus_power_process_process_resident_memory_bytes \d+/m);
    // The thread's own V8 heap (the process's heap gauges are the main thread's isolate only).
    const threadOld = text.match(/^campus_power_thread_heap_space_bytes\{thread="alerts",space="old",kind="used"\} (\d+)$/m);
    expect(Number(threadOld?.[1])).toBeGreaterThan(1_000_000);
    const families = [...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]);
    expect(families.length).toBeGreaterThan(20);
    expect(families.filter((name, index) => families.indexOf(name) !== index)).toEqual([]);

    const { code } = await up.stop("SIGTERM");
    expect(code).toBe(0);
    const output = up.output();
    // The thread logs as the process does (same name and pid), and stops before the broker it publishes through.
    type LogLine = { pid: number; name: string; service?: string; msg: string };
    const lines = output.split("\n").flatMap((line): LogLine[] => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return []; // stdout and stderr share `output`: a line cut by the other stream's chunk is not one to read
      }
    });
    expect(lines.length).toBeGreaterThan(10);
    // A small campus: the thread's young generation is bounded to 4 MB semi-spaces (cli/alerts-heap.ts; V8's own is 48 MB).
    type Running = LogLine & { youngGenerationMb?: number };
    const running = lines.find((line) => line.service === "alerts" && line.msg.startsWith("alerts thread running")) as Running | undefined;
    expect(running?.youngGenerationMb).toBe(12);
    const alertsStopped = lines.findIndex((line) => line.service === "alerts" && line.msg === "alerts service stopped");
    const brokerStopped = lines.findIndex((line) => line.service === "broker" && line.msg === "MQTT broker stopped");
    expect(alertsStopped).toBeGreaterThan(-1);
    expect(brokerStopped).toBeGreaterThan(alertsStopped);
    expect(new Set(lines.map((line) => `${line.name} ${line.pid}`))).toEqual(new Set([`campus-power ${up.child.pid}`]));
    // Its state was saved at the stop.
    const saved = JSON.parse(readFileSync(join(dir, "running", "alerts", "state.json"), "utf8")) as { version: number; engine: { devices: object } };
    expect(saved.version).toBe(1);
    up = null;
  });

  it("exits 1 naming the problem when the alerts service refuses to start on its thread", { timeout: 60_000 }, async () => {
    // A school's notification route whose secret is not in the environment: the alerts service refuses it.
    const fixtures = resolve("tests/fixtures/district");
    const district = join(dir, "district.yaml");
    writeFileSync(district, `district: { id: test-district, name: Test District }
sites: [${["north-middle", "south-primary", "west-kindergarten"].map((site) => join(fixtures, `${site}.yaml`)).join(", ")}]
notify:
  - { site: north-middle, url: "http://127.0.0.1:9/hook", secret_env: NORTH_HOOK_SECRET_NOT_SET }
`);
    const env = { ...(await upEnv("refused", district)), LOG_LEVEL: "silent" };
    const { status, stderr } = runCli(["up"], env, 45_000);
    // Printed as a configuration error with its list of problems (it crossed the thread as one), not a crash's stack.
    expect(stderr).toMatch(/^campus-power: a notification route's secret is missing/m);
    expect(stderr).toMatch(/^ {2}NORTH_HOOK_SECRET_NOT_SET: is not set: notify\[0\] \(site north-middle\)/m);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(status).toBe(1);
  });
});
