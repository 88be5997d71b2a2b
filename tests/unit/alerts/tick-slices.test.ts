// The watchdog's tick in slices (alerts/tick-passes.ts): over a district one pure step of every device held the
// event loop for half a second; in slices of the rule book's `tickOrder` (parents first) it opens the same
// alerts, each child's inhibited by its parent's when it opens, never paged first.
import { describe, expect, it } from "vitest";
import { evaluate, initialState, openAlerts } from "../../../alerts/engine.js";
import { createStateOwner } from "../../../alerts/owned-map.js";
import { createRuleBook } from "../../../alerts/rule-book.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { createTickPasses } from "../../../alerts/tick-passes.js";
import type { Effect } from "../../../alerts/types.js";
import { parseCampusText } from "../../../domain/campus.js";

// Children before their parents in the file: a tick in the file's order would open a room's offline before its feeder's.
const YAML = `
site: { id: s, name: School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }
buildings: [ { id: b, name: Block, kind: classroom } ]
devices:
  - { id: brk-101, kind: breaker, building: b, room: "101", rating_a: 16, curve: C, parent: feed, report_interval_s: 10 }
  - { id: brk-102, kind: breaker, building: b, room: "102", rating_a: 16, curve: C, parent: feed, report_interval_s: 10 }
  - { id: brk-101-a, kind: breaker, building: b, room: "101", rating_a: 10, curve: C, parent: brk-101, report_interval_s: 10 }
  - { id: feed, kind: meter, building: b, phases: 3, report_interval_s: 10 }
  - { id: lone, kind: breaker, building: b, room: "103", rating_a: 16, curve: C, report_interval_s: 10 }
`;
const T0 = Date.parse("2026-12-07T08:00:00Z");

function book() {
  const parsed = parseCampusText(YAML);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createRuleBook(parsed.campus, defaultRules());
}

describe("the rule book's tick order", () => {
  it("puts every device once, each after its parent", () => {
    const ids = book().tickOrder.map((d) => d.id);
    expect([...ids].sort()).toEqual(["brk-101", "brk-101-a", "brk-102", "feed", "lone"]);
    expect(ids.indexOf("feed")).toBeLessThan(ids.indexOf("brk-101"));
    expect(ids.indexOf("feed")).toBeLessThan(ids.indexOf("brk-102"));
    expect(ids.indexOf("brk-101")).toBeLessThan(ids.indexOf("brk-101-a"));
  });
});

describe("a tick over silent devices in slices of one device", () => {
  it("opens what one tick over all opens, each child's alert inhibited when it opens and changed no more", () => {
    const b = book();
    const started = evaluate(b, initialState(), { kind: "start" }, T0).state;
    const at = T0 + 31_000; // 3 × 10 s of silence, and a second
    const whole = evaluate(b, started, { kind: "tick" }, at);

    const owner = createStateOwner();
    let state = started;
    const effects: Effect[] = [];
    for (let from = 0; from < b.tickOrder.length; from++) {
      const result = owner.run(() => evaluate(b, state, { kind: "tick", slice: { from, to: from + 1 } }, at));
      state = result.state;
      effects.push(...result.effects);
    }
    const byId = (alerts: ReturnType<typeof openAlerts>) => [...alerts].sort((x, y) => x.id.localeCompare(y.id));
    expect(byId(openAlerts(state))).toEqual(byId(openAlerts(whole.state)));
    expect(openAlerts(state)).toHaveLength(5);
    const changes = (list: readonly Effect[]) => list.flatMap((e) => (e.type === "alert" ? [e] : []));
    expect(changes(effects).map((e) => e.change)).toEqual(["opened", "opened", "opened", "opened", "opened"]);
    const inhibitedBy = (list: readonly Effect[]) => Object.fromEntries(changes(list).map((e) => [e.alert.device, e.alert.inhibited_by ?? null]));
    const idOf = (device: string) => openAlerts(state).find((a) => a.device === device)!.id;
    // The nearest ancestor's alert inhibits, as in one tick.
    expect(inhibitedBy(effects)).toEqual({ feed: null, lone: null, "brk-101": idOf("feed"), "brk-102": idOf("feed"), "brk-101-a": idOf("brk-101") });
    expect(inhibitedBy(effects)).toEqual(inhibitedBy(whole.effects));
  });
});

describe("tick passes", () => {
  it("run the first slice at once and the rest a turn each, in order, and report the pass done once", async () => {
    const slices: string[] = [];
    let done = 0;
    const passes = createTickPasses(2_500, ({ from, to }) => slices.push(`${from}-${to}`), () => done++, (error) => { throw error; }, 1_000);
    expect(passes.start()).toBe(true);
    expect(slices).toEqual(["0-1000"]);
    expect(passes.start()).toBe(false); // one pass at a time: this tick lets it go by
    await new Promise((resolve) => setImmediate(resolve));
    expect(slices).toEqual(["0-1000", "1000-2000"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(slices).toEqual(["0-1000", "1000-2000", "2000-2500"]);
    expect(done).toBe(1);
    expect(passes.start()).toBe(true); // the next pass
    expect(slices.at(-1)).toBe("0-1000");
  });

  it("do a small campus in one go, go on past a slice that throws, and run nothing after a stop", async () => {
    const slices: number[] = [];
    const failures: unknown[] = [];
    let done = 0;
    const small = createTickPasses(300, ({ from }) => slices.push(from), () => done++, (error) => failures.push(error), 1_000);
    small.start();
    expect([slices, done]).toEqual([[0], 1]);

    const throwing = createTickPasses(3, ({ from }) => {
      slices.push(from);
      if (from === 1) throw new Error("a bad slice");
    }, () => done++, (error) => failures.push(error), 1);
    throwing.start();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect([slices, done, failures.map((e) => (e as Error).message)]).toEqual([[0, 0, 1, 2], 2, ["a bad slice"]]);

    const stopped = createTickPasses(3, ({ from }) => slices.push(10 + from), () => done++, (error) => failures.push(error), 1);
    stopped.start();
    stopped.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(slices.filter((from) => from >= 10)).toEqual([10]);
    expect(stopped.start()).toBe(false);
    expect(done).toBe(2);
  });
});
