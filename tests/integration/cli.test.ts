import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../infra/free-port.js";
import { runCli } from "../helpers/cli.js";

const COMMANDS = ["up", "broker", "ingest", "alerts", "api", "simulate", "record", "replay", "device-secret", "check-config"];

const portIsClosed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });

describe("the campus-power command", () => {
  it("lists every command in --help", () => {
    const { status, stdout } = runCli(["--help"]);
    expect(status).toBe(0);
    for (const command of COMMANDS) expect(stdout).toContain(command);
  });

  it.each(COMMANDS)("answers %s --help with its usage and exit 0", (command) => {
    const { status, stdout } = runCli([command, "--help"]);
    expect(status).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: campus-power ${command}`));
  });

  it("refuses an unknown command and an unknown option with exit 1", () => {
    expect(runCli(["frobnicate"]).status).toBe(1);
    const bad = runCli(["check-config", "--frob"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--frob");
  });

  it("prints the same device password as openssl", () => {
    const key = "a-fleet-key-of-some-length";
    const { stdout, status } = runCli(["device-secret", "brk-d3-301"], { DEVICE_GROUP_KEY: key });
    const openssl = execFileSync("openssl", ["dgst", "-sha256", "-hmac", key], { input: "brk-d3-301" }).toString();
    expect(status).toBe(0);
    expect(openssl.trim().endsWith(stdout.trim())).toBe(true);
    expect(stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("validates the bundled demo campus and the test campus", () => {
    expect(runCli(["check-config", "config/demo-campus.yaml"]).status).toBe(0);
    expect(runCli(["check-config", "tests/fixtures/test-campus.yaml"]).stdout).toContain("valid");
  });

  it("lists every problem of a bad campus file with its path and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "campus-cli-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, `site: { id: s, name: S, timezone: Asia/Shanghai }
buildings: [{ id: b, name: B, kind: lab }]
devices:
  - { id: a, kind: breaker, building: b, rating_a: 16, parent: ghost }
  - { id: a, kind: socket, building: nowhere }
`);
    const { status, stdout } = runCli(["check-config", file]);
    expect(status).toBe(1);
    expect(stdout).toContain("3 problems");
    expect(stdout).toContain('devices[1].id: duplicate device id "a"');
    expect(stdout).toContain('devices[1].building: unknown building "nowhere"');
    expect(stdout).toContain('devices[0].parent: unknown parent device "ghost"');
  });

  it("stops `up` on a bad campus file before anything listens", async () => {
    const dir = mkdtempSync(join(tmpdir(), "campus-cli-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "site: { id: s }\nbuildings: []\ndevices: []\n");
    const [mqtt, http] = [await freePort(), await freePort()];
    const { status, stderr } = runCli(["up"], {
      CAMPUS_CONFIG: file, MQTT_PORT: String(mqtt), HTTP_PORT: String(http), DATA_DIR: dir,
      DEVICE_GROUP_KEY: "k".repeat(32), SERVICE_PASSWORD: "s".repeat(20), API_TOKENS: `admin:${"a".repeat(20)}`,
    });
    expect(status).toBe(1);
    expect(stderr).toContain("site.name: is required");
    expect(await portIsClosed(mqtt)).toBe(true);
    expect(await portIsClosed(http)).toBe(true);
  });

  it("lists every problem of a bad district file with its file and path, and `up` starts nothing on it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "campus-cli-"));
    const school = (id: string, zone: string) => `site: { id: ${id}, name: ${id.toUpperCase()}${zone} }
buildings: [{ id: b-${id}, name: B, kind: lab }]
devices:
  - { id: brk-1, kind: breaker, building: b-${id}, rating_a: 16 }
`;
    writeFileSync(join(dir, "east.yaml"), school("east", ", timezone: Asia/Shanghai"));
    writeFileSync(join(dir, "west.yaml"), school("west", "")); // no time zone, and east's device id again
    writeFileSync(join(dir, "district.yaml"), `district: { id: d, name: 测试区 }
sites: [ east.yaml, gone.yaml, west.yaml ]
notify:
  - { site: north, url: "https://hooks.example/n", secret_env: HOOK_NORTH }
`);
    const file = join(dir, "district.yaml");
    const { status, stdout } = runCli(["check-config", file]);
    expect(status).toBe(1);
    // A site file is named as the district file lists it; the clash names both files.
    const problems = [
      `${file}: sites[1]: cannot read site file gone.yaml: no such file`,
      "west.yaml: site.timezone: is required",
      'west.yaml: devices[0].id: device id "brk-1" is also at east.yaml: devices[0].id',
      `${file}: notify[0].site: unknown site "north"`,
    ];
    expect(stdout).toContain(`${file}: 4 problems`);
    for (const problem of problems) expect(stdout).toContain(problem);

    const [mqtt, http] = [await freePort(), await freePort()];
    const up = runCli(["up"], {
      CAMPUS_CONFIG: file, MQTT_PORT: String(mqtt), HTTP_PORT: String(http), DATA_DIR: dir,
      DEVICE_GROUP_KEY: "k".repeat(32), SERVICE_PASSWORD: "s".repeat(20), API_TOKENS: `admin:${"a".repeat(20)}`,
    });
    expect(up.status).toBe(1);
    for (const problem of problems) expect(up.stderr).toContain(problem);
    expect(await portIsClosed(mqtt)).toBe(true);
    expect(await portIsClosed(http)).toBe(true);
  });

  it("refuses a bad --history, and --history without --demo, before anything starts", () => {
    const bad = runCli(["up", "--demo", "--history", "2w"], { DATA_DIR: mkdtempSync(join(tmpdir(), "campus-cli-")) });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("such as 14d, 30d or 36h");
    const alone = runCli(["up", "--history", "14d"], { DATA_DIR: mkdtempSync(join(tmpdir(), "campus-cli-")) });
    expect(alone.status).toBe(1);
    expect(alone.stderr).toContain("--history");
  });

  it("refuses REDIS_URL for `up` (one process) before anything starts, never running alone silently", () => {
    const { status, stderr } = runCli(["up", "--demo"], { DATA_DIR: mkdtempSync(join(tmpdir(), "campus-cli-")), REDIS_URL: "redis://127.0.0.1:1" });
    expect(status).toBe(1);
    expect(stderr).toContain("REDIS_URL is set");
    expect(stderr).toContain("docs/ha.md");
  });

  it("refuses to start a service without its required secrets, naming them", () => {
    const { status, stderr } = runCli(["broker"], { DATA_DIR: mkdtempSync(join(tmpdir(), "campus-cli-")) });
    expect(status).toBe(1);
    expect(stderr).toContain("DEVICE_GROUP_KEY: is required");
    expect(stderr).toContain("SERVICE_PASSWORD: is required");
  });
});
