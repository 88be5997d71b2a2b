// A silence's scope names only devices, buildings or rules: names every object inherits are refused too
// (checked with `in`, `constructor` or `toString` passed as a scope and matched anything).
import { describe, expect, it } from "vitest";
import { applySilenceRequest } from "../../../alerts/silences.js";
import { loadCampus } from "../../../infra/campus-file.js";

const campus = loadCampus("tests/fixtures/test-campus.yaml");
const NOW = Date.parse("2026-12-06T08:00:00Z");
const create = (scope: Record<string, unknown>) =>
  applySilenceRequest(campus, [], [], 0, {
    request_id: "r1", action: "create", by: "test",
    silence: { scope: scope as never, ends_at: "2026-12-06T10:00:00Z", reason: "maintenance" },
  }, NOW).result;

describe("a silence's scope", () => {
  it("accepts a known device and refuses keys that are not devices, buildings or rules, inherited names included", () => {
    expect(create({ devices: ["brk-d1-101"] }).ok).toBe(true);
    for (const key of ["floors", "constructor", "toString", "hasOwnProperty"]) {
      expect(create({ [key]: ["brk-d1-101"] }), key).toEqual({ ok: false, code: "INVALID", message: `scope.${key} is not devices, buildings or rules` });
    }
  });
});
