import { describe, expect, it } from "vitest";
import { type LiveChange, LiveState } from "../../../api/live-state.js";
import { buildingViews, deviceViews } from "../../../api/views.js";
import type { Alert } from "../../../domain/alert.js";
import { loadCampus } from "../../../infra/campus-file.js";

const campus = loadCampus("tests/fixtures/test-campus.yaml");
const alert: Alert = {
  id: "al-1", rule: "overload", device: "brk-d1-101", building: "dorm-1", site: "test-school", severity: "major", state: "firing",
  value: 17, threshold: 16, message: "m", started_at: "2026-11-29T00:00:00.000Z", updated_at: "2026-11-29T00:00:00.000Z",
};

function fresh() {
  const state = new LiveState(campus);
  const changes: LiveChange[] = [];
  state.onChange((c) => changes.push(c));
  return { state, changes };
}

describe("the live campus state", () => {
  it("shows a device never heard of as offline with no last_seen", () => {
    expect(new LiveState(campus).device("brk-d1-101")).toEqual({ latest: {}, ts: null, online: false, lastSeen: null });
  });

  it("takes online from the retained status and merges readings field by field", () => {
    const { state, changes } = fresh();
    state.applyMessage("campus/internal/status/brk-d1-101", JSON.stringify({ device: "brk-d1-101", ts: 1000, online: true }), 0, true);
    state.applyMessage("campus/internal/readings/brk-d1-101", JSON.stringify({ device: "brk-d1-101", ts: 2000, values: { power_w: 10, current_a: 1 } }), 0, true);
    state.applyMessage("campus/internal/readings/brk-d1-101", JSON.stringify({ device: "brk-d1-101", ts: 3000, values: { temperature_c: 30 }, phases: { L1: { power_w: 5 } } }), 0, true);
    expect(state.device("brk-d1-101")).toEqual({ latest: { power_w: 10, current_a: 1, temperature_c: 30, phases: { L1: { power_w: 5 } } }, ts: 3000, online: true, lastSeen: 3000 });
    expect(changes.map((c) => c.type)).toEqual(["status", "reading", "reading"]);
  });

  it("ignores an older reading (a buffered flush), unknown devices and garbage", () => {
    const { state, changes } = fresh();
    state.applyReading({ device: "brk-d1-101", ts: 5000, values: { power_w: 10 } });
    expect(state.applyReading({ device: "brk-d1-101", ts: 4000, values: { power_w: 99 } })).toBe(false);
    expect(state.applyMessage("campus/internal/readings/ghost", JSON.stringify({ device: "ghost", ts: 1, values: {} }), 0, true)).toBe(false);
    expect(state.applyMessage("campus/internal/readings/brk-d1-101", "not json", 0, true)).toBe(false);
    expect(state.device("brk-d1-101").latest).toEqual({ power_w: 10 });
    expect(changes).toHaveLength(1);
  });

  it("keeps open alerts from the retained topic and resolves them on an empty payload", () => {
    const { state, changes } = fresh();
    state.applyMessage("campus/alerts/brk-d1-101/overload", JSON.stringify(alert), 0, true);
    expect(state.openAlert("al-1")).toEqual(alert);
    state.applyMessage("campus/alerts/brk-d1-101/overload", "", Date.parse("2026-11-29T01:00:00Z"), true);
    expect(state.openAlerts()).toEqual([]);
    expect(changes.at(-1)).toEqual({ type: "alert", alert: { ...alert, state: "resolved", resolved_at: "2026-11-29T01:00:00.000Z" } });
    expect(state.applyMessage("campus/alerts/brk-d1-101/overload", "", 0, true)).toBe(false);
  });

  it("gives a retained alert from before alerts carried a site its device's site (CONTRACT §9)", () => {
    const { state } = fresh();
    const { site: _none, ...older } = alert;
    expect(state.applyMessage("campus/alerts/brk-d1-101/overload", JSON.stringify(older), 0, true)).toBe(true);
    expect(state.openAlert("al-1")).toEqual({ ...older, site: "test-school" });
  });

  it("announces a status only when it changes", () => {
    const { state, changes } = fresh();
    state.applyStatus({ device: "feeder-d1", ts: 1, online: true });
    state.applyStatus({ device: "feeder-d1", ts: 2, online: true });
    state.applyStatus({ device: "feeder-d1", ts: 3, online: false });
    expect(changes).toEqual([{ type: "status", device: "feeder-d1", online: true, ts: 1 }, { type: "status", device: "feeder-d1", online: false, ts: 3 }]);
    expect(state.device("feeder-d1").lastSeen).toBe(2);
  });

  it("keeps the number of devices online per site as their statuses change, each device once", () => {
    const { state } = fresh();
    const site = campus.site.id;
    const countOnline = () => campus.devices.filter((d) => state.device(d.id).online).length;
    expect(state.onlineIn(site)).toBe(0);
    const steps: [string, boolean][] = [["feeder-d1", true], ["brk-d1-101", true], ["feeder-d1", true], ["brk-d1-101", false], ["brk-d1-101", false], ["brk-d1-102", true]];
    steps.forEach(([device, online], i) => {
      state.applyStatus({ device, ts: i + 1, online });
      expect(state.onlineIn(site)).toBe(countOnline());
    });
    expect(state.onlineIn(site)).toBe(2);
    state.applyStatus({ device: "ghost", ts: 9, online: true });
    expect(state.onlineIn(site)).toBe(2);
    expect(state.onlineIn("another-site")).toBe(0);
  });
});

describe("building totals", () => {
  it("counts the highest online device of each branch once", () => {
    const state = new LiveState(campus);
    for (const [device, power_w] of [["feeder-d1", 1000], ["brk-d1-main", 990], ["brk-d1-101", 400], ["brk-d1-102", 500], ["plug-d1-101-a", 100]] as const) {
      state.applyStatus({ device, ts: 1, online: true });
      state.applyReading({ device, ts: 1, values: { power_w } });
    }
    expect(buildingViews(state)[0]).toMatchObject({ id: "dorm-1", power_w: 1000, devices_online: 5, devices_total: 5 });
  });

  it("descends to the children of an offline or silent device, and sums phases when there is no total", () => {
    const state = new LiveState(campus);
    state.applyStatus({ device: "feeder-d1", ts: 1, online: false });
    state.applyStatus({ device: "brk-d1-main", ts: 1, online: true });
    state.applyReading({ device: "brk-d1-main", ts: 1, values: {}, phases: { L1: { power_w: 100 }, L2: { power_w: 200 }, L3: { power_w: 300 } } });
    expect(buildingViews(state)[0]!.power_w).toBe(600);
    state.applyStatus({ device: "brk-d1-main", ts: 2, online: false });
    state.applyStatus({ device: "brk-d1-101", ts: 2, online: true });
    state.applyReading({ device: "brk-d1-101", ts: 2, values: { power_w: 42 } });
    expect(buildingViews(state)[0]!.power_w).toBe(42);
  });

  it("counts open alerts per device and per building", () => {
    const state = new LiveState(campus);
    state.applyAlert("brk-d1-101", "overload", alert, 0);
    expect(deviceViews(state).find((d) => d.id === "brk-d1-101")!.open_alerts).toBe(1);
    expect(buildingViews(state).map((b) => b.open_alerts)).toEqual([1, 0]);
  });

  it("keeps each device's open alerts counted as they open, repeat, close and are forgotten", () => {
    const state = new LiveState(campus);
    const count = () => deviceViews(state).find((d) => d.id === "brk-d1-101")!.open_alerts;
    state.applyAlert("brk-d1-101", "overload", alert, 0);
    state.applyAlert("brk-d1-101", "overload", { ...alert, value: 18 }, 0); // the same alert updated: still one
    expect(count()).toBe(1);
    state.applyAlert("brk-d1-101", "overtemperature", { ...alert, id: "al-2", rule: "overtemperature" }, 0);
    expect(count()).toBe(2);
    state.applyAlert("brk-d1-101", "overload", { ...alert, state: "resolved", resolved_at: "2026-11-29T01:00:00.000Z" }, 0);
    expect(count()).toBe(1);
    state.applyAlert("brk-d1-101", "overload", null, 0); // already closed: nothing to take away
    expect(count()).toBe(1);
    expect(state.openAlertsOf("brk-d1-101")).toBe(state.openAlerts().filter((a) => a.device === "brk-d1-101").length);
    state.forgetAlerts();
    expect(count()).toBe(0);
  });

  it("applies the ingest's reading batches in order and takes a per-device copy only as a starting state", () => {
    const { state, changes } = fresh();
    const r = (ts: number, power_w: number) => ({ device: "brk-d1-101", ts, values: { power_w } });
    const batch = [r(1000, 10), { device: "ghost", ts: 1000, values: {} }, r(2000, 20), { nope: 1 }];
    expect(state.applyMessage("campus/internal/readings-batch/campus-ingest", JSON.stringify(batch), 0, true)).toBe(true);
    expect(changes.map((c) => (c.type === "reading" ? c.reading.ts : null))).toEqual([1000, 2000]);
    expect(state.device("brk-d1-101").latest.power_w).toBe(20);
    // The ingest's copy of a device's latest reading, forwarded live: the batches carry it, even when it
    // overtakes its batch, so it changes nothing.
    expect(state.applyMessage("campus/internal/readings/brk-d1-101", JSON.stringify(r(3000, 30)), 0, false)).toBe(false);
    expect(changes).toHaveLength(2);
    // Handed over from the retained store (a subscription's starting state), an older one changes nothing
    // and a newer one is applied.
    expect(state.applyMessage("campus/internal/readings/brk-d1-101", JSON.stringify(r(1500, 15)), 0, true)).toBe(false);
    expect(state.applyMessage("campus/internal/readings/brk-d1-101", JSON.stringify(r(3000, 30)), 0, true)).toBe(true);
    expect(state.applyMessage("campus/internal/readings-batch/campus-ingest", "not json", 0, true)).toBe(false);
  });
});
