// The campus file's rule overrides checked against each rule's parameter schema, as a user meets it:
// `campus-power check-config` lists every bad override with its place in the file, its rule and its
// parameter, and `campus-power alerts` and `up` refuse to start on one (the campus file is invalid), before
// they connect to or listen on anything.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "campus-power-alerts-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A campus file with these `alerts` overrides on d1-101 and this `alerts` section. */
function campusFile(name: string, deviceAlerts: string, alerts: string): string {
  const file = join(dir, name);
  writeFileSync(file, `site: { id: s, name: S, timezone: Asia/Shanghai }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices:
  - { id: d1-main, kind: breaker, building: dorm-1, rating_a: 63, rcd_ma: 300 }
  - { id: d1-101, kind: breaker, building: dorm-1, room: "101", parent: d1-main, rating_a: 16, alerts: ${deviceAlerts} }
alerts:
${alerts}`);
  return file;
}

/** Overrides of the right names whose values the rules' parameter schemas refuse. */
const BAD_DEVICE_OVERRIDES = "{ leakage: { feeder_alarm_samples: 1.5 } }";
const BAD_OVERRIDES = `  rules:
    after-hours: { night_to_h: 25 }
  building_kinds:
    dormitory: { rules: { overload: { pickup_ratio: 0 }, malignant-load: { incremental_pf: 1.5 } } }
`;

describe("rule overrides in the campus file", () => {
  it("check-config names the place, the rule and the parameter of every bad override and exits 1", () => {
    const { status, stdout } = runCli(["check-config", campusFile("bad-overrides.yaml", BAD_DEVICE_OVERRIDES, BAD_OVERRIDES)]);
    expect(status).toBe(1);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/bad-overrides\.yaml: 4 problems$/);
    expect(lines.slice(1).map((l) => l.trim())).toEqual([
      "alerts.rules.after-hours.night_to_h: must be a whole number from 0 to 24 (got 25)",
      "alerts.building_kinds.dormitory.rules.overload.pickup_ratio: must be a number > 0 (got 0)",
      "alerts.building_kinds.dormitory.rules.malignant-load.incremental_pf: must be a number from 0 to 1 (got 1.5)",
      "devices[1].alerts.leakage.feeder_alarm_samples: must be a whole number ≥ 1 (got 1.5)",
    ]);
  });

  it("check-config names a value of the wrong type and an unknown parameter too", () => {
    const file = campusFile("wrong-type.yaml", "{}", "  building_kinds:\n    dormitory: { rules: { overload: { pickup_ratio: high, pickup_amps: 20 } } }\n");
    const { status, stdout } = runCli(["check-config", file]);
    expect(status).toBe(1);
    expect(stdout).toMatch(/alerts\.building_kinds\.dormitory\.rules\.overload\.pickup_ratio: must be a number/);
    expect(stdout).toMatch(/alerts\.building_kinds\.dormitory\.rules\.overload\.pickup_amps: unknown parameter/);
  });

  it("check-config accepts overrides every rule's schema accepts", () => {
    const file = campusFile("good.yaml", "{ power-limit: { limit_w: 800 } }", "  rules:\n    overload: { pickup_ratio: 1.1, severity: critical }\n    leakage: { feeder_alarm_samples: 3 }\n");
    const { status, stdout } = runCli(["check-config", file]);
    expect(stdout).toContain("valid — 1 buildings, 2 devices");
    expect(status).toBe(0);
  });

  it("the alerts service refuses to start on a bad override, listing every problem", () => {
    const env = { CAMPUS_CONFIG: campusFile("service.yaml", BAD_DEVICE_OVERRIDES, BAD_OVERRIDES), SERVICE_PASSWORD: "service-password-for-tests", DATA_DIR: join(dir, "data"), MQTT_URL: "mqtt://127.0.0.1:1", LOG_LEVEL: "silent" };
    const { status, stderr } = runCli(["alerts"], env);
    expect(status).toBe(1);
    expect(stderr).toMatch(/campus file .*service\.yaml is invalid/);
    expect(stderr).toContain("alerts.building_kinds.dormitory.rules.overload.pickup_ratio: must be a number > 0 (got 0)");
    expect(stderr).toContain("devices[1].alerts.leakage.feeder_alarm_samples: must be a whole number ≥ 1 (got 1.5)");
  });

  it("up refuses to start on a bad override before the broker or anything else listens", () => {
    const env = {
      CAMPUS_CONFIG: campusFile("up.yaml", BAD_DEVICE_OVERRIDES, BAD_OVERRIDES), DATA_DIR: join(dir, "up-data"), LOG_LEVEL: "silent",
      SERVICE_PASSWORD: "service-password-for-tests", DEVICE_GROUP_KEY: "group-key-for-tests-0123456789", API_TOKENS: "viewer:viewer-token-0123456789",
      MQTT_PORT: "0", MQTT_WS_PORT: "0", HTTP_PORT: "0", INFLUX_URL: "http://127.0.0.1:1",
    };
    const { status, stderr } = runCli(["up"], env);
    expect(status).toBe(1);
    expect(stderr).toMatch(/campus file .*up\.yaml is invalid/);
    expect(stderr).toContain("alerts.rules.after-hours.night_to_h: must be a whole number from 0 to 24 (got 25)");
  });
});
