import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { checkExpectations, formatReport } from "../../../simulator/check.js";
import { effectsAt, faultWeight, flappingFactor } from "../../../simulator/faults.js";
import { checkScenarioDevices, parseScenarioText } from "../../../simulator/scenario.js";

const campus = loadCampus("scenarios/campus.yaml");
const scenario = (extra: string) => `name: t\ndescription: a test\nduration: 10m\n${extra}`;

describe("scenario files", () => {
  it("reads faults and expectations with their units", () => {
    const parsed = parseScenarioText(
      scenario(`faults:\n  - { type: overload, device: brk-d1-103, at: 1m, ramp: 30s, for: 5m, factor: 1.4 }\n  - { type: clock-skew, device: brk-o1-101, at: 0s, skew: -2h }\nexpect:\n  - { rule: overload, device: brk-d1-103, opens_within: 3m, closes_within: 9m }\n`),
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.scenario.faults).toEqual([
      { type: "overload", device: "brk-d1-103", atMs: 60_000, forMs: 300_000, rampMs: 30_000, value: 1.4 },
      { type: "clock-skew", device: "brk-o1-101", atMs: 0, forMs: Infinity, rampMs: 0, value: -7_200_000 },
    ]);
    expect(parsed.scenario.expect).toEqual([{ rule: "overload", device: "brk-d1-103", opensWithinMs: 180_000, closesWithinMs: 540_000, times: 1 }]);
    expect(checkScenarioDevices(parsed.scenario, campus)).toEqual([]);
  });

  it("lists every problem: unknown keys, a missing size, devices the campus lacks or that cannot show the fault", () => {
    const bad = parseScenarioText(scenario(`faults:\n  - { type: leakage, device: brk-d1-103, at: 1m }\n  - { type: overload, device: x, at: soon, factor: 2 }\nextra: 1\n`));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.path).sort()).toEqual(["extra", "faults[1].at"]);
    const missing = parseScenarioText(scenario(`faults:\n  - { type: leakage, device: brk-d1-103, at: 1m }\n`));
    expect(missing).toMatchObject({ ok: false, problems: [{ path: "faults[0].leakage_ma" }] });
    const misfit = parseScenarioText(scenario(`faults:\n  - { type: leakage, device: brk-d1-103, at: 1m, leakage_ma: 20 }\nexpect:\n  - { rule: leakage, device: nope, opens_within: 1m }\n`));
    if (!misfit.ok) throw new Error("should parse");
    expect(checkScenarioDevices(misfit.scenario, campus).map((p) => p.message)).toEqual(['"brk-d1-103" does not measure leakage (no rcd_ma)', 'unknown device "nope" in the scenario\'s campus']);
  });
});

describe("command faults in scenario files", () => {
  it("reads a device's misbehaviour in event time: ignore, refuse, slow with its delay", () => {
    const parsed = parseScenarioText(
      scenario(
        `faults:\n  - { type: command, device: brk-d1-103, at: 1m, for: 5m, behaviour: slow, delay: 40s }\n  - { type: command, device: plug-d1-101-a, at: 0s, behaviour: refuse }\n  - { type: command, device: brk-l1-fridge, at: 2m, behaviour: ignore }\n`,
      ),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(parsed.scenario.faults).toEqual([
      { type: "command", device: "brk-d1-103", atMs: 60_000, forMs: 300_000, rampMs: 0, value: 40_000, behaviour: "slow" },
      { type: "command", device: "plug-d1-101-a", atMs: 0, forMs: Infinity, rampMs: 0, value: 0, behaviour: "refuse" },
      { type: "command", device: "brk-l1-fridge", atMs: 120_000, forMs: Infinity, rampMs: 0, value: 0, behaviour: "ignore" },
    ]);
    expect(checkScenarioDevices(parsed.scenario, campus)).toEqual([]);
  });

  it("lists a missing behaviour, a slow device without a delay, an unknown behaviour and a device without a relay", () => {
    const missing = parseScenarioText(scenario(`faults:\n  - { type: command, device: brk-d1-103, at: 1m }\n  - { type: command, device: brk-d1-103, at: 1m, behaviour: slow }\n  - { type: command, device: brk-d1-103, at: 1m, behaviour: slow, delay: -5s }\n`));
    expect(missing).toMatchObject({ ok: false, problems: [{ path: "faults[0].behaviour" }, { path: "faults[1].delay" }, { path: "faults[2].delay", message: "a delay cannot be negative" }] });
    const unknown = parseScenarioText(scenario(`faults:\n  - { type: command, device: brk-d1-103, at: 1m, behaviour: explode }\n`));
    expect(unknown).toMatchObject({ ok: false, problems: [{ path: "faults[0].behaviour" }] });
    const meter = parseScenarioText(scenario(`faults:\n  - { type: command, device: meter-o1-main, at: 1m, behaviour: ignore }\n`));
    if (!meter.ok) throw new Error("should parse");
    expect(checkScenarioDevices(meter.scenario, campus).map((p) => p.message)).toEqual(['"meter-o1-main" has no relay: it takes no commands']);
  });
});

describe("scenario check", () => {
  const expect1 = { rule: "overload", device: "b", opensWithinMs: 120_000, closesWithinMs: 600_000, times: 1 };
  it("passes when the alert opens and closes in time, and fails with the reason otherwise", () => {
    const ok = checkExpectations([expect1], [
      { device: "b", rule: "overload", change: "opened", atMs: 90_000 },
      { device: "b", rule: "overload", change: "resolved", atMs: 500_000 },
    ], false);
    expect(ok.ok).toBe(true);
    const late = checkExpectations([expect1], [{ device: "b", rule: "overload", change: "opened", atMs: 130_000 }], false);
    expect(late.outcomes[0]!.problem).toBe("opened only at +2m10s, expected within +2m00s");
    const open = checkExpectations([expect1], [{ device: "b", rule: "overload", change: "opened", atMs: 60_000 }], false);
    expect(open.outcomes[0]!.problem).toBe("never closed");
    expect(checkExpectations([expect1], [], false).outcomes[0]!.problem).toBe("never opened");
    expect(formatReport("x", open, false)).toContain("FAIL overload on b: opened at +1m00s — never closed");
  });

  it("counts openings for flapping and judges unexpected alerts only inside the span with no_other_alerts", () => {
    const { closesWithinMs: _unused, ...rest } = expect1;
    void _unused;
    const flap = { ...rest, times: 3 };
    const twice = [0, 1].flatMap((k) => [
      { device: "b", rule: "overload", change: "opened" as const, atMs: 60_000 + k * 400_000 },
      { device: "b", rule: "overload", change: "resolved" as const, atMs: 300_000 + k * 400_000 },
    ]);
    expect(checkExpectations([flap], twice, false).outcomes[0]!.problem).toBe("opened 2 times, expected at least 3");
    const stray = [{ device: "c", rule: "offline", change: "opened" as const, atMs: 10_000 }];
    expect(checkExpectations([], stray, true, 60_000).ok).toBe(false);
    expect(checkExpectations([], stray, false, 60_000).ok).toBe(true);
    expect(checkExpectations([], [{ ...stray[0]!, atMs: 60_000 }], true, 60_000).ok).toBe(true); // the run ending
  });
});

describe("faults", () => {
  const f = { type: "leakage" as const, device: "d", atMs: 60_000, forMs: 600_000, rampMs: 120_000, value: 27 };
  it("ramps up, holds and ramps down", () => {
    expect([0, 60_000, 120_000, 180_000, 400_000, 600_000, 660_000].map((t) => faultWeight(f, t))).toEqual([0, 0, 0.5, 1, 1, 0.5, 0]);
    expect(effectsAt([f], 120_000).leakage).toEqual({ ma: 27, weight: 0.5 });
  });
  it("flaps between the high and the low multiple every half period", () => {
    const flap = { type: "flapping" as const, device: "d", atMs: 0, forMs: Infinity, rampMs: 0, value: 1.15, low: 0.8, periodMs: 480_000 };
    expect([0, 239_000, 240_000, 479_000, 480_000].map((t) => flappingFactor(flap, t))).toEqual([1.15, 1.15, 0.8, 0.8, 1.15]);
  });
});
