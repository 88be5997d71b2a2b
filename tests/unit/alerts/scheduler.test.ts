// Which schedule runs are due (CONTRACT §10), pure, the wall clock given: a run is carried out when seen
// within its minute, otherwise missed and reported, never run late; no run happens twice.
import { describe, expect, it } from "vitest";
import { checkSchedules, CLOCK_BACK_LIMIT_MS, LATE_LIMIT_MS, MISSED_LOOKBACK_MS, runOrders, type ScheduleCheck, startSchedules } from "../../../alerts/automation/scheduler.js";
import { parseCampusText } from "../../../domain/campus.js";

const parsed = parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices:
  - { id: brk-main, kind: breaker, building: dorm-1, rating_a: 63 }
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", parent: brk-main, rating_a: 16 }
  - { id: brk-102, kind: breaker, building: dorm-1, room: "102", parent: brk-main, rating_a: 16 }
schedules:
  - { id: lights-out, name: Lights out, action: switch_off, at: "23:00", days: [sun, mon, tue, wed, thu, fri, sat], buildings: [dorm-1], kinds: [breaker], rooms: ["101", "102"] }
  - { id: power-on, name: Power on, action: switch_on, at: "06:00", days: [sun, mon, tue, wed, thu, fri, sat], buildings: [dorm-1], kinds: [breaker], rooms: ["101", "102"] }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const campus = parsed.campus;

/** 23:00 in Shanghai on 2030-01-07 (a Monday). */
const LIGHTS_OUT = Date.parse("2030-01-07T15:00:00Z");
const MIN = 60_000;
const ids = (check: ScheduleCheck, which: "due" | "missed") => check[which].map((r) => `${r.schedule.id} ${r.date}`);

describe("schedule runs at start", () => {
  it("counts only from now on the first start: nothing missed, nothing due", () => {
    const check = startSchedules(campus, null, LIGHTS_OUT + 5_000);
    expect(check).toEqual({ clock: { checkedUntil: LIGHTS_OUT + 5_000, lastNow: LIGHTS_OUT + 5_000 }, due: [], missed: [] });
  });

  it("lists the runs missed while the service was down and runs none of them (a lights-out at 23:00 never fires at 07:00)", () => {
    const check = startSchedules(campus, LIGHTS_OUT - MIN, LIGHTS_OUT + 8 * 60 * MIN);
    expect(check.due).toEqual([]);
    expect(ids(check, "missed")).toEqual(["lights-out 2030-01-07", "power-on 2030-01-08"]);
  });

  it("does not run a run of the very minute it starts in", () => {
    expect(startSchedules(campus, LIGHTS_OUT - 1_000, LIGHTS_OUT + 1_000)).toMatchObject({ due: [], missed: [{ at: LIGHTS_OUT }] });
  });

  it("lists at most the last week's missed runs", () => {
    const check = startSchedules(campus, LIGHTS_OUT - 30 * 86_400_000, LIGHTS_OUT);
    expect(check.missed).toHaveLength(14);
    expect(check.missed.every((r) => r.at > LIGHTS_OUT - MISSED_LOOKBACK_MS)).toBe(true);
  });
});

describe("schedule runs on the tick", () => {
  const started = startSchedules(campus, null, LIGHTS_OUT - 2_000).clock;

  it("runs a run in its own minute, once", () => {
    const before = checkSchedules(campus, started, LIGHTS_OUT - 1_000);
    expect(before.due).toEqual([]);
    const at = checkSchedules(campus, before.clock, LIGHTS_OUT + 200);
    expect(ids(at, "due")).toEqual(["lights-out 2030-01-07"]);
    expect(checkSchedules(campus, at.clock, LIGHTS_OUT + 1_200).due).toEqual([]);
  });

  it("still runs a run first seen late within its minute (the process was busy)", () => {
    expect(ids(checkSchedules(campus, started, LIGHTS_OUT + LATE_LIMIT_MS - 1), "due")).toEqual(["lights-out 2030-01-07"]);
  });

  it("reports a run the clock jumped past as missed, and does not run it", () => {
    const check = checkSchedules(campus, started, LIGHTS_OUT + 10 * MIN);
    expect(check.due).toEqual([]);
    expect(ids(check, "missed")).toEqual(["lights-out 2030-01-07"]);
    expect(check.clock.checkedUntil).toBe(LIGHTS_OUT + 10 * MIN);
  });

  it("does not repeat a run when the clock steps back a little, and says so once", () => {
    const ran = checkSchedules(campus, started, LIGHTS_OUT + 500);
    const back = checkSchedules(campus, ran.clock, LIGHTS_OUT - 2_000);
    expect(back).toMatchObject({ due: [], missed: [], clockWentBackMs: 2_500, clock: { checkedUntil: LIGHTS_OUT + 500 } });
    const again = checkSchedules(campus, back.clock, LIGHTS_OUT + 100);
    expect(again).toEqual({ clock: { checkedUntil: LIGHTS_OUT + 500, lastNow: LIGHTS_OUT + 100 }, due: [], missed: [] });
    expect(checkSchedules(campus, again.clock, LIGHTS_OUT + 900).due).toEqual([]);
  });

  it("counts from now on when the clock went back further than an hour (it was wrong before)", () => {
    const wrong = checkSchedules(campus, started, LIGHTS_OUT + 3 * CLOCK_BACK_LIMIT_MS).clock;
    const fixed = checkSchedules(campus, wrong, LIGHTS_OUT - 1_000);
    expect(fixed.clock.checkedUntil).toBe(LIGHTS_OUT - 1_000);
    expect(ids(checkSchedules(campus, fixed.clock, LIGHTS_OUT + 100), "due")).toEqual(["lights-out 2030-01-07"]);
  });
});

describe("a run's orders", () => {
  it("gives one order per device the schedule reaches, issued by schedule:{id}, with the run in words", () => {
    const [run] = checkSchedules(campus, startSchedules(campus, null, LIGHTS_OUT - 1).clock, LIGHTS_OUT).due;
    expect(runOrders(run!)).toEqual(
      ["brk-101", "brk-102"].map((device) => ({ device, action: "switch_off", by: "schedule:lights-out", reason: "Lights out (schedule lights-out, 2030-01-07 23:00 Asia/Shanghai)" })),
    );
  });
});

describe("schedule runs on the school calendar (CONTRACT §11)", () => {
  const withCalendar = parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [ { id: class-1, name: Class block, kind: classroom } ]
devices:
  - { id: brk-c1, kind: breaker, building: class-1, room: "101", rating_a: 16 }
schedules:
  - { id: class-off, name: Class block off, action: switch_off, at: "18:00", days: [mon, tue, wed, thu, fri, sat, sun], school_days_only: true, buildings: [class-1], kinds: [breaker] }
calendar:
  terms: [ { name: Autumn 2026, from: "2026-09-01", to: "2027-01-22" } ]
  holidays: [ { from: "2026-10-01", to: "2026-10-07" } ]
  workdays: [ "2026-10-10" ]
`);
  if (!withCalendar.ok) throw new Error(JSON.stringify(withCalendar.problems));
  const at18 = (date: string) => Date.parse(`${date}T10:00:00Z`); // 18:00 in Shanghai
  const runsOn = (date: string) => checkSchedules(withCalendar.campus, { checkedUntil: at18(date) - MIN, lastNow: at18(date) - MIN }, at18(date) + 5_000).due.map((r) => r.schedule.id);

  it("runs a school-days schedule on a school day, not on a holiday, and on a make-up Saturday", () => {
    expect(runsOn("2026-09-30")).toEqual(["class-off"]); // a Wednesday in term
    expect(runsOn("2026-10-05")).toEqual([]); // National Day holiday, a Monday
    expect(runsOn("2026-10-10")).toEqual(["class-off"]); // the make-up workday, a Saturday
    expect(runsOn("2026-10-11")).toEqual([]); // an ordinary Sunday
  });
});
