// A tiny driver for the pure engine: feeds inputs in order, keeps the state, collects the effects.
import type { Campus } from "../../../domain/campus.js";
import { parseCampusText } from "../../../domain/campus.js";
import type { Reading } from "../../../domain/reading.js";
import { evaluate, initialState, openAlerts } from "../../../alerts/engine.js";
import { createRuleBook, type RuleBook } from "../../../alerts/rule-book.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import type { Effect, EngineInput, EngineState, Rule } from "../../../alerts/types.js";

export const CAMPUS_YAML = `
site: { id: s, name: Test School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }
buildings:
  - { id: dorm-1, name: Dormitory 1, kind: dormitory }
devices:
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", rating_a: 16, curve: C, report_interval_s: 10 }
  - { id: brk-main, kind: breaker, building: dorm-1, rating_a: 63, curve: C, phases: 3, report_interval_s: 10 }
  - { id: meter-1, kind: meter, building: dorm-1, phases: 3, report_interval_s: 10 }
  - { id: smoke-1, kind: detector, building: dorm-1, report_interval_s: 60 }
`;

export function testCampus(): Campus {
  const result = parseCampusText(CAMPUS_YAML);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.campus;
}

/** Event-time origin of the tests: 2026-11-29T08:00:00Z. */
export const T0 = Date.parse("2026-11-29T08:00:00.000Z");
export const s = (seconds: number) => T0 + seconds * 1000;

export class Harness {
  readonly book: RuleBook;
  state: EngineState;
  effects: Effect[] = [];
  /** Wall clock handed to the engine; tests move it by hand. */
  wall = Date.parse("2030-01-01T00:00:00.000Z");

  constructor(rules: Rule[] = defaultRules(), state: EngineState = initialState(), campus: Campus = testCampus()) {
    this.book = createRuleBook(campus, rules);
    this.state = state;
  }

  feed(input: EngineInput): Effect[] {
    const result = evaluate(this.book, this.state, input, this.wall);
    this.state = result.state;
    this.effects.push(...result.effects);
    return result.effects;
  }

  /** A live reading of the total current at event time `ts`. */
  current(device: string, ts: number, currentA: number): Effect[] {
    return this.reading({ device, ts, values: { current_a: currentA } });
  }

  reading(reading: Reading, live = true): Effect[] {
    return this.feed({ kind: "reading", reading, live });
  }

  /** Readings every `stepS` seconds from `fromS` to `toS` inclusive (event time), all at `currentA`. */
  hold(device: string, fromS: number, toS: number, currentA: number, stepS = 5): Effect[] {
    const out: Effect[] = [];
    for (let t = fromS; t <= toS; t += stepS) out.push(...this.current(device, s(t), currentA));
    return out;
  }

  alertChanges(rule?: string) {
    return this.effects.flatMap((e) => (e.type === "alert" && (!rule || e.alert.rule === rule) ? [e] : []));
  }

  open(rule?: string) {
    return openAlerts(this.state).filter((a) => !rule || a.rule === rule);
  }
}
