// The split services' METRICS_PORT endpoint (infra/metrics-server.ts) over real HTTP: /metrics with the role
// read at each scrape (and only with METRICS_TOKEN when one is set), /ready 503 until the service runs, nothing
// else served. The failure drills
// (ha-drills.test.ts) check what real `broker`, `ingest` and `alerts` processes report on it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { type MetricsEndpoint, startMetricsEndpoint } from "../../infra/metrics-server.js";

let role: string | null = null;
let endpoint: MetricsEndpoint;
const registry = createRegistry();
const url = (path: string) => `http://127.0.0.1:${endpoint.port}${path}`;

beforeAll(async () => {
  endpoint = await startMetricsEndpoint({ host: "127.0.0.1", port: 0, registry, log: createLogger("silent"), service: "alerts", instance: "alerts-a-42", role: () => role });
});
afterAll(() => endpoint?.stop());

describe("METRICS_PORT endpoint", () => {
  it("says which role the process holds, as it is when scraped", async () => {
    const scrape = async () => (await (await fetch(url("/metrics"))).text()).split("\n").filter((l) => l.startsWith("campus_power_instance_info{"));
    expect(await scrape()).toEqual(['campus_power_instance_info{service="alerts",role="starting",instance="alerts-a-42"} 1']);
    role = "standby";
    expect(await scrape()).toEqual(['campus_power_instance_info{service="alerts",role="standby",instance="alerts-a-42"} 1']);
    role = "active";
    // One series only: the old role's is gone, so a dashboard never counts two roles for one process.
    expect(await scrape()).toEqual(['campus_power_instance_info{service="alerts",role="active",instance="alerts-a-42"} 1']);
    const text = await (await fetch(url("/metrics"))).text();
    expect(text).toContain("campus_power_process_process_resident_memory_bytes");
  });

  it("answers /ready 503 while starting and 200 once running, standby included", async () => {
    role = null;
    const starting = await fetch(url("/ready"));
    expect([starting.status, await starting.json()]).toEqual([503, { ready: false, service: "alerts", role: "starting", instance: "alerts-a-42" }]);
    role = "standby";
    const standby = await fetch(url("/ready"));
    expect([standby.status, await standby.json()]).toEqual([200, { ready: true, service: "alerts", role: "standby", instance: "alerts-a-42" }]);
  });

  it("serves nothing else: other paths 404, other methods 405, a query string ignored", async () => {
    expect((await fetch(url("/api/alerts"))).status).toBe(404);
    expect((await fetch(url("/"))).status).toBe(404);
    const post = await fetch(url("/metrics"), { method: "POST", body: "x" });
    expect([post.status, (await post.json()) as unknown]).toEqual([405, { error: "METHOD_NOT_ALLOWED", message: "GET only" }]);
    expect((await fetch(url("/metrics?x=1"))).status).toBe(200);
  });

  it("asks for METRICS_TOKEN on /metrics when one is set (not on /ready), compared whole", async () => {
    const token = "metrics-token-0123456789";
    const guarded = await startMetricsEndpoint({ host: "127.0.0.1", port: 0, registry: createRegistry(false), log: createLogger("silent"), service: "broker", instance: "", role: () => "single", token });
    try {
      const scrape = (authorization?: string) => fetch(`http://127.0.0.1:${guarded.port}/metrics`, authorization ? { headers: { authorization } } : {});
      const refused = await scrape();
      expect([refused.status, await refused.json()]).toEqual([401, { error: "UNAUTHORIZED", message: "/metrics needs Authorization: Bearer <METRICS_TOKEN>" }]);
      for (const wrong of [`Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, `Basic ${token}`, token]) expect((await scrape(wrong)).status, wrong).toBe(401);
      const scraped = await scrape(`Bearer ${token}`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('campus_power_instance_info{service="broker",role="single",instance=""} 1');
      expect((await fetch(`http://127.0.0.1:${guarded.port}/ready`)).status).toBe(200); // a health check needs no secret
    } finally {
      await guarded.stop();
    }
  });

  it("refuses to start on a port already taken, with the listen error", async () => {
    await expect(startMetricsEndpoint({ host: "127.0.0.1", port: endpoint.port, registry: createRegistry(false), log: createLogger("silent"), service: "broker", instance: "", role: () => "single" })).rejects.toThrow(/EADDRINUSE/);
  });
});
