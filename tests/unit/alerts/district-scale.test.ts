// A district-sized campus in the pure engine: the whole device map changes in one step when a broker
// restarts (every device's watchdog fires in the same tick). One step must cost O(devices), not
// O(devices²): at 20,000 devices, copying the map per changed device took minutes and blocked `up`
// (docs/benchmarks.md, bench:district D1). The bound below is ~20× what the step takes here.
import { describe, expect, it } from "vitest";
import { step } from "../../../alerts/commands/core.js";
import { emptyBook } from "../../../alerts/commands/book.js";
import { createStateOwner } from "../../../alerts/owned-map.js";
import { evaluate, initialState, openAlerts } from "../../../alerts/engine.js";
import { createRuleBook, type RuleBook } from "../../../alerts/rule-book.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { parseCampusText } from "../../../domain/campus.js";

const BUILDINGS = 20;
const ROOMS = 999; // + one feeder meter each: 20,000 devices

function districtYaml(): string {
  const lines = ["site: { id: s, name: Big School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }", "buildings:"];
  for (let b = 0; b < BUILDINGS; b++) lines.push(`  - { id: b${b}, name: Block ${b}, kind: classroom }`);
  lines.push("devices:");
  for (let b = 0; b < BUILDINGS; b++) {
    lines.push(`  - { id: feed-${b}, kind: meter, building: b${b}, phases: 3, report_interval_s: 10 }`);
    for (let r = 0; r < ROOMS; r++) {
      lines.push(`  - { id: brk-${b}-${r}, kind: breaker, building: b${b}, room: "${r}", rating_a: 16, curve: C, parent: feed-${b}, report_interval_s: 10 }`);
    }
  }
  return lines.join("\n");
}

const T0 = Date.parse("2026-12-06T08:00:00Z");
let parsedBook: RuleBook | null = null;
/** Parsed once for both tests (≈ 3 s of YAML). */
function districtBook(): RuleBook {
  if (parsedBook) return parsedBook;
  const parsed = parseCampusText(districtYaml());
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems.slice(0, 3)));
  return (parsedBook = createRuleBook(parsed.campus, defaultRules()));
}

describe("a watchdog tick over 20,000 silent devices", () => {
  it("opens one offline alert per device, the rooms' inhibited by their feeder's, in one step of linear cost", () => {
    const book = districtBook();
    const started = evaluate(book, initialState(), { kind: "start" }, T0).state;

    const before = performance.now();
    const result = evaluate(book, started, { kind: "tick" }, T0 + 31_000); // 3 × 10 s of silence, and a second
    const tookMs = performance.now() - before;

    const open = openAlerts(result.state);
    expect(open).toHaveLength(BUILDINGS * (ROOMS + 1));
    expect(new Set(open.map((a) => a.device)).size).toBe(BUILDINGS * (ROOMS + 1));
    const feederAlert = new Map(open.filter((a) => a.device.startsWith("feed-")).map((a) => [a.device, a.id]));
    const room = open.find((a) => a.device === "brk-7-500")!;
    expect(room.inhibited_by).toBe(feederAlert.get("feed-7"));
    expect(open.filter((a) => a.inhibited_by !== undefined)).toHaveLength(BUILDINGS * ROOMS);
    // Each alert leaves the engine once, with its mark: the overlay changed the opening, it added no second effect.
    const opened = result.effects.filter((e) => e.type === "alert");
    expect(opened).toHaveLength(BUILDINGS * (ROOMS + 1));
    expect(opened.find((e) => e.type === "alert" && e.alert.device === "brk-7-500")).toMatchObject({ change: "opened", alert: { inhibited_by: feederAlert.get("feed-7") } });
    expect(started.devices["brk-7-500"]?.rules.offline?.alert).toBeUndefined(); // the state handed in is untouched
    expect(tookMs).toBeLessThan(10_000);
  }, 120_000);

  it("takes 2,000 devices coming back one status at a time at the cost of what each changes, as the service runs it", () => {
    // The alerts service's way (alerts/index.ts): one step per input, in place (owned-map.ts createStateOwner).
    // Copying the map per status (≈ 18 ms) and re-marking every open alert per parent change made a
    // district's reconnection O(n²): minutes of a blocked `up` (bench:district).
    const book = districtBook();
    const owner = createStateOwner();
    let state = owner.run(() => evaluate(book, initialState(), { kind: "start" }, T0)).state;
    state = owner.run(() => evaluate(book, state, { kind: "tick" }, T0 + 31_000)).state;
    expect(openAlerts(state)).toHaveLength(BUILDINGS * (ROOMS + 1));
    const back = [...Array.from({ length: BUILDINGS }, (_, b) => `feed-${b}`), ...Array.from({ length: 1_980 }, (_, i) => `brk-${i % BUILDINGS}-${Math.floor(i / BUILDINGS)}`)];
    const before = performance.now();
    back.forEach((device, i) => {
      const at = T0 + 40_000 + i;
      state = owner.run(() => evaluate(book, state, { kind: "status", status: { device, ts: at, online: true }, live: true }, at)).state;
    });
    const tookMs = performance.now() - before;
    const open = openAlerts(state);
    expect(open).toHaveLength(BUILDINGS * (ROOMS + 1) - back.length);
    // The feeders are back: the rooms still silent are given their offline limit (3 × 10 s) to report again,
    // still inhibited under their feeder's alert (alerts/return-grace.ts)…
    expect(open.filter((a) => a.inhibited_by === undefined)).toEqual([]);
    expect(tookMs).toBeLessThan(10_000);
    // …and are offline on their own account once it has passed: the tick that ends the last feeder's grace (back at
    // T0 + 40,019), while the first room back (T0 + 40,020) is still within its own limit. The feeders report on.
    for (let b = 0; b < BUILDINGS; b++) {
      const at = T0 + 60_000 + b;
      state = owner.run(() => evaluate(book, state, { kind: "status", status: { device: `feed-${b}`, ts: at, online: true }, live: true }, at)).state;
    }
    state = owner.run(() => evaluate(book, state, { kind: "tick" }, T0 + 40_000 + (BUILDINGS - 1) + 30_000)).state;
    expect(openAlerts(state)).toHaveLength(open.length);
    expect(openAlerts(state).filter((a) => a.inhibited_by !== undefined)).toEqual([]);
  }, 120_000);

  it("lets the command desk record 20,000 devices' statuses at the cost of each, as the desk runs it", () => {
    const book = districtBook();
    const settings = { campus: book.campus, selectTimeoutMs: 10_000, commandTimeoutMs: 10_000 };
    const owner = createStateOwner();
    let commands = emptyBook();
    const before = performance.now();
    book.campus.devices.forEach((device, i) => {
      commands = owner.run(() => step(settings, commands, { kind: "status", status: { device: device.id, ts: T0 + i, online: true } }, T0 + i)).book;
    });
    const tookMs = performance.now() - before;
    expect(Object.keys(commands.statuses)).toHaveLength(BUILDINGS * (ROOMS + 1));
    expect(commands.statuses["brk-7-500"]).toEqual({ online: true, ts: expect.any(Number) });
    expect(tookMs).toBeLessThan(10_000); // a copy of the statuses per status: ≈ 20,000 × 10 ms
  }, 120_000);
});
